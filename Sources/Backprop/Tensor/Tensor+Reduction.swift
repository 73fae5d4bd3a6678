/// Sums, means and maxima over all elements or along one axis.
extension Tensor {
  /// A reduction axis seen as `[outer, length, inner]`: the elements before it, along it and after
  /// it in row-major order.
  struct AxisLayout {
    let axis: Int
    let outer: Int
    let length: Int
    let inner: Int

    /// The shape left after reducing the axis away (or keeping it as 1).
    func reducedShape(of shape: [Int], keepingDimension: Bool) -> [Int] {
      var result = shape
      if keepingDimension { result[axis] = 1 } else { result.remove(at: axis) }
      return result
    }
  }

  /// Resolves `axis` (negative counts from the end) against this tensor's rank.
  func layout(alongAxis axis: Int, operation: String) throws -> AxisLayout {
    let resolved = axis < 0 ? axis + rank : axis
    guard (0..<rank).contains(resolved) else {
      throw BackpropError.invalidArgument(
        name: "axis \(axis) of \(operation)",
        detail: "a tensor of shape \(BackpropError.format(shape)) has axes 0..<\(rank)")
    }
    return AxisLayout(
      axis: resolved,
      outer: shape[..<resolved].reduce(1, *),
      length: shape[resolved],
      inner: shape[(resolved + 1)...].reduce(1, *))
  }

  /// Folds each line along an axis into one value.
  func reduce(
    _ layout: AxisLayout, keepingDimension: Bool,
    _ body: (UnsafePointer<Scalar>, _ stride: Int, _ length: Int) -> Scalar
  ) -> Tensor {
    withExtendedLifetime(self) {
      Tensor(validShape: layout.reducedShape(of: shape, keepingDimension: keepingDimension)) {
        target in
        for outer in 0..<layout.outer {
          for inner in 0..<layout.inner {
            let start = UnsafePointer(storage.base) + outer * layout.length * layout.inner + inner
            target[outer * layout.inner + inner] = body(start, layout.inner, layout.length)
          }
        }
      }
    }
  }

  /// The sum of all elements, as a rank-0 tensor.
  public func sum() -> Tensor {
    Tensor(withUnsafeBufferPointer { $0.reduce(0, +) })
  }

  /// The sums along `axis`; the axis is removed unless `keepingDimension` is true.
  public func sum(alongAxis axis: Int, keepingDimension: Bool = false) throws -> Tensor {
    let layout = try layout(alongAxis: axis, operation: "sum")
    return reduce(layout, keepingDimension: keepingDimension) { start, stride, length in
      var total: Scalar = 0
      for index in 0..<length { total += start[index * stride] }
      return total
    }
  }

  /// The mean of all elements, as a rank-0 tensor (NaN for an empty tensor).
  public func mean() -> Tensor {
    sum() / Scalar(count)
  }

  /// The means along `axis`; the axis is removed unless `keepingDimension` is true.
  public func mean(alongAxis axis: Int, keepingDimension: Bool = false) throws -> Tensor {
    let length = try layout(alongAxis: axis, operation: "mean").length
    return try sum(alongAxis: axis, keepingDimension: keepingDimension) / Scalar(length)
  }

  /// The largest element, as a rank-0 tensor.
  ///
  /// - Throws: ``BackpropError/invalidShape(shape:detail:)`` for an empty tensor.
  public func max() throws -> Tensor {
    guard count > 0 else {
      throw BackpropError.invalidShape(shape: shape, detail: "max() of an empty tensor")
    }
    return Tensor(withUnsafeBufferPointer { $0.dropFirst().reduce($0[0]) { Swift.max($0, $1) } })
  }

  /// The maxima along `axis`; the axis is removed unless `keepingDimension` is true.
  public func max(alongAxis axis: Int, keepingDimension: Bool = false) throws -> Tensor {
    let layout = try layout(alongAxis: axis, operation: "max")
    guard layout.length > 0 else {
      throw BackpropError.invalidShape(shape: shape, detail: "max along an empty axis \(axis)")
    }
    return reduce(layout, keepingDimension: keepingDimension) { start, stride, length in
      var best = start[0]
      for index in 1..<Swift.max(length, 1) { best = Swift.max(best, start[index * stride]) }
      return best
    }
  }

  /// The index of the first largest element along `axis`, for each line along it, in row-major
  /// order of the remaining axes (for a matrix and axis -1: the predicted class of each row).
  public func argmax(alongAxis axis: Int = -1) throws -> [Int] {
    let layout = try layout(alongAxis: axis, operation: "argmax")
    guard layout.length > 0 else {
      throw BackpropError.invalidShape(shape: shape, detail: "argmax along an empty axis \(axis)")
    }
    return reduce(layout, keepingDimension: false) { start, stride, length in
      var best = 0
      for index in 1..<Swift.max(length, 1) where start[index * stride] > start[best * stride] {
        best = index
      }
      return Scalar(best)
    }.scalars.map { Int($0) }
  }
}
