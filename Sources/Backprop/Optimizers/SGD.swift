/// Stochastic gradient descent, with optional momentum, Nesterov momentum and weight decay.
///
/// The update follows PyTorch's `torch.optim.SGD` (no dampening). With g = ∇w + λw (λ the weight
/// decay) and v the velocity, starting at v = g:
///
///     v ← μ·v + g
///     w ← w − η·(g + μ·v)   (Nesterov)   or   w ← w − η·v   (classical)
///
/// With μ = 0 this is plain gradient descent, w ← w − η·g.
public final class SGD<Scalar: TensorScalar>: Optimizer {
  /// The parameters this optimizer updates.
  public let parameters: [Variable<Scalar>]
  /// The step size η.
  public private(set) var learningRate: Double
  /// The momentum μ in [0, 1).
  public let momentum: Double
  /// Whether the Nesterov form of momentum is used.
  public let nesterov: Bool
  /// The L2 penalty λ added to each gradient as λ·w.
  public let weightDecay: Double
  private var velocities: [Tensor<Scalar>?]

  /// Creates the optimizer.
  ///
  /// - Throws: ``BackpropError/invalidArgument(name:detail:)`` for a negative or non-finite
  ///   learning rate, a momentum outside [0, 1), a negative weight decay, or Nesterov momentum
  ///   without momentum.
  public init(
    parameters: [Variable<Scalar>], learningRate: Double, momentum: Double = 0,
    nesterov: Bool = false, weightDecay: Double = 0
  ) throws {
    self.learningRate = try HyperParameter.learningRate(learningRate)
    self.momentum = try HyperParameter.decayRate(momentum, name: "momentum")
    self.weightDecay = try HyperParameter.nonNegative(weightDecay, name: "weight decay")
    if nesterov && momentum == 0 {
      throw BackpropError.invalidArgument(
        name: "Nesterov momentum", detail: "needs a momentum above 0")
    }
    self.nesterov = nesterov
    self.parameters = parameters
    self.velocities = Array(repeating: nil, count: parameters.count)
  }

  /// Sets the learning rate (for schedules).
  public func setLearningRate(_ learningRate: Double) throws {
    self.learningRate = try HyperParameter.learningRate(learningRate)
  }

  /// Applies one update to every trainable parameter that has a gradient, in place: no
  /// allocation after the first step.
  public func step() {
    let (rate, mu, decay) = (Scalar(learningRate), Scalar(momentum), Scalar(weightDecay))
    for (index, parameter) in parameters.enumerated() {
      guard parameter.requiresGradient, let gradient = parameter.gradient else { continue }
      let isFirst = velocities[index] == nil
      if momentum > 0 && isFirst { velocities[index] = gradient.map { _ in 0 } }
      var velocity = velocities[index]
      velocities[index] = nil
      gradient.withUnsafeBufferPointer { gradient in
        parameter.value.withUnsafeMutableBufferPointer { weights in
          guard momentum > 0 else {
            for index in weights.indices {
              weights[index] -= rate * (gradient[index] + decay * weights[index])
            }
            return
          }
          velocity?.withUnsafeMutableBufferPointer { velocity in
            for index in weights.indices {
              let g = gradient[index] + decay * weights[index]
              // v starts at g, as in PyTorch.
              velocity[index] = isFirst ? g : mu * velocity[index] + g
              weights[index] -= rate * (nesterov ? g + mu * velocity[index] : velocity[index])
            }
          }
        }
      }
      velocities[index] = velocity
    }
  }

  /// The hyper-parameters, e.g. `SGD(learningRate: 0.5, momentum: 0.0, nesterov: false, weightDecay: 0.0)`.
  public var description: String {
    "SGD(learningRate: \(learningRate), momentum: \(momentum), nesterov: \(nesterov), "
      + "weightDecay: \(weightDecay))"
  }
}
