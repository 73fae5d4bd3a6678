import CBackpropKernels

/// Adam (Kingma and Ba, 2015): per-parameter step sizes from running moments of the gradient.
///
/// The update follows PyTorch's `torch.optim.Adam`. With g = ∇w + λw + λ₁·sign(w) (λ the weight
/// decay, λ₁ the L1 penalty) and step count t:
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
  /// The L1 penalty λ₁ added to each gradient as λ₁·sign(w) (the gradient of λ₁·Σ|w|).
  public let l1Penalty: Double
  /// Each parameter's moments m and v, made at its first update.
  private var moments: [(first: Tensor<Scalar>, second: Tensor<Scalar>)?]
  /// β₁ᵗ and β₂ᵗ for each parameter, kept as running products: exact to rounding and the same
  /// on every platform.
  private var powers: [(beta1: Double, beta2: Double)]

  /// Creates the optimizer with PyTorch's defaults.
  ///
  /// - Throws: ``BackpropError/invalidArgument(name:detail:)`` for a negative or non-finite
  ///   learning rate, a β outside [0, 1), an ε that is not positive, or a negative weight decay
  ///   or L1 penalty.
  public init(
    parameters: [Variable<Scalar>], learningRate: Double = 0.001, beta1: Double = 0.9,
    beta2: Double = 0.999, epsilon: Double = 1e-8, weightDecay: Double = 0, l1Penalty: Double = 0
  ) throws {
    self.learningRate = try HyperParameter.learningRate(learningRate)
    self.beta1 = try HyperParameter.decayRate(beta1, name: "beta1")
    self.beta2 = try HyperParameter.decayRate(beta2, name: "beta2")
    guard epsilon > 0, epsilon.isFinite else {
      throw BackpropError.invalidArgument(name: "epsilon", detail: "\(epsilon) must be positive")
    }
    self.epsilon = epsilon
    self.weightDecay = try HyperParameter.nonNegative(weightDecay, name: "weight decay")
    self.l1Penalty = try HyperParameter.nonNegative(l1Penalty, name: "L1 penalty")
    self.parameters = parameters
    self.moments = Array(repeating: nil, count: parameters.count)
    self.powers = Array(repeating: (1, 1), count: parameters.count)
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
      var (first, second) =
        moments[index]
        ?? (Tensor(zerosShapedLike: gradient), Tensor(zerosShapedLike: gradient))
      moments[index] = nil
      powers[index] = (powers[index].beta1 * beta1, powers[index].beta2 * beta2)
      let rule = Rule(
        beta1: beta1, beta2: beta2, weightDecay: weightDecay, l1Penalty: l1Penalty,
        learningRate: learningRate,
        epsilon: epsilon, firstCorrection: 1 - powers[index].beta1,
        secondCorrection: 1 - powers[index].beta2)
      gradient.withUnsafeBufferPointer { gradient in
        parameter.value.withUnsafeMutableBufferPointer { weights in
          first.withUnsafeMutableBufferPointer { m in
            second.withUnsafeMutableBufferPointer { v in
              guard let w = weights.baseAddress, let m = m.baseAddress, let v = v.baseAddress,
                let g = gradient.baseAddress
              else { return }
              rule.apply(w, g, m, v, count: weights.count)
            }
          }
        }
      }
      moments[index] = (first, second)
    }
  }

  /// Each parameter's moments `m` and `v` (absent before its first update) and the running
  /// powers `beta1Power` (β₁ᵗ) and `beta2Power` (β₂ᵗ).
  public var state: OptimizerState {
    OptimizerState(
      kind: "Adam",
      parameters: zip(moments, powers).map { moment, power in
        OptimizerState.Slot(
          buffers: moment.map { ["m": $0.first.doubles, "v": $0.second.doubles] } ?? [:],
          numbers: ["beta1Power": power.beta1, "beta2Power": power.beta2])
      })
  }

  /// Puts back the moments and powers of ``state``.
  public func restore(_ state: OptimizerState) throws {
    try state.check(kind: "Adam", parameters: parameters, buffers: ["m", "v"])
    for (index, slot) in state.parameters.enumerated() {
      let shape = parameters[index].value.shape
      if let m = slot.buffers["m"], let v = slot.buffers["v"] {
        moments[index] = (Tensor(doubles: m, shape: shape), Tensor(doubles: v, shape: shape))
      } else {
        moments[index] = nil
      }
      powers[index] = (slot.numbers["beta1Power"] ?? 1, slot.numbers["beta2Power"] ?? 1)
    }
  }

  /// One parameter's update, with g = ∇w + λw + λ₁·sign(w):
  /// m ← β₁m + (1 − β₁)g, v ← β₂v + (1 − β₂)g², w ← w − η(m/c₁)/(√(v/c₂) + ε).
  private struct Rule {
    let beta1, beta2, weightDecay, l1Penalty, learningRate, epsilon: Double
    let firstCorrection, secondCorrection: Double

    /// The update of `count` parameters, by the vectorized kernel of the scalar type.
    func apply<S: TensorScalar>(
      _ weights: UnsafeMutablePointer<S>, _ gradient: UnsafePointer<S>,
      _ m: UnsafeMutablePointer<S>, _ v: UnsafeMutablePointer<S>, count: Int
    ) {
      Kernels.forEachElementRange(count: count) { start, end in
        let n = end - start
        if S.self == Float.self {
          bp_adam_f32(
            concrete(weights + start, as: Float.self), concrete(gradient + start, as: Float.self),
            concrete(m + start, as: Float.self), concrete(v + start, as: Float.self), n,
            Float(beta1), Float(beta2), Float(weightDecay), Float(l1Penalty), Float(learningRate),
            Float(epsilon),
            Float(firstCorrection), Float(secondCorrection))
        } else {
          bp_adam_f64(
            concrete(weights + start, as: Double.self),
            concrete(gradient + start, as: Double.self), concrete(m + start, as: Double.self),
            concrete(v + start, as: Double.self), n, beta1, beta2, weightDecay, l1Penalty,
            learningRate, epsilon, firstCorrection, secondCorrection)
        }
      }
    }
  }

  /// The hyper-parameters.
  public var description: String {
    "Adam(learningRate: \(learningRate), beta1: \(beta1), beta2: \(beta2), epsilon: \(epsilon), "
      + "weightDecay: \(weightDecay)" + (l1Penalty == 0 ? "" : ", l1Penalty: \(l1Penalty)") + ")"
  }
}
