/// The activation functions by the names that spec files and the command line use.
public enum ActivationFunction: String, Sendable, Codable, CaseIterable {
  /// ``Sigmoid``.
  case sigmoid
  /// ``Tanh``.
  case tanh
  /// ``ReLU``.
  case relu
  /// ``LeakyReLU`` with slope 0.01.
  case leakyRelu = "leaky-relu"
  /// ``Identity`` (a linear network).
  case identity

  /// The activation as a layer.
  public func makeLayer<Scalar: TensorScalar>(as type: Scalar.Type = Scalar.self) -> any Layer<
    Scalar
  > {
    switch self {
    case .sigmoid: Sigmoid<Scalar>()
    case .tanh: Tanh<Scalar>()
    case .relu: ReLU<Scalar>()
    case .leakyRelu: LeakyReLU<Scalar>()
    case .identity: Identity<Scalar>()
    }
  }

  /// The weight initialization that keeps signals at a steady scale through this activation:
  /// He (Kaiming) uniform for the ReLU family, Xavier (Glorot) uniform otherwise.
  public var suitableInitializer: Initializer {
    self == .relu || self == .leakyRelu ? .heUniform : .xavierUniform
  }
}

extension Sequential {
  /// A multilayer perceptron: `Linear` layers between consecutive `sizes`, each hidden one
  /// followed by `activation` (and ``Dropout`` when `dropout` > 0); the last `Linear` has no
  /// activation, so it gives logits for classification and values for regression.
  ///
  /// Weights use the initializer that suits `activation`, biases start at zero, and everything
  /// random is drawn from `seed`. For the binary cross-entropy `loss`, which takes
  /// probabilities, the network ends in a ``Sigmoid``.
  ///
  /// - Throws: ``BackpropError/invalidArgument(name:detail:)`` for fewer than two sizes, a size
  ///   that is not positive, or a dropout rate outside [0, 1).
  public static func perceptron(
    sizes: [Int], activation: ActivationFunction = .relu, dropout: Double = 0, seed: UInt64 = 0,
    loss: LossFunction? = nil
  ) throws -> Sequential {
    try perceptron(
      sizes: sizes, activations: Array(repeating: activation, count: max(sizes.count - 2, 0)),
      outputInitializer: activation.suitableInitializer, dropout: dropout, seed: seed, loss: loss)
  }

  /// A multilayer perceptron whose hidden layer `i` (between `sizes[i]` and `sizes[i + 1]`) is
  /// followed by `activations[i]`, each with the initializer that suits it (the output layer
  /// with that of the last hidden activation); otherwise as
  /// ``perceptron(sizes:activation:dropout:seed:loss:)``.
  ///
  /// - Throws: ``BackpropError/invalidArgument(name:detail:)`` as that function, and when there
  ///   is not one activation per hidden layer.
  public static func perceptron(
    sizes: [Int], activations: [ActivationFunction], dropout: Double = 0, seed: UInt64 = 0,
    loss: LossFunction? = nil
  ) throws -> Sequential {
    try perceptron(
      sizes: sizes, activations: activations,
      outputInitializer: (activations.last ?? .relu).suitableInitializer, dropout: dropout,
      seed: seed, loss: loss)
  }

  private static func perceptron(
    sizes: [Int], activations: [ActivationFunction], outputInitializer: Initializer,
    dropout: Double, seed: UInt64, loss: LossFunction?
  ) throws -> Sequential {
    guard sizes.count >= 2, sizes.allSatisfy({ $0 > 0 }) else {
      throw BackpropError.invalidArgument(
        name: "layer sizes \(sizes)", detail: "need an input and an output size, all positive")
    }
    guard activations.count == sizes.count - 2 else {
      throw BackpropError.invalidArgument(
        name: "activations \(activations.map(\.rawValue))",
        detail: "need one for each of the \(sizes.count - 2) hidden layers")
    }
    var generator = RandomGenerator(seed: seed)
    var layers: [any Layer<Scalar>] = []
    for (index, (inputs, outputs)) in zip(sizes, sizes.dropFirst()).enumerated() {
      let activation = index < activations.count ? activations[index] : nil
      layers.append(
        try Linear<Scalar>(
          inputSize: inputs, outputSize: outputs,
          weightInitializer: activation?.suitableInitializer ?? outputInitializer,
          generator: &generator))
      if let activation {
        layers.append(activation.makeLayer())
        if dropout > 0 {
          layers.append(try Dropout<Scalar>(rate: dropout, seed: seed &+ UInt64(index + 1)))
        }
      }
    }
    if loss == .binaryCrossEntropy { layers.append(Sigmoid()) }
    return try Sequential(layers)
  }
}
