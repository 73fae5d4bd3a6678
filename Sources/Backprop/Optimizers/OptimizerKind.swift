/// The optimizers by the names that spec files, the command line and the playground use.
public enum OptimizerKind: String, Sendable, Codable, CaseIterable {
  /// ``SGD``: plain gradient descent, with optional momentum.
  case sgd
  /// ``Adam``.
  case adam

  /// The learning rate used when none is given: 0.01 for SGD, PyTorch's 0.001 for Adam.
  public var defaultLearningRate: Double { self == .adam ? 0.001 : 0.01 }

  /// Reads a name, ignoring case.
  ///
  /// - Throws: ``BackpropError/invalidArgument(name:detail:)`` listing the names for any other.
  public init(named name: String) throws {
    guard let kind = OptimizerKind(rawValue: name.lowercased()) else {
      throw BackpropError.invalidArgument(
        name: "optimizer '\(name)'",
        detail: "choose one of \(Self.allCases.map(\.rawValue).joined(separator: ", "))")
    }
    self = kind
  }

  /// The optimizer of `parameters`; `momentum` applies to SGD only. `weightDecay` is the L2
  /// penalty λ (λ·w added to each gradient), `l1Penalty` the L1 one (λ₁·sign(w)).
  ///
  /// - Throws: ``BackpropError/invalidArgument(name:detail:)`` for hyperparameters the optimizer
  ///   refuses.
  public func make<Scalar: TensorScalar>(
    parameters: [Variable<Scalar>], learningRate: Double, momentum: Double = 0,
    weightDecay: Double = 0, l1Penalty: Double = 0
  ) throws -> any Optimizer<Scalar> {
    switch self {
    case .sgd:
      try SGD(
        parameters: parameters, learningRate: learningRate, momentum: momentum,
        weightDecay: weightDecay, l1Penalty: l1Penalty)
    case .adam:
      try Adam(
        parameters: parameters, learningRate: learningRate, weightDecay: weightDecay,
        l1Penalty: l1Penalty)
    }
  }
}
