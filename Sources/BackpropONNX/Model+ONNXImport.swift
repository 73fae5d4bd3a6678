import Backprop
import Foundation
import SwiftProtobuf

extension Model {
  /// Reads an ONNX file; see ``init(onnxData:loss:classNames:source:)``.
  ///
  /// - Throws: `BackpropError.fileError(path:detail:)` when it cannot be read, and as that
  ///   initializer.
  public init(onnxFile url: URL, loss: LossFunction? = nil, classNames: [String]? = nil) throws {
    try self.init(
      onnxData: try FileData.read(url), loss: loss, classNames: classNames, source: url.path)
  }

  /// A model from an ONNX graph of an MLP, as `torch.onnx.export` writes one for an
  /// `nn.Sequential` and ``onnxData()`` writes: one input `[N, features]`, then a chain in which
  /// each node reads the previous one's output: optionally `IsNaN` + `Where` (a missing-value
  /// fill) and `Sub` / `Div` by constants (feature scaling), then `Gemm`, or `MatMul` and `Add`,
  /// for each Linear layer, with `Relu`, `Tanh`, `Sigmoid`, `LeakyRelu`, `Softmax` (last only),
  /// `Identity`, `Dropout` or `Flatten` between them. Weights and biases are initializers or
  /// `Constant` nodes, float32 or float64. The file's `InterchangeMetadata` names the features
  /// and classes; `loss` and `classNames` override it.
  ///
  /// - Throws: `BackpropError.malformedData(source:location:detail:)` naming `source` and the
  ///   node or tensor that does not fit: bytes that are not an ONNX model, an operator outside
  ///   that list, a node off the chain, weights kept in external files, shapes that do not fit.
  public init(
    onnxData data: Data, loss: LossFunction? = nil, classNames: [String]? = nil, source: String
  ) throws {
    let model: Onnx_ModelProto
    do {
      model = try Onnx_ModelProto(serializedBytes: data)
    } catch {
      throw BackpropError.malformedData(
        source: source, location: nil,
        detail: "not an ONNX model (the protobuf cannot be parsed: \(error))")
    }
    var reader = ONNXChainReader(source: source)
    try reader.read(model.graph)
    let metadata = Dictionary(
      model.metadataProps.map { ($0.key, $0.value) }, uniquingKeysWith: { $1 })
    let storedScaling = metadata[InterchangeMetadata.scaling].flatMap {
      try? JSONDecoder().decode(FeatureScaling.self, from: Data($0.utf8))
    }
    let storedFill = metadata[InterchangeMetadata.missing].flatMap {
      try? JSONDecoder().decode(MissingValueFill.self, from: Data($0.utf8))
    }
    func fail(_ location: String, _ error: Error) -> BackpropError {
      .malformedData(source: source, location: location, detail: "\(error)")
    }
    // The metadata's values are used where the graph holds them rounded to float32: a model
    // exported and imported again predicts exactly as before.
    func agree(_ stored: [Double]?, _ graph: [Double]) -> Bool {
      stored?.count == graph.count && zip(stored ?? [], graph).allSatisfy { Float($0) == Float($1) }
    }
    var scaling: FeatureScaling?
    if reader.offsets != nil || reader.scales != nil {
      let count = reader.offsets?.count ?? reader.scales?.count ?? 0
      let offsets = reader.offsets ?? Array(repeating: 0, count: count)
      let scales = reader.scales ?? Array(repeating: 1, count: count)
      do {
        scaling =
          agree(storedScaling?.offsets, offsets) && agree(storedScaling?.scales, scales)
          ? storedScaling
          : try FeatureScaling(
            method: storedScaling?.method ?? .standardize, offsets: offsets, scales: scales)
      } catch { throw fail("the scaling's Sub and Div", error) }
    }
    var targetScaling: FeatureScaling?
    if let scales = reader.targetScales {
      let stored = metadata[InterchangeMetadata.targetScaling].flatMap {
        try? JSONDecoder().decode(FeatureScaling.self, from: Data($0.utf8))
      }
      let offsets = reader.targetOffsets ?? Array(repeating: 0, count: scales.count)
      do {
        targetScaling =
          agree(stored?.offsets, offsets) && agree(stored?.scales, scales)
          ? stored : try FeatureScaling(method: .standardize, offsets: offsets, scales: scales)
      } catch { throw fail("the targets' Mul and Add", error) }
    }
    var fill: MissingValueFill?
    if let values = reader.fill {
      do {
        fill =
          agree(storedFill?.values, values)
          ? storedFill
          : try MissingValueFill(strategy: storedFill?.strategy ?? .mean, values: values)
      } catch { throw fail("the missing-value Where", error) }
    }
    try self.init(
      importing: reader.linears, activations: reader.activations, loss: loss,
      classNames: classNames, scaling: scaling, targetScaling: targetScaling, missingValues: fill,
      metadata: metadata, source: source)
  }
}

/// Walks an ONNX graph's nodes as the chain of an MLP, collecting its layers.
struct ONNXChainReader {
  let source: String
  /// The Linear layers, weights `[out, in]`.
  private(set) var linears: [(name: String, weights: [[Double]], bias: [Double]?)] = []
  /// The activation after each Linear layer.
  private(set) var activations: [String] = []
  private(set) var offsets: [Double]?
  private(set) var scales: [Double]?
  /// The outputs' y · targetScales + targetOffsets after the last layer, as Backprop exports a
  /// regressor trained on standardized targets.
  private(set) var targetScales: [Double]?
  private(set) var targetOffsets: [Double]?
  private(set) var fill: [Double]?

  private var constants: [String: (shape: [Int], values: [Double])] = [:]
  private var current = ""
  private var missingMask: String?
  /// Whether the last Linear layer came from a MatMul that an Add may still give a bias.
  private var awaitsBias = false
  private var activated = false

  /// The operators an MLP's graph is read from.
  static let operators = [
    "Gemm", "MatMul", "Add", "Relu", "Tanh", "Sigmoid", "LeakyRelu", "Softmax", "Identity",
    "Dropout", "Flatten", "Sub", "Div", "IsNaN", "Where", "Constant", "Mul",
  ]

  init(source: String) { self.source = source }

  private func fail(_ location: String?, _ detail: String) -> BackpropError {
    .malformedData(source: source, location: location, detail: detail)
  }

  mutating func read(_ graph: Onnx_GraphProto) throws {
    for tensor in graph.initializer {
      constants[tensor.name] = try values(of: tensor, location: "initializer '\(tensor.name)'")
    }
    // An operator outside an MLP's is the first thing to name, wherever it is.
    if let node = graph.node.first(where: { !Self.operators.contains($0.opType) }) {
      throw fail(
        "node '\(node.name.isEmpty ? node.output.first ?? "?" : node.name)' (\(node.opType))",
        "the operator \(node.opType) is not part of an MLP (read: "
          + Self.operators.joined(separator: ", ") + ")")
    }
    let inputs = graph.input.filter { constants[$0.name] == nil }
    guard inputs.count == 1, let input = inputs.first else {
      throw fail(
        "graph inputs", "an MLP has one input; this graph has \(inputs.map(\.name))")
    }
    let dims = input.type.tensorType.shape.dim
    if input.type.tensorType.hasShape && dims.count != 2 {
      throw fail(
        "input '\(input.name)'", "has \(dims.count) dimensions; an MLP takes [N, features]")
    }
    current = input.name
    for node in graph.node { try read(node) }
    guard !linears.isEmpty else { throw fail(nil, "the graph has no Gemm or MatMul layer") }
    let outputs = graph.output.map(\.name)
    guard outputs.contains(current) else {
      throw fail(
        "graph outputs",
        "the chain ends in '\(current)', which is not among the outputs \(outputs)")
    }
  }

  private mutating func read(_ node: Onnx_NodeProto) throws {
    let location =
      "node '\(node.name.isEmpty ? node.output.first ?? "?" : node.name)' (\(node.opType))"
    if node.opType == "Constant" {
      guard node.attribute.count == 1, let value = node.attribute.first, value.name == "value"
      else {
        throw fail(location, "only a Constant with a tensor 'value' can be read")
      }
      constants[node.output.first ?? ""] = try values(of: value.t, location: location)
      return
    }
    let data = node.input.filter { !$0.isEmpty && constants[$0] == nil && $0 != missingMask }
    guard data == [current], node.output.count >= 1 else {
      throw fail(
        location,
        "does not read the previous value '\(current)' alone (it reads \(node.input)); only a "
          + "chain of layers, an MLP, can be imported")
    }
    func constant(_ index: Int) throws -> (shape: [Int], values: [Double]) {
      guard index < node.input.count, let value = constants[node.input[index]] else {
        throw fail(location, "input \(index) must be an initializer or a Constant")
      }
      return value
    }
    func attribute(_ name: String) -> Onnx_AttributeProto? {
      node.attribute.first { $0.name == name }
    }
    func beforeLayers(_ what: String) throws {
      guard linears.isEmpty else {
        throw fail(location, "\(what) is only read before the first Gemm or MatMul")
      }
    }
    func vector(_ value: (shape: [Int], values: [Double])) throws -> [Double] {
      guard value.shape.count <= 2, value.shape.dropLast().allSatisfy({ $0 == 1 }) else {
        throw fail(location, "needs a vector, not a tensor of shape \(value.shape)")
      }
      return value.values
    }
    switch node.opType {
    case "IsNaN":
      try beforeLayers("a missing-value fill")
      missingMask = node.output[0]
      return
    case "Where":
      try beforeLayers("a missing-value fill")
      guard let mask = missingMask, node.input.count == 3, node.input[0] == mask,
        node.input[2] == current
      else {
        throw fail(location, "only Where(IsNaN(x), fill, x), a missing-value fill, is read")
      }
      fill = try vector(constant(1))
    case "Sub":
      try beforeLayers("feature scaling")
      guard node.input.first == current, offsets == nil, scales == nil else {
        throw fail(location, "only x − offsets, once, before any Div, is read")
      }
      offsets = try vector(constant(1))
    case "Div":
      try beforeLayers("feature scaling")
      guard node.input.first == current, scales == nil else {
        throw fail(location, "only x / scales, once, is read")
      }
      scales = try vector(constant(1))
    case "Gemm":
      let alpha = attribute("alpha")?.f ?? 1
      let beta = attribute("beta")?.f ?? 1
      guard alpha == 1, beta == 1, (attribute("transA")?.i ?? 0) == 0, node.input.first == current
      else {
        throw fail(location, "only Gemm(x, W, b) with alpha 1, beta 1 and transA 0 is read")
      }
      let weight = try constant(1)
      try addLinear(
        weight, transposed: (attribute("transB")?.i ?? 0) == 1,
        bias: node.input.count > 2 && !node.input[2].isEmpty ? try vector(constant(2)) : nil,
        location: location)
    case "MatMul":
      guard node.input.first == current else {
        throw fail(location, "only MatMul(x, W) is read")
      }
      try addLinear(try constant(1), transposed: false, bias: nil, location: location)
      awaitsBias = true
    case "Mul":
      guard !linears.isEmpty, targetScales == nil else {
        throw fail(location, "a Mul is read only once, after the last layer (the targets' scales)")
      }
      targetScales = try vector(constant(1))
      awaitsBias = false
    case "Add" where targetScales != nil && !awaitsBias:
      guard targetOffsets == nil, node.input.first == current else {
        throw fail(location, "only y · scales + offsets, once, is read after the last layer")
      }
      targetOffsets = try vector(constant(1))
    case "Add":
      guard awaitsBias, let last = linears.indices.last else {
        throw fail(location, "an Add is read only as the bias of the MatMul before it")
      }
      let bias = try vector(constant(node.input[0] == current ? 1 : 0))
      guard bias.count == linears[last].weights.count else {
        throw fail(
          location,
          "adds \(bias.count) values to \(linears[last].weights.count) outputs")
      }
      linears[last].bias = bias
      awaitsBias = false
    case "Relu", "Tanh", "Sigmoid", "LeakyRelu", "Softmax":
      guard let last = activations.indices.last else {
        throw fail(location, "an activation before the first Gemm or MatMul cannot be imported")
      }
      guard !activated else {
        throw fail(location, "a second activation after one layer cannot be imported")
      }
      if node.opType == "Softmax", let axis = attribute("axis")?.i, axis != -1, axis != 1 {
        throw fail(location, "a softmax over axis \(axis) is not a classifier's softmax")
      }
      activations[last] =
        switch node.opType {
        case "Relu": "relu"
        case "Tanh": "tanh"
        case "Sigmoid": "sigmoid"
        case "Softmax": "softmax"
        default: "leaky-relu:\(Double(attribute("alpha")?.f ?? 0.01))"
        }
      activated = true
      awaitsBias = false
    case "Identity", "Dropout":
      break
    case "Flatten":
      guard (attribute("axis")?.i ?? 1) == 1 else {
        throw fail(location, "only Flatten(axis 1) of [N, features] is read")
      }
    default:
      break  // Constant, read above; read(_ graph:) refuses other operators first
    }
    current = node.output[0]
  }

  private mutating func addLinear(
    _ weight: (shape: [Int], values: [Double]), transposed: Bool, bias: [Double]?,
    location: String
  ) throws {
    guard weight.shape.count == 2 else {
      throw fail(location, "the weight has shape \(weight.shape); a Linear layer's is 2-D")
    }
    let (rows, columns) = (weight.shape[0], weight.shape[1])
    let (outputs, inputs) = transposed ? (rows, columns) : (columns, rows)
    let weights = (0..<outputs).map { output in
      (0..<inputs).map { input in
        weight.values[transposed ? output * columns + input : input * columns + output]
      }
    }
    if let bias, bias.count != outputs {
      throw fail(location, "the bias has \(bias.count) values for \(outputs) outputs")
    }
    linears.append((name: location, weights: weights, bias: bias))
    activations.append("identity")
    activated = false
  }

  /// A tensor's shape and values, from its typed field or its raw little-endian bytes.
  private func values(of tensor: Onnx_TensorProto, location: String) throws -> (
    shape: [Int], values: [Double]
  ) {
    guard tensor.dataLocation != .external else {
      throw fail(location, "keeps its data in an external file, which is not read")
    }
    let shape = tensor.dims.map { Int($0) }
    var count = 1
    for dimension in shape {
      let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
      guard dimension >= 0, !overflow, product <= 1 << 31 else {
        throw fail(location, "has the impossible shape \(shape)")
      }
      count = product
    }
    let values: [Double]
    switch Onnx_TensorProto.DataType(rawValue: Int(tensor.dataType)) {
    case .float:
      values =
        tensor.hasRawData
        ? Self.decode(tensor.rawData, as: UInt32.self).map { Double(Float(bitPattern: $0)) }
        : tensor.floatData.map(Double.init)
    case .double:
      values =
        tensor.hasRawData
        ? Self.decode(tensor.rawData, as: UInt64.self).map(Double.init(bitPattern:))
        : tensor.doubleData
    case .int64:
      values =
        tensor.hasRawData
        ? Self.decode(tensor.rawData, as: Int64.self).map(Double.init)
        : tensor.int64Data.map(Double.init)
    default:
      throw fail(location, "has data type \(tensor.dataType); float, double and int64 are read")
    }
    guard values.count == count else {
      throw fail(location, "holds \(values.count) values for the shape \(shape) (\(count))")
    }
    return (shape, values)
  }

  /// Little-endian values from raw bytes (whole values only).
  private static func decode<Value: FixedWidthInteger>(_ data: Data, as type: Value.Type)
    -> [Value]
  {
    let size = MemoryLayout<Value>.size
    return data.withUnsafeBytes { bytes in
      (0..<(bytes.count / size)).map {
        Value(littleEndian: bytes.loadUnaligned(fromByteOffset: $0 * size, as: Value.self))
      }
    }
  }
}
