/// Elementwise arithmetic with broadcasting.
///
/// `+ - * /` between two tensors broadcast as NumPy does (a row vector over a matrix adds a bias
/// to every row) and throw ``BackpropError/shapeMismatch(operation:shapes:detail:)`` naming both
/// shapes when they cannot. With a scalar on either side they never fail.
extension Tensor {
  /// Applies `transform` to every element.
  @inlinable
  public func map(_ transform: (Scalar) throws -> Scalar) rethrows -> Tensor {
    try withUnsafeBufferPointer { source in
      try Tensor(validShape: shape) { target in
        for index in source.indices { target[index] = try transform(source[index]) }
      }
    }
  }

  /// Combines two tensors of the same shape element by element (no broadcasting); the caller
  /// guarantees the shapes match.
  @inlinable
  static func zipElements(_ lhs: Tensor, _ rhs: Tensor, _ combine: (Scalar, Scalar) -> Scalar)
    -> Tensor
  {
    assert(lhs.shape == rhs.shape, "zipElements needs equal shapes")
    return lhs.withUnsafeBufferPointer { a in
      rhs.withUnsafeBufferPointer { b in
        Tensor(validShape: lhs.shape) { target in
          for index in target.indices { target[index] = combine(a[index], b[index]) }
        }
      }
    }
  }

  /// Combines two tensors element by element after broadcasting them to a common shape.
  static func broadcasting(
    _ lhs: Tensor, _ rhs: Tensor, operation: String, _ combine: (Scalar, Scalar) -> Scalar
  ) throws -> Tensor {
    if lhs.shape == rhs.shape { return zipElements(lhs, rhs, combine) }
    let shape = try broadcastShape(lhs.shape, rhs.shape, operation: operation)
    let strides = [
      broadcastStrides(of: lhs.shape, in: shape), broadcastStrides(of: rhs.shape, in: shape),
    ]
    return lhs.withUnsafeBufferPointer { a in
      rhs.withUnsafeBufferPointer { b in
        Tensor(validShape: shape) { target in
          var targetOffset = 0
          forEachRun(shape: shape, strides: strides) { offsets, length, steps in
            var (aOffset, bOffset) = (offsets[0], offsets[1])
            for _ in 0..<length {
              target[targetOffset] = combine(a[aOffset], b[bOffset])
              targetOffset += 1
              aOffset += steps[0]
              bOffset += steps[1]
            }
          }
        }
      }
    }
  }

  /// The elementwise sum, broadcasting as needed.
  public static func + (lhs: Tensor, rhs: Tensor) throws -> Tensor {
    try broadcasting(lhs, rhs, operation: "add", +)
  }

  /// The elementwise difference, broadcasting as needed.
  public static func - (lhs: Tensor, rhs: Tensor) throws -> Tensor {
    try broadcasting(lhs, rhs, operation: "subtract", -)
  }

  /// The elementwise product, broadcasting as needed.
  public static func * (lhs: Tensor, rhs: Tensor) throws -> Tensor {
    try broadcasting(lhs, rhs, operation: "multiply", *)
  }

  /// The elementwise quotient, broadcasting as needed.
  public static func / (lhs: Tensor, rhs: Tensor) throws -> Tensor {
    try broadcasting(lhs, rhs, operation: "divide", /)
  }

  /// Adds a scalar to every element.
  public static func + (lhs: Tensor, rhs: Scalar) -> Tensor { lhs.map { $0 + rhs } }
  /// Adds a scalar to every element.
  public static func + (lhs: Scalar, rhs: Tensor) -> Tensor { rhs.map { lhs + $0 } }
  /// Subtracts a scalar from every element.
  public static func - (lhs: Tensor, rhs: Scalar) -> Tensor { lhs.map { $0 - rhs } }
  /// Subtracts every element from a scalar.
  public static func - (lhs: Scalar, rhs: Tensor) -> Tensor { rhs.map { lhs - $0 } }
  /// Multiplies every element by a scalar.
  public static func * (lhs: Tensor, rhs: Scalar) -> Tensor { lhs.map { $0 * rhs } }
  /// Multiplies every element by a scalar.
  public static func * (lhs: Scalar, rhs: Tensor) -> Tensor { rhs.map { lhs * $0 } }
  /// Divides every element by a scalar.
  public static func / (lhs: Tensor, rhs: Scalar) -> Tensor { lhs.map { $0 / rhs } }
  /// Divides a scalar by every element.
  public static func / (lhs: Scalar, rhs: Tensor) -> Tensor { rhs.map { lhs / $0 } }
  /// Negates every element.
  public static prefix func - (operand: Tensor) -> Tensor { operand.map { -$0 } }

  /// Adds `other` (same shape) into this tensor in place, without allocating when the buffer is
  /// not shared.
  mutating func addInPlace(_ other: Tensor) {
    assert(shape == other.shape, "addInPlace needs equal shapes")
    other.withUnsafeBufferPointer { source in
      withUnsafeMutableBufferPointer { target in
        for index in target.indices { target[index] += source[index] }
      }
    }
  }
}
