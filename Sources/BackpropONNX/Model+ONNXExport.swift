import Backprop
import Foundation
import SwiftProtobuf

/// The ONNX version Backprop writes and the operators it writes and reads.
public enum ONNXFormat {
  /// The operator set of exported graphs (the default `ai.onnx` domain).
  public static let opset: Int64 = 17
  /// The IR version that goes with ``opset``.
  public static let irVersion: Int64 = 8
  /// The graph's input: the raw, unscaled features, `[N, features]`.
  public static let inputName = "features"
  /// A classifier's probabilities, `[N, classes]`.
  public static let probabilitiesName = "probabilities"
  /// The logits of a classifier trained with cross-entropy (before the softmax), `[N, classes]`.
  public static let logitsName = "logits"
  /// A regressor's values, `[N, targets]`.
  public static let predictionName = "prediction"
}

extension Model {
  /// The model as an ONNX graph (``ONNXFormat/opset``) that takes the raw features, as
  /// `backprop predict` does, and gives what it writes: missing values (NaN) filled
  /// (`IsNaN`, `Where`), the stored scaling applied (`Sub`, `Div`), each Linear layer as a `Gemm`
  /// with PyTorch's `[out, in]` weights, its activations (`Sigmoid`, `Tanh`, `Relu`,
  /// `LeakyRelu`, `Softmax`; dropout is the identity at inference), and, for a classifier
  /// whose network gives logits, a `Softmax` over them, which are a second output.
  /// The graph's `metadata_props` hold the model's `interchangeMetadata`.
  ///
  /// Outputs: ``ONNXFormat/probabilitiesName`` (and ``ONNXFormat/logitsName``) for a
  /// classifier, ``ONNXFormat/predictionName`` for a regressor. Float models export float32
  /// graphs, Double models float64.
  ///
  /// - Throws: `BackpropError.invalidArgument(name:detail:)` for a layer ONNX export does not
  ///   cover (one that a model file cannot hold either).
  public func onnxData() throws -> Data {
    var graph = ONNXGraphBuilder(elementType: Scalar.self == Float.self ? .float : .double)
    graph.graph.name = "backprop"
    var current = ONNXFormat.inputName
    if let missingValues, missingValues.strategy != .drop {
      let fill = graph.constant("missing.fill", shape: [featureNames.count], missingValues.values)
      let missing = graph.node("IsNaN", [current], name: "missing")
      current = graph.node("Where", [missing, fill, current], name: "filled")
    }
    if let scaling {
      let offsets = graph.constant("scaling.offsets", shape: [featureNames.count], scaling.offsets)
      let scales = graph.constant("scaling.scales", shape: [featureNames.count], scaling.scales)
      current = graph.node("Div", [graph.node("Sub", [current, offsets]), scales], name: "scaled")
    }
    for (index, layer) in network.layers.enumerated() {
      let specification = try LayerSpecification(layer)
      switch specification.type {
      case "linear":
        let weights = specification.weights ?? []
        let inputs = [
          current,
          graph.constant(
            "\(index).weight", shape: [weights.count, weights.first?.count ?? 0],
            Array(weights.joined())),
        ]
        let bias = specification.bias.map {
          graph.constant("\(index).bias", shape: [$0.count], $0)
        }
        current = graph.node(
          "Gemm", inputs + (bias.map { [$0] } ?? []), name: "\(index).linear",
          attributes: [.integer("transB", 1)])
      case "sigmoid": current = graph.node("Sigmoid", [current], name: "\(index).sigmoid")
      case "tanh": current = graph.node("Tanh", [current], name: "\(index).tanh")
      case "relu": current = graph.node("Relu", [current], name: "\(index).relu")
      case "leaky-relu":
        current = graph.node(
          "LeakyRelu", [current], name: "\(index).leaky_relu",
          attributes: [.real("alpha", Float(specification.slope ?? 0.01))])
      case "softmax":
        current = graph.node(
          "Softmax", [current], name: "\(index).softmax", attributes: [.integer("axis", -1)])
      default: continue  // identity, and dropout at inference
      }
    }
    let width = targetKind.width
    if targetKind.classNames != nil {
      if !outputsAreProbabilities {
        graph.output(graph.node("Identity", [current], output: ONNXFormat.logitsName), width: width)
        graph.output(
          graph.node(
            "Softmax", [ONNXFormat.logitsName], output: ONNXFormat.probabilitiesName,
            attributes: [.integer("axis", -1)]), width: width)
        graph.graph.output.reverse()
      } else {
        graph.output(
          graph.node("Identity", [current], output: ONNXFormat.probabilitiesName), width: width)
      }
    } else {
      if let targetScaling {
        // The network was trained on standardized targets: back to their units.
        let scales = graph.constant("target.scales", shape: [width], targetScaling.scales)
        let offsets = graph.constant("target.offsets", shape: [width], targetScaling.offsets)
        current = graph.node(
          "Add", [graph.node("Mul", [current, scales], name: "target.scaled"), offsets],
          name: "target")
      }
      graph.output(
        graph.node("Identity", [current], output: ONNXFormat.predictionName), width: width)
    }
    graph.input(ONNXFormat.inputName, width: featureNames.count)
    var model = Onnx_ModelProto()
    model.irVersion = ONNXFormat.irVersion
    model.producerName = "Backprop"
    model.producerVersion = backpropVersion
    model.opsetImport = [Onnx_OperatorSetIdProto.with { $0.version = ONNXFormat.opset }]
    model.graph = graph.graph
    model.metadataProps = interchangeMetadata.sorted { $0.key < $1.key }.map { key, value in
      Onnx_StringStringEntryProto.with {
        $0.key = key
        $0.value = value
      }
    }
    return try model.serializedData()
  }

  /// Writes ``onnxData()`` to `url` atomically.
  ///
  /// - Throws: as ``onnxData()``, and `BackpropError.fileError(path:detail:)`.
  public func exportONNX(to url: URL) throws {
    try AtomicFile.write(try onnxData(), to: url)
  }
}

/// An ONNX graph built a node at a time, each writing a new value.
struct ONNXGraphBuilder {
  /// An attribute of a node.
  enum Attribute {
    case integer(String, Int64)
    case real(String, Float)
  }

  var graph = Onnx_GraphProto()
  let elementType: Onnx_TensorProto.DataType
  private var count = 0

  init(elementType: Onnx_TensorProto.DataType) { self.elementType = elementType }

  /// Adds an initializer of the graph's element type.
  mutating func constant(_ name: String, shape: [Int], _ values: [Double]) -> String {
    var tensor = Onnx_TensorProto()
    tensor.name = name
    tensor.dims = shape.map(Int64.init)
    tensor.dataType = Int32(elementType.rawValue)
    if elementType == .float {
      tensor.floatData = values.map(Float.init)
    } else {
      tensor.doubleData = values
    }
    graph.initializer.append(tensor)
    return name
  }

  /// Adds a node of `operation` and returns the name of its output (`output`, or one made from
  /// `name`).
  @discardableResult
  mutating func node(
    _ operation: String, _ inputs: [String], name: String? = nil, output: String? = nil,
    attributes: [Attribute] = []
  ) -> String {
    count += 1
    let output = output ?? name ?? "\(operation.lowercased())_\(count)"
    var node = Onnx_NodeProto()
    node.opType = operation
    node.name = "\(operation)_\(count)"
    node.input = inputs
    node.output = [output]
    node.attribute = attributes.map { attribute in
      var proto = Onnx_AttributeProto()
      switch attribute {
      case .integer(let name, let value):
        (proto.name, proto.type, proto.i) = (name, .int, value)
      case .real(let name, let value):
        (proto.name, proto.type, proto.f) = (name, .float, value)
      }
      return proto
    }
    graph.node.append(node)
    return output
  }

  /// Declares the graph's input, `[N, width]`.
  mutating func input(_ name: String, width: Int) {
    graph.input.append(valueInfo(name, width: width))
  }

  /// Declares a graph output, `[N, width]`.
  mutating func output(_ name: String, width: Int) {
    graph.output.append(valueInfo(name, width: width))
  }

  private func valueInfo(_ name: String, width: Int) -> Onnx_ValueInfoProto {
    var info = Onnx_ValueInfoProto()
    info.name = name
    var tensor = Onnx_TypeProto.Tensor()
    tensor.elemType = Int32(elementType.rawValue)
    tensor.shape.dim = [
      .with { $0.dimParam = "N" }, .with { $0.dimValue = Int64(width) },
    ]
    info.type.tensorType = tensor
    return info
  }
}
