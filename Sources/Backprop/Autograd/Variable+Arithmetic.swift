/// Differentiable arithmetic. Each primitive's pullback sits right beside its forward
/// computation; the gradient of a broadcast operand is summed back to its own shape.
extension Variable {
  /// The elementwise sum, broadcasting as ``Tensor`` does.
  public static func + (lhs: Variable, rhs: Variable) throws -> Variable {
    let (lhsShape, rhsShape) = (lhs.shape, rhs.shape)
    return record(try lhs.value + rhs.value, operation: "add", inputs: [lhs, rhs]) { gradient in
      [
        lhs.requiresGradient ? gradient.sum(toShape: lhsShape) : nil,
        rhs.requiresGradient ? gradient.sum(toShape: rhsShape) : nil,
      ]
    }
  }

  /// The elementwise difference, broadcasting as ``Tensor`` does.
  public static func - (lhs: Variable, rhs: Variable) throws -> Variable {
    let (lhsShape, rhsShape) = (lhs.shape, rhs.shape)
    return record(try lhs.value - rhs.value, operation: "subtract", inputs: [lhs, rhs]) {
      gradient in
      [
        lhs.requiresGradient ? gradient.sum(toShape: lhsShape) : nil,
        rhs.requiresGradient ? (-gradient).sum(toShape: rhsShape) : nil,
      ]
    }
  }

  /// The elementwise product, broadcasting as ``Tensor`` does.
  public static func * (lhs: Variable, rhs: Variable) throws -> Variable {
    let (a, b) = (lhs.value, rhs.value)
    return record(try a * b, operation: "multiply", inputs: [lhs, rhs]) { gradient in
      [
        lhs.requiresGradient ? try (gradient * b).sum(toShape: a.shape) : nil,
        rhs.requiresGradient ? try (gradient * a).sum(toShape: b.shape) : nil,
      ]
    }
  }

  /// The elementwise quotient, broadcasting as ``Tensor`` does.
  public static func / (lhs: Variable, rhs: Variable) throws -> Variable {
    let (a, b) = (lhs.value, rhs.value)
    return record(try a / b, operation: "divide", inputs: [lhs, rhs]) { gradient in
      [
        lhs.requiresGradient ? try (gradient / b).sum(toShape: a.shape) : nil,
        // ∂(a/b)/∂b = −a/b²
        rhs.requiresGradient ? try (-(gradient * a) / (b * b)).sum(toShape: b.shape) : nil,
      ]
    }
  }

  /// Multiplies every element by a constant.
  public static func * (lhs: Variable, rhs: Scalar) -> Variable {
    record(lhs.value * rhs, operation: "scale", inputs: [lhs]) { gradient in [gradient * rhs] }
  }

  /// Adds a constant to every element.
  public static func + (lhs: Variable, rhs: Scalar) -> Variable {
    record(lhs.value + rhs, operation: "shift", inputs: [lhs]) { gradient in [gradient] }
  }

  /// Multiplies every element by a constant.
  public static func * (lhs: Scalar, rhs: Variable) -> Variable { rhs * lhs }
  /// Adds a constant to every element.
  public static func + (lhs: Scalar, rhs: Variable) -> Variable { rhs + lhs }
  /// Subtracts a constant from every element.
  public static func - (lhs: Variable, rhs: Scalar) -> Variable { lhs + (-rhs) }
  /// Subtracts every element from a constant.
  public static func - (lhs: Scalar, rhs: Variable) -> Variable { rhs * -1 + lhs }
  /// Divides every element by a constant.
  public static func / (lhs: Variable, rhs: Scalar) -> Variable { lhs * (1 / rhs) }
  /// Negates every element.
  public static prefix func - (operand: Variable) -> Variable { operand * -1 }

  /// Each element squared.
  public func squared() throws -> Variable { try self * self }
}
