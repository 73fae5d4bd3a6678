/// How a weight matrix is written down.
///
/// Backprop stores a ``Linear`` layer's weight as `inputSize × outputSize` (``inputByOutput``), so
/// that y = x·W + b for a batch x of rows, as in NumPy code (`X @ W`) and Keras. PyTorch, and many
/// hand-written examples, write it `outputSize × inputSize` (``outputByInput``): row j holds the
/// weights into output neuron j, and y = x·Wᵀ + b.
public enum WeightLayout: Sendable, Equatable {
  /// Row i holds the weights from input i to every output (`X @ W`).
  case inputByOutput
  /// Row j holds the weights from every input into output j (`X @ W.T`, PyTorch).
  case outputByInput
}

/// A fully connected layer: y = x·W + b.
///
/// - ``weight`` has shape `[inputSize, outputSize]` (``WeightLayout/inputByOutput``).
/// - ``bias`` has shape `[outputSize]` and is added to every row; it is `nil` for a layer
///   built without one.
///
/// The input is a batch of shape `[batchSize, inputSize]`, or one sample of shape `[inputSize]`
/// (the output then has shape `[outputSize]`).
public final class Linear<Scalar: TensorScalar>: Layer {
  /// The number of input features.
  public let inputSize: Int?
  /// The number of output features (neurons).
  public let outputSize: Int?
  /// The weight matrix, `inputSize × outputSize`.
  public let weight: Variable<Scalar>
  /// The bias vector, or `nil` for a layer without bias.
  public let bias: Variable<Scalar>?

  private var inputs: Int { weight.shape[0] }
  private var outputs: Int { weight.shape[1] }

  /// A layer with freshly initialized parameters.
  ///
  /// - Parameters:
  ///   - inputSize: the number of inputs, at least 1.
  ///   - outputSize: the number of outputs (neurons), at least 1.
  ///   - bias: whether the layer adds a bias; without it, an all-zero input always gives an
  ///     all-zero output.
  ///   - weightInitializer: Glorot/Xavier uniform by default.
  ///   - biasInitializer: zeros by default.
  ///   - generator: the source of random numbers; its state advances.
  /// - Throws: ``BackpropError/invalidArgument(name:detail:)`` for sizes below 1 or an invalid
  ///   initializer.
  public init(
    inputSize: Int, outputSize: Int, bias: Bool = true,
    weightInitializer: Initializer = .xavierUniform, biasInitializer: Initializer = .zeros,
    generator: inout RandomGenerator
  ) throws {
    guard inputSize > 0, outputSize > 0 else {
      throw BackpropError.invalidArgument(
        name: "Linear sizes",
        detail: "inputSize \(inputSize) and outputSize \(outputSize) must be positive")
    }
    let weightValue: Tensor<Scalar> = try weightInitializer.makeTensor(
      shape: [inputSize, outputSize], fanIn: inputSize, fanOut: outputSize, generator: &generator)
    let biasValue: Tensor<Scalar>? =
      bias
      ? try biasInitializer.makeTensor(
        shape: [outputSize], fanIn: inputSize, fanOut: outputSize, generator: &generator)
      : nil
    self.inputSize = inputSize
    self.outputSize = outputSize
    self.weight = Variable(weightValue, requiresGradient: true, name: "weight")
    self.bias = biasValue.map { Variable($0, requiresGradient: true, name: "bias") }
  }

  /// A layer with explicit weights, written as a list of rows in the given layout.
  ///
  /// ```swift
  /// // Mazur's hidden layer: net_h1 = w1·i1 + w2·i2 + b1, net_h2 = w3·i1 + w4·i2 + b1
  /// let hidden = try Linear<Double>(
  ///   weights: [[0.15, 0.20], [0.25, 0.30]], layout: .outputByInput, bias: [0.35, 0.35])
  /// ```
  ///
  /// - Throws: ``BackpropError/invalidShape(shape:detail:)`` when the rows are ragged or empty,
  ///   ``BackpropError/shapeMismatch(operation:shapes:detail:)`` when the bias length differs from
  ///   the number of outputs.
  public init(weights rows: [[Scalar]], layout: WeightLayout, bias: [Scalar]?) throws {
    var matrix = try Tensor<Scalar>(rows)
    guard matrix.count > 0 else {
      throw BackpropError.invalidShape(shape: matrix.shape, detail: "a Linear layer needs weights")
    }
    if layout == .outputByInput { matrix = try matrix.transposed() }
    let outputs = matrix.shape[1]
    if let bias, bias.count != outputs {
      throw BackpropError.shapeMismatch(
        operation: "Linear(weights:layout:bias:)", shapes: [[outputs], [bias.count]],
        detail: "the bias needs one value per output neuron (\(outputs)), got \(bias.count)")
    }
    self.inputSize = matrix.shape[0]
    self.outputSize = outputs
    self.weight = Variable(matrix, requiresGradient: true, name: "weight")
    self.bias = bias.map { Variable(Tensor($0), requiresGradient: true, name: "bias") }
  }

  private init(copying weight: Tensor<Scalar>, bias: Tensor<Scalar>?, frozen: (Bool, Bool)) {
    self.inputSize = weight.shape[0]
    self.outputSize = weight.shape[1]
    self.weight = Variable(weight, requiresGradient: !frozen.0, name: "weight")
    self.bias = bias.map { Variable($0, requiresGradient: !frozen.1, name: "bias") }
  }

  /// The weights in the given layout, as rows.
  public func weightRows(layout: WeightLayout) -> [[Scalar]] {
    let matrix =
      layout == .inputByOutput ? weight.value : (try? weight.value.transposed()) ?? weight.value
    let columns = matrix.shape[1]
    let scalars = matrix.scalars
    return (0..<matrix.shape[0]).map { Array(scalars[($0 * columns)..<(($0 + 1) * columns)]) }
  }

  /// Computes x·W + b.
  ///
  /// - Throws: ``BackpropError/shapeMismatch(operation:shapes:detail:)`` naming the layer when
  ///   the input is not `[batch, inputSize]` or `[inputSize]`.
  public func callAsFunction(_ input: Variable<Scalar>) throws -> Variable<Scalar> {
    guard (1...2).contains(input.value.rank), input.shape.last == inputs else {
      throw BackpropError.shapeMismatch(
        operation: "\(self)", shapes: [input.shape, weight.shape],
        detail: "the input must have shape [batchSize, \(inputs)] or [\(inputs)]")
    }
    let batch = input.value.rank == 1 ? try input.reshaped(to: [1, inputs]) : input
    var output = try batch.matmul(weight)
    if let bias { output = try output + bias }
    return input.value.rank == 1 ? try output.reshaped(to: [outputs]) : output
  }

  /// The weight and, if present, the bias.
  public var namedParameters: [(name: String, parameter: Variable<Scalar>)] {
    [("weight", weight)] + (bias.map { [("bias", $0)] } ?? [])
  }

  /// A copy in another scalar type; frozen parameters stay frozen.
  public func converted<Other: TensorScalar>(to type: Other.Type) -> any Layer<Other> {
    Linear<Other>(
      copying: Tensor<Other>(weight.value), bias: bias.map { Tensor<Other>($0.value) },
      frozen: (!weight.requiresGradient, !(bias?.requiresGradient ?? true)))
  }

  /// For example `Linear(inputSize: 2, outputSize: 2, bias: true (frozen))`.
  public var description: String {
    let frozenWeight = weight.requiresGradient ? "" : ", weight frozen"
    let biasText = bias.map { $0.requiresGradient ? "true" : "true (frozen)" } ?? "false"
    return "Linear(inputSize: \(inputs), outputSize: \(outputs), bias: \(biasText)\(frozenWeight))"
  }
}
