import CBackpropKernels

/// Stochastic gradient descent, with optional momentum, Nesterov momentum, weight decay and an
/// L1 penalty.
///
/// The update follows PyTorch's `torch.optim.SGD` (no dampening). With g = ∇w + λw + λ₁·sign(w)
/// (λ the weight decay, λ₁ the L1 penalty) and v the velocity, starting at v = g:
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
  /// The L1 penalty λ₁ added to each gradient as λ₁·sign(w) (the gradient of λ₁·Σ|w|).
  public let l1Penalty: Double
  private var velocities: [Tensor<Scalar>?]
  /// Whether each parameter has been updated: its first update starts the velocity at g.
  private var updated: [Bool]

  /// Creates the optimizer.
  ///
  /// - Throws: ``BackpropError/invalidArgument(name:detail:)`` for a negative or non-finite
  ///   learning rate, a momentum outside [0, 1), a negative weight decay or L1 penalty, or
  ///   Nesterov momentum without momentum.
  public init(
    parameters: [Variable<Scalar>], learningRate: Double, momentum: Double = 0,
    nesterov: Bool = false, weightDecay: Double = 0, l1Penalty: Double = 0
  ) throws {
    self.learningRate = try HyperParameter.learningRate(learningRate)
    self.momentum = try HyperParameter.decayRate(momentum, name: "momentum")
    self.weightDecay = try HyperParameter.nonNegative(weightDecay, name: "weight decay")
    self.l1Penalty = try HyperParameter.nonNegative(l1Penalty, name: "L1 penalty")
    if nesterov && momentum == 0 {
      throw BackpropError.invalidArgument(
        name: "Nesterov momentum", detail: "needs a momentum above 0")
    }
    self.nesterov = nesterov
    self.parameters = parameters
    self.velocities = Array(repeating: nil, count: parameters.count)
    self.updated = Array(repeating: false, count: parameters.count)
  }

  /// Sets the learning rate (for schedules).
  public func setLearningRate(_ learningRate: Double) throws {
    self.learningRate = try HyperParameter.learningRate(learningRate)
  }

  /// Applies one update to every trainable parameter that has a gradient, in place: no
  /// allocation after the first step.
  public func step() {
    for (index, parameter) in parameters.enumerated() {
      guard parameter.requiresGradient, let gradient = parameter.gradient else { continue }
      let isFirst = !updated[index]
      updated[index] = true
      var velocity = momentum > 0 ? velocities[index] ?? Tensor(zerosShapedLike: gradient) : nil
      velocities[index] = nil
      let rule = Rule(
        learningRate: learningRate, momentum: momentum, nesterov: nesterov,
        weightDecay: weightDecay, l1Penalty: l1Penalty, isFirst: isFirst)
      gradient.withUnsafeBufferPointer { gradient in
        parameter.value.withUnsafeMutableBufferPointer { weights in
          guard let w = weights.baseAddress, let g = gradient.baseAddress else { return }
          guard velocity != nil else { return rule.apply(w, g, nil, count: weights.count) }
          velocity?.withUnsafeMutableBufferPointer { v in
            rule.apply(w, g, v.baseAddress, count: weights.count)
          }
        }
      }
      velocities[index] = velocity
    }
  }

  /// Each parameter's `velocity` (absent before its first update, and without momentum) and
  /// `updated`: 1 once it has been updated (the first step sets v = g).
  public var state: OptimizerState {
    OptimizerState(
      kind: "SGD",
      parameters: zip(velocities, updated).map { velocity, updated in
        OptimizerState.Slot(
          buffers: velocity.map { ["velocity": $0.doubles] } ?? [:],
          numbers: ["updated": updated ? 1 : 0])
      })
  }

  /// Puts back the velocities of ``state``.
  public func restore(_ state: OptimizerState) throws {
    try state.check(kind: "SGD", parameters: parameters, buffers: ["velocity"])
    for (index, slot) in state.parameters.enumerated() {
      velocities[index] = slot.buffers["velocity"].map {
        Tensor(doubles: $0, shape: parameters[index].value.shape)
      }
      updated[index] = slot.numbers["updated"] == 1
    }
  }

  /// One parameter's update, with g = ∇w + λw + λ₁·sign(w): v ← μv + g (v = g at the first step), then
  /// w ← w − η(g + μv) (Nesterov), w ← w − ηv, or w ← w − ηg without momentum.
  private struct Rule {
    let learningRate, momentum: Double
    let nesterov: Bool
    let weightDecay, l1Penalty: Double
    let isFirst: Bool

    /// The update of `count` parameters, by the vectorized kernel of the scalar type.
    func apply<S: TensorScalar>(
      _ weights: UnsafeMutablePointer<S>, _ gradient: UnsafePointer<S>,
      _ velocity: UnsafeMutablePointer<S>?, count: Int
    ) {
      Kernels.forEachElementRange(count: count) { start, end in
        let n = end - start
        if S.self == Float.self {
          bp_sgd_f32(
            concrete(weights + start, as: Float.self), concrete(gradient + start, as: Float.self),
            velocity.map { concrete($0 + start, as: Float.self) }, n, Float(learningRate),
            Float(momentum), Float(weightDecay), Float(l1Penalty), nesterov, isFirst)
        } else {
          bp_sgd_f64(
            concrete(weights + start, as: Double.self),
            concrete(gradient + start, as: Double.self),
            velocity.map { concrete($0 + start, as: Double.self) }, n, learningRate, momentum,
            weightDecay, l1Penalty, nesterov, isFirst)
        }
      }
    }
  }

  /// The hyper-parameters, e.g. `SGD(learningRate: 0.5, momentum: 0.0, nesterov: false, weightDecay: 0.0)`.
  public var description: String {
    "SGD(learningRate: \(learningRate), momentum: \(momentum), nesterov: \(nesterov), "
      + "weightDecay: \(weightDecay)" + (l1Penalty == 0 ? "" : ", l1Penalty: \(l1Penalty)") + ")"
  }
}
