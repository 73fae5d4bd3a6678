/// Adam (Kingma and Ba, 2015): per-parameter step sizes from running moments of the gradient.
///
/// The update follows PyTorch's `torch.optim.Adam`. With g = ∇w + λw and step count t:
///
///     m ← β₁·m + (1 − β₁)·g        v ← β₂·v + (1 − β₂)·g²
///     w ← w − η · (m / (1 − β₁ᵗ)) / (√(v / (1 − β₂ᵗ)) + ε)
public final class Adam<Scalar: TensorScalar>: Optimizer {
  /// The parameters this optimizer updates.
  public let parameters: [Variable<Scalar>]
  /// The step size η.
  public private(set) var learningRate: Double
  /// The decay rate β₁ of the first moment.
  public let beta1: Double
  /// The decay rate β₂ of the second moment.
  public let beta2: Double
  /// The term ε added to the denominator.
  public let epsilon: Double
  /// The L2 penalty λ added to each gradient as λ·w.
  public let weightDecay: Double
  // β₁ᵗ and β₂ᵗ are kept as running products: exact to rounding and the same on every platform.
  private var moments:
    [(first: Tensor<Scalar>, second: Tensor<Scalar>, beta1Power: Double, beta2Power: Double)?]

  /// Creates the optimizer with PyTorch's defaults.
  ///
  /// - Throws: ``BackpropError/invalidArgument(name:detail:)`` for a negative or non-finite
  ///   learning rate, a β outside [0, 1), an ε that is not positive, or a negative weight decay.
  public init(
    parameters: [Variable<Scalar>], learningRate: Double = 0.001, beta1: Double = 0.9,
    beta2: Double = 0.999, epsilon: Double = 1e-8, weightDecay: Double = 0
  ) throws {
    self.learningRate = try HyperParameter.learningRate(learningRate)
    self.beta1 = try HyperParameter.decayRate(beta1, name: "beta1")
    self.beta2 = try HyperParameter.decayRate(beta2, name: "beta2")
    guard epsilon > 0, epsilon.isFinite else {
      throw BackpropError.invalidArgument(name: "epsilon", detail: "\(epsilon) must be positive")
    }
    self.epsilon = epsilon
    self.weightDecay = try HyperParameter.nonNegative(weightDecay, name: "weight decay")
    self.parameters = parameters
    self.moments = Array(repeating: nil, count: parameters.count)
  }

  /// Sets the learning rate (for schedules).
  public func setLearningRate(_ learningRate: Double) throws {
    self.learningRate = try HyperParameter.learningRate(learningRate)
  }

  /// Applies one update to every trainable parameter that has a gradient.
  public func step() {
    let (b1, b2) = (Scalar(beta1), Scalar(beta2))
    for (index, parameter) in parameters.enumerated() {
      guard let gradient = parameter.trainableGradient(weightDecay: Scalar(weightDecay)) else {
        continue
      }
      let previous = moments[index] ?? (gradient.map { _ in 0 }, gradient.map { _ in 0 }, 1, 1)
      let first = Tensor.zipElements(previous.first, gradient) { m, g in b1 * m + (1 - b1) * g }
      let second = Tensor.zipElements(previous.second, gradient) { v, g in b2 * v + (1 - b2) * g * g
      }
      let (beta1Power, beta2Power) = (previous.beta1Power * beta1, previous.beta2Power * beta2)
      moments[index] = (first, second, beta1Power, beta2Power)
      let firstCorrection = Scalar(1 - beta1Power)
      let secondCorrection = Scalar(1 - beta2Power)
      let (rate, eps) = (Scalar(learningRate), Scalar(epsilon))
      first.withUnsafeBufferPointer { m in
        second.withUnsafeBufferPointer { v in
          parameter.value.withUnsafeMutableBufferPointer { weights in
            for index in weights.indices {
              let denominator = (v[index] / secondCorrection).squareRoot() + eps
              weights[index] -= rate * (m[index] / firstCorrection) / denominator
            }
          }
        }
      }
    }
  }

  /// The hyper-parameters.
  public var description: String {
    "Adam(learningRate: \(learningRate), beta1: \(beta1), beta2: \(beta2), epsilon: \(epsilon), "
      + "weightDecay: \(weightDecay))"
  }
}
