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
  public func tanh() -> Variable { activated(.tanh) }

  /// The logistic sigmoid of each element.
  public func sigmoid() -> Variable { activated(.sigmoid) }

  /// x for positive elements, `slope`·x for the others. The derivative at 0 is taken as `slope`.
  public func leakyRelu(slope: Scalar) -> Variable { activated(.leaky(slope: Double(slope))) }

  /// max(0, x) for each element (the derivative at 0 is taken as 0).
  public func relu() -> Variable { activated(.relu) }

  /// The activation of each element, recorded under the activation's operation name
  /// (`sigmoid`, `tanh`, `leakyRelu`), with the pullback of its one definition: the gradient
  /// times f′ read from the result.
  func activated(_ activation: ElementwiseActivation) -> Variable {
    let (input, result) = (value, value.activated(activation))
    return Variable.record(result, operation: activation.operation, inputs: [self]) { gradient in
      var local = gradient
      local.withUnsafeMutableBufferPointer { delta in
        result.withUnsafeBufferPointer { output in
          input.withUnsafeBufferPointer { input in
            guard let delta = delta.baseAddress, let output = output.baseAddress else { return }
            activation.multiplyByDerivative(
              delta, output: output, count: result.count, input: input.baseAddress)
          }
        }
      }
      return [local]
    }
  }

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
