/// Layers applied one after another: the output of each is the input of the next.
///
/// ```swift
/// var generator = RandomGenerator(seed: 1)
/// let model = try Sequential<Double>(
///   Linear(inputSize: 2, outputSize: 3, generator: &generator), Sigmoid(),
///   Linear(inputSize: 3, outputSize: 1, generator: &generator), Sigmoid())
/// ```
///
/// Building the model checks that the sizes of consecutive layers fit, so a mismatch is reported
/// before any data flows. Parameters are named by position: `0.weight`, `0.bias`, `2.weight`, ….
public final class Sequential<Scalar: TensorScalar>: Layer {
  /// The layers, in order.
  public let layers: [any Layer<Scalar>]
  /// The fused training step last built for this network, with the loss it was built for (nil
  /// when the fused step does not cover that loss or this network).
  var fusedStepCache: (key: String, step: FusedStep<Scalar>?)?

  /// Chains `layers`.
  ///
  /// - Throws: ``BackpropError/shapeMismatch(operation:shapes:detail:)`` naming both layers when
  ///   one gives a different number of features than the next expects.
  public init(_ layers: [any Layer<Scalar>]) throws {
    var previous: (index: Int, size: Int)?
    for (index, layer) in layers.enumerated() {
      if let expected = layer.inputSize, let previous, previous.size != expected {
        throw BackpropError.shapeMismatch(
          operation: "Sequential", shapes: [[previous.size], [expected]],
          detail:
            "layer \(index) (\(layer)) expects \(expected) inputs, but layer \(previous.index) "
            + "(\(layers[previous.index])) gives \(previous.size)")
      }
      if let size = layer.outputSize { previous = (index, size) }
    }
    self.layers = layers
  }

  /// Chains the given layers.
  public convenience init(_ layers: any Layer<Scalar>...) throws {
    try self.init(layers)
  }

  /// Applies every layer in turn.
  public func callAsFunction(_ input: Variable<Scalar>) throws -> Variable<Scalar> {
    try layers.reduce(input) { value, layer in try layer(value) }
  }

  /// Each layer's parameters, prefixed with the layer's position.
  public var namedParameters: [(name: String, parameter: Variable<Scalar>)] {
    layers.enumerated().flatMap { index, layer in
      layer.namedParameters.map { ("\(index).\($0.name)", $0.parameter) }
    }
  }

  /// The input size of the first layer that fixes one.
  public var inputSize: Int? { layers.lazy.compactMap(\.inputSize).first }

  /// The output size of the last layer that fixes one.
  public var outputSize: Int? { layers.reversed().lazy.compactMap(\.outputSize).first }

  /// A copy with every layer converted to another scalar type.
  public func converted<Other: TensorScalar>(to type: Other.Type) -> any Layer<Other> {
    // The layers already fit each other, so chaining their copies cannot fail.
    Sequential<Other>(validLayers: layers.map { $0.converted(to: type) })
  }

  private init(validLayers: [any Layer<Scalar>]) { layers = validLayers }

  /// The layers, one per line, and the number of parameters.
  public var description: String {
    let lines = layers.enumerated().map { "  (\($0)) \($1)" }
    return "Sequential<\(Scalar.self)>(\n" + lines.joined(separator: "\n")
      + "\n) with \(parameterCount) parameters"
  }
}
