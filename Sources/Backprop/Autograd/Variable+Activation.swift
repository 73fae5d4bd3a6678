/// Differentiable elementwise functions and the log-softmax.
///
/// Each pullback uses the forward result where that is cheaper: (eˣ)' = eˣ, tanh' = 1 − tanh²,
/// σ' = σ(1 − σ).
extension Variable {
  /// e raised to each element.
  public func exp() -> Variable {
    let result = value.exp()
    return Variable.record(result, operation: "exp", inputs: [self]) { gradient in
      [Tensor.zipElements(gradient, result, *)]
    }
  }

  /// The natural logarithm of each element.
  public func log() -> Variable {
    let input = value
    return Variable.record(input.log(), operation: "log", inputs: [self]) { gradient in
      [Tensor.zipElements(gradient, input, /)]
    }
  }

  /// The hyperbolic tangent of each element.
  public func tanh() -> Variable {
    let result = value.tanh()
    return Variable.record(result, operation: "tanh", inputs: [self]) { gradient in
      [Tensor.zipElements(gradient, result) { g, y in g * (1 - y * y) }]
    }
  }

  /// The logistic sigmoid of each element.
  public func sigmoid() -> Variable {
    let result = value.sigmoid()
    return Variable.record(result, operation: "sigmoid", inputs: [self]) { gradient in
      [Tensor.zipElements(gradient, result) { g, y in g * y * (1 - y) }]
    }
  }

  /// x for positive elements, `slope`·x for the others. The derivative at 0 is taken as `slope`.
  public func leakyRelu(slope: Scalar) -> Variable {
    let input = value
    return Variable.record(input.leakyRelu(slope: slope), operation: "leakyRelu", inputs: [self]) {
      gradient in [Tensor.zipElements(gradient, input) { g, x in x > 0 ? g : slope * g }]
    }
  }

  /// max(0, x) for each element (the derivative at 0 is taken as 0).
  public func relu() -> Variable { leakyRelu(slope: 0) }

  /// The log-softmax along `axis`, stable for any finite input.
  ///
  /// With y = x − log Σ eˣ, the pullback is ∂x = ∂y − softmax(x) · Σ ∂y along the axis.
  public func logSoftmax(alongAxis axis: Int = -1) throws -> Variable {
    let result = try value.logSoftmax(alongAxis: axis)
    return Variable.record(result, operation: "logSoftmax", inputs: [self]) { gradient in
      let totals = try gradient.sum(alongAxis: axis, keepingDimension: true)
      return [try gradient - result.exp() * totals]
    }
  }

  /// The softmax along `axis`, computed as exp(logSoftmax) so that it never overflows.
  public func softmax(alongAxis axis: Int = -1) throws -> Variable {
    try logSoftmax(alongAxis: axis).exp()
  }
}
