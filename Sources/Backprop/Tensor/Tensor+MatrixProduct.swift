/// Matrix products, with either operand transposed without copying it.
extension Tensor {
  /// The matrix product op(self)·op(other), where op transposes when asked.
  ///
  /// Both operands must be matrices (rank 2). The product is computed by the scalar type's kernel
  /// (``TensorScalar/multiplyMatrices(_:transposeA:_:transposeB:into:m:n:k:scale:accumulate:)``).
  ///
  /// - Throws: ``BackpropError/shapeMismatch(operation:shapes:detail:)`` naming both shapes when
  ///   either is not a matrix or the inner dimensions differ.
  public func matmul(
    _ other: Tensor, transposingSelf transposeA: Bool = false,
    transposingOther transposeB: Bool = false
  ) throws -> Tensor {
    let operation =
      "matmul" + (transposeA ? " (left transposed)" : "")
      + (transposeB ? " (right transposed)" : "")
    guard rank == 2, other.rank == 2 else {
      throw BackpropError.shapeMismatch(
        operation: operation, shapes: [shape, other.shape], detail: "both operands must be matrices"
      )
    }
    let (m, k) = transposeA ? (shape[1], shape[0]) : (shape[0], shape[1])
    let (otherK, n) =
      transposeB ? (other.shape[1], other.shape[0]) : (other.shape[0], other.shape[1])
    guard k == otherK else {
      throw BackpropError.shapeMismatch(
        operation: operation, shapes: [shape, other.shape],
        detail: "the inner dimensions \(k) and \(otherK) differ")
    }
    let result = TensorStorage<Scalar>(uninitializedCount: m * n)
    withExtendedLifetime((self, other)) {
      Scalar.multiplyMatrices(
        storage.base, transposeA: transposeA, other.storage.base, transposeB: transposeB,
        into: result.base, m: m, n: n, k: k, scale: 1, accumulate: false)
    }
    return Tensor(shape: [m, n], storage: result)
  }
}
