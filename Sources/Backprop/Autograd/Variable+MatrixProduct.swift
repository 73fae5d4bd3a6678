/// The differentiable matrix product.
extension Variable {
  /// The matrix product op(self)·op(other), transposing either operand without a copy.
  ///
  /// With C = A·B the pullback is ∂A = ∂C·Bᵀ and ∂B = Aᵀ·∂C; the transposed variants follow by
  /// transposing those, and each is itself one product with transposed operands.
  public func matmul(
    _ other: Variable, transposingSelf transposeA: Bool = false,
    transposingOther transposeB: Bool = false
  ) throws -> Variable {
    let (a, b) = (value, other.value)
    let product = try a.matmul(b, transposingSelf: transposeA, transposingOther: transposeB)
    return Variable.record(product, operation: "matmul", inputs: [self, other]) {
      [lhs = self, rhs = other] gradient in
      let gradientA: Tensor<Scalar>? =
        switch (lhs.requiresGradient, transposeA, transposeB) {
        case (false, _, _): nil
        case (true, false, false): try gradient.matmul(b, transposingOther: true)
        case (true, false, true): try gradient.matmul(b)
        case (true, true, false): try b.matmul(gradient, transposingOther: true)
        case (true, true, true):
          try b.matmul(gradient, transposingSelf: true, transposingOther: true)
        }
      let gradientB: Tensor<Scalar>? =
        switch (rhs.requiresGradient, transposeA, transposeB) {
        case (false, _, _): nil
        case (true, false, false): try a.matmul(gradient, transposingSelf: true)
        case (true, false, true): try gradient.matmul(a, transposingSelf: true)
        case (true, true, false): try a.matmul(gradient)
        case (true, true, true):
          try gradient.matmul(a, transposingSelf: true, transposingOther: true)
        }
      return [gradientA, gradientB]
    }
  }
}
