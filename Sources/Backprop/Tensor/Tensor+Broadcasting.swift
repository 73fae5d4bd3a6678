/// NumPy broadcasting: shapes are aligned at their last dimension, and a dimension of size 1 (or a
/// missing leading dimension) stretches to match the other operand.
extension Tensor {
  /// The shape that `lhs` and `rhs` broadcast to.
  ///
  /// - Throws: ``BackpropError/shapeMismatch(operation:shapes:detail:)`` naming both shapes.
  static func broadcastShape(_ lhs: [Int], _ rhs: [Int], operation: String) throws -> [Int] {
    let rank = Swift.max(lhs.count, rhs.count)
    var result = [Int](repeating: 1, count: rank)
    for axis in 0..<rank {
      let left = axis < rank - lhs.count ? 1 : lhs[axis - (rank - lhs.count)]
      let right = axis < rank - rhs.count ? 1 : rhs[axis - (rank - rhs.count)]
      if left == right || right == 1 {
        result[axis] = left
      } else if left == 1 {
        result[axis] = right
      } else {
        throw BackpropError.shapeMismatch(
          operation: operation, shapes: [lhs, rhs],
          detail: "dimension \(left) cannot broadcast against \(right) "
            + "(sizes must match, or one of them be 1)")
      }
    }
    return result
  }

  /// Row-major strides of `shape` seen from a broadcast shape of higher or equal rank; a stride is
  /// 0 where the dimension is broadcast.
  static func broadcastStrides(of shape: [Int], in target: [Int]) -> [Int] {
    var strides = [Int](repeating: 0, count: target.count)
    var step = 1
    for axis in stride(from: shape.count - 1, through: 0, by: -1) {
      let targetAxis = axis + target.count - shape.count
      strides[targetAxis] = shape[axis] == 1 ? 0 : step
      step *= shape[axis]
    }
    return strides
  }

  /// Visits every element of `shape` in row-major order with its offsets into operands laid out
  /// with `strides`, one contiguous run of the last dimension at a time.
  ///
  /// `body(offsets, runLength, runStrides)` gets the starting offset of each operand for a run of
  /// `runLength` elements along the last axis, and each operand's stride along that axis.
  @inline(__always)
  static func forEachRun(
    shape: [Int], strides: [[Int]],
    _ body: (_ offsets: [Int], _ length: Int, _ steps: [Int]) -> Void
  ) {
    let count = shape.reduce(1, *)
    guard count > 0 else { return }
    guard let last = shape.last else {
      body([Int](repeating: 0, count: strides.count), 1, [Int](repeating: 0, count: strides.count))
      return
    }
    let steps = strides.map { $0[shape.count - 1] }
    var index = [Int](repeating: 0, count: shape.count)
    var offsets = [Int](repeating: 0, count: strides.count)
    var remaining = count / Swift.max(last, 1)
    while remaining > 0 {
      body(offsets, last, steps)
      remaining -= 1
      // Advance the odometer over every axis but the last.
      var axis = shape.count - 2
      while axis >= 0 {
        index[axis] += 1
        for operand in offsets.indices { offsets[operand] += strides[operand][axis] }
        if index[axis] < shape[axis] { break }
        for operand in offsets.indices { offsets[operand] -= strides[operand][axis] * shape[axis] }
        index[axis] = 0
        axis -= 1
      }
    }
  }

  /// Sums this tensor down to `target`, a shape it was broadcast from: the reverse of
  /// broadcasting, which is what the gradient of a broadcast operand needs.
  func sum(toShape target: [Int]) -> Tensor {
    if shape == target { return self }
    let strides = [
      Self.broadcastStrides(of: target, in: shape),
      Self.broadcastStrides(of: shape, in: shape),
    ]
    let result = Tensor(validShape: target) { $0.initialize(repeating: 0) }
    let resultBase = result.storage.base
    withUnsafeBufferPointer { source in
      Self.forEachRun(shape: shape, strides: strides) { offsets, length, steps in
        var targetOffset = offsets[0]
        var sourceOffset = offsets[1]
        for _ in 0..<length {
          resultBase[targetOffset] += source[sourceOffset]
          targetOffset += steps[0]
          sourceOffset += steps[1]
        }
      }
    }
    return result
  }
}

extension Tensor {
  /// This tensor stretched to `target`, a shape it broadcasts to.
  func broadcasted(to target: [Int]) throws -> Tensor {
    if shape == target { return self }
    let common = try Self.broadcastShape(shape, target, operation: "broadcast")
    guard common == target else {
      throw BackpropError.shapeMismatch(
        operation: "broadcast", shapes: [shape, target],
        detail: "the first cannot stretch to the second")
    }
    let strides = [Self.broadcastStrides(of: shape, in: target)]
    return withUnsafeBufferPointer { source in
      Tensor(validShape: target) { buffer in
        var offset = 0
        Self.forEachRun(shape: target, strides: strides) { offsets, length, steps in
          var sourceOffset = offsets[0]
          for _ in 0..<length {
            buffer[offset] = source[sourceOffset]
            offset += 1
            sourceOffset += steps[0]
          }
        }
      }
    }
  }
}
