import Foundation

/// A layer as a model file stores it: its kind, its configuration and (for `linear`) its weights.
///
/// Weights are written one row per output neuron, so row j lists neuron j's incoming weights
/// (PyTorch's `[out, in]` layout), and every number in the decimal form that reads back to the
/// same binary value.
public struct LayerSpecification: Sendable, Equatable, Codable {
  /// The layer kind: `linear`, `sigmoid`, `tanh`, `relu`, `leaky-relu`, `softmax`, `identity`
  /// or `dropout`.
  public var type: String
  /// Inputs of a linear layer.
  public var inputSize: Int?
  /// Outputs of a linear layer.
  public var outputSize: Int?
  /// The slope of a leaky ReLU for negative inputs.
  public var slope: Double?
  /// The drop probability of a dropout layer.
  public var rate: Double?
  /// The seed of a dropout layer's masks.
  public var seed: UInt64?
  /// A linear layer's weights, one row of `inputSize` values per output neuron.
  public var weights: [[Double]]?
  /// A linear layer's biases, one per output neuron; absent when it has none.
  public var bias: [Double]?

  /// The layer kinds that can be written and read.
  public static let types = [
    "linear", "sigmoid", "tanh", "relu", "leaky-relu", "softmax", "identity", "dropout",
  ]

  /// A specification with the given fields; ``makeLayer(as:source:location:)`` checks them.
  init(
    type: String, inputSize: Int? = nil, outputSize: Int? = nil, slope: Double? = nil,
    weights: [[Double]]? = nil, bias: [Double]? = nil
  ) {
    self.type = type
    self.inputSize = inputSize
    self.outputSize = outputSize
    self.slope = slope
    self.weights = weights
    self.bias = bias
  }

  /// Describes `layer`.
  ///
  /// - Throws: ``BackpropError/invalidArgument(name:detail:)`` for a layer type that model files
  ///   cannot hold (a custom layer, or a nested ``Sequential``).
  public init<Scalar: TensorScalar>(_ layer: any Layer<Scalar>) throws {
    switch layer {
    case let linear as Linear<Scalar>:
      type = "linear"
      inputSize = linear.inputSize
      outputSize = linear.outputSize
      weights = linear.weightRows(layout: .outputByInput).map { $0.map(Double.init) }
      bias = linear.bias.map { $0.value.scalars.map(Double.init) }
    case is Sigmoid<Scalar>: type = "sigmoid"
    case is Tanh<Scalar>: type = "tanh"
    case is ReLU<Scalar>: type = "relu"
    case let leaky as LeakyReLU<Scalar>:
      type = "leaky-relu"
      slope = Double(leaky.slope)
    case is Softmax<Scalar>: type = "softmax"
    case is Identity<Scalar>: type = "identity"
    case let dropout as Dropout<Scalar>:
      type = "dropout"
      rate = dropout.rate
      seed = dropout.seed
    default:
      throw BackpropError.invalidArgument(
        name: "layer \(layer)",
        detail: "model files hold \(Self.types.joined(separator: ", ")) layers only")
    }
  }

  /// Builds the layer this specification describes.
  ///
  /// - Throws: ``BackpropError/malformedData(source:location:detail:)`` naming `location` when
  ///   the type is unknown or the weights do not fit the sizes.
  public func makeLayer<Scalar: TensorScalar>(
    as type: Scalar.Type = Scalar.self, source: String = "model", location: String = "layer"
  ) throws -> any Layer<Scalar> {
    func fail(_ detail: String) -> BackpropError {
      .malformedData(source: source, location: location, detail: detail)
    }
    switch self.type {
    case "linear":
      guard let inputSize, let outputSize, inputSize > 0, outputSize > 0 else {
        throw fail("a linear layer needs positive inputSize and outputSize")
      }
      guard let weights else { throw fail("the linear layer has no weights") }
      guard weights.count == outputSize, weights.allSatisfy({ $0.count == inputSize }) else {
        let found = "\(weights.count) rows of \(Set(weights.map(\.count)).sorted()) values"
        throw fail(
          "the weights must be \(outputSize) rows (one per output) of \(inputSize) values, found \(found)"
        )
      }
      if let bias, bias.count != outputSize {
        throw fail("the bias has \(bias.count) values but the layer has \(outputSize) outputs")
      }
      guard weights.joined().allSatisfy(\.isFinite), (bias ?? []).allSatisfy(\.isFinite) else {
        throw fail("a weight or bias is not finite")
      }
      return try Linear<Scalar>(
        weights: weights.map { $0.map { Scalar($0) } }, layout: .outputByInput,
        bias: bias.map { $0.map { Scalar($0) } })
    case "sigmoid": return Sigmoid<Scalar>()
    case "tanh": return Tanh<Scalar>()
    case "relu": return ReLU<Scalar>()
    case "leaky-relu": return LeakyReLU<Scalar>(slope: Scalar(slope ?? 0.01))
    case "softmax": return Softmax<Scalar>()
    case "identity": return Identity<Scalar>()
    case "dropout":
      do {
        return try Dropout<Scalar>(rate: rate ?? 0, seed: seed ?? 0)
      } catch {
        throw fail("\(error)")
      }
    default:
      throw fail(
        "unknown layer type '\(self.type)'; known: \(Self.types.joined(separator: ", "))")
    }
  }
}
