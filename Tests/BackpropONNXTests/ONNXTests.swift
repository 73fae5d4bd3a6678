import Backprop
import Foundation
import Testing

@testable import BackpropONNX

@Suite("ONNX export and import")
struct ONNXTests {
  /// A model of every layer kind a model file holds, with scaling and a missing-value fill.
  func model(loss: LossFunction, activation: ActivationFunction, dropout: Double = 0) throws
    -> Model<Float>
  {
    let network = try Sequential<Float>.perceptron(
      sizes: [3, 6, 4, loss == .meanSquaredError ? 2 : 3], activation: activation,
      dropout: dropout, seed: 11, loss: loss)
    let target: TargetKind =
      loss == .meanSquaredError
      ? .regression(columns: ["u", "v"])
      : .classification(column: "kind", classNames: ["a", "b", "c"])
    return try Model(
      network: network, featureNames: ["p", "q", "r"], targetKind: target,
      scaling: FeatureScaling(method: .standardize, offsets: [1, -2, 0.3], scales: [2, 0.5, 3]),
      targetScaling: loss == .meanSquaredError
        ? FeatureScaling(method: .standardize, offsets: [1000, -3], scales: [250, 0.125]) : nil,
      missingValues: MissingValueFill(strategy: .median, values: [0.5, 1.5, -1]), loss: loss)
  }

  func features() throws -> Tensor<Float> {
    var generator = RandomGenerator(seed: 3)
    return try Tensor(
      shape: [5, 3], scalars: (0..<15).map { _ in Float(generator.uniform(low: -4, high: 4)) })
  }

  /// Export and import give back a model that predicts the same numbers, bit for bit, with the
  /// same names, scaling and fill.
  @Test(arguments: [
    (LossFunction.crossEntropy, ActivationFunction.tanh),
    (.crossEntropy, .leakyRelu), (.binaryCrossEntropy, .relu), (.meanSquaredError, .sigmoid),
  ])
  func exportedModelsImportAsTheyWere(loss: LossFunction, activation: ActivationFunction) throws {
    let original = try model(loss: loss, activation: activation, dropout: 0.2)
    let imported = try Model<Float>(onnxData: try original.onnxData(), source: "m.onnx")
    #expect(try imported.predict(features()) == (try original.predict(features())))
    #expect(imported.featureNames == original.featureNames)
    #expect(imported.targetKind == original.targetKind)
    #expect(
      imported.scaling == original.scaling && imported.missingValues == original.missingValues)
    #expect(imported.targetScaling == original.targetScaling)
    #expect(imported.loss == loss)
    // Without the metadata, the graph's own Mul and Add give the targets' units back.
    var proto = try Onnx_ModelProto(serializedBytes: try original.onnxData())
    proto.metadataProps = []
    let bare = try Model<Float>(onnxData: try proto.serializedData(), source: "bare.onnx")
    #expect(bare.targetScaling?.scales == original.targetScaling?.scales)
  }

  /// The graph holds the operators the documentation names, in order, at opset 17.
  @Test func theGraphIsTheDocumentedChain() throws {
    let data = try model(loss: .crossEntropy, activation: .tanh, dropout: 0.1).onnxData()
    let proto = try Onnx_ModelProto(serializedBytes: data)
    #expect(proto.opsetImport.map(\.version) == [ONNXFormat.opset])
    #expect(
      proto.graph.node.map(\.opType) == [
        "IsNaN", "Where", "Sub", "Div", "Gemm", "Tanh", "Gemm", "Tanh", "Gemm", "Identity",
        "Softmax",
      ])
    #expect(proto.graph.input.map(\.name) == ["features"])
    #expect(proto.graph.output.map(\.name) == ["probabilities", "logits"])
    let metadata = Dictionary(uniqueKeysWithValues: proto.metadataProps.map { ($0.key, $0.value) })
    #expect(metadata["backprop.activations"] == "tanh,tanh,identity")
    #expect(metadata["backprop.classes"] == #"["a","b","c"]"#)
  }

  /// A MatMul + Add graph (as some exporters write a Linear layer) with raw float data reads as
  /// the Gemm one does.
  @Test func matMulAndAddWithRawDataReadAsALinearLayer() throws {
    var graph = ONNXGraphBuilder(elementType: .float)
    var weight = Onnx_TensorProto()
    (weight.name, weight.dims, weight.dataType) = ("w", [2, 3], 1)
    let values: [Float] = [1, 2, 3, 4, 5, 6]  // [in 2, out 3]
    weight.rawData = values.withUnsafeBufferPointer { Data(buffer: $0) }
    graph.graph.initializer.append(weight)
    let bias = graph.constant("b", shape: [3], [0.5, -0.5, 1])
    let product = graph.node("MatMul", ["x", "w"])
    let sum = graph.node("Add", [product, bias])
    graph.output(graph.node("Relu", [sum]), width: 3)
    graph.input("x", width: 2)
    var proto = Onnx_ModelProto()
    proto.graph = graph.graph
    let model = try Model<Float>(onnxData: try proto.serializedData(), source: "mm.onnx")
    let output = try model.predict(try Tensor<Float>([[1, -1]]))
    #expect(output.scalars == [0, 0, 0])
    #expect(try model.predict(try Tensor<Float>([[1, 1]])).scalars == [5.5, 6.5, 10])
  }

  /// Files that are not an MLP are refused, naming the node or tensor that does not fit.
  @Test func whatIsNotAnMLPIsRefusedByName() throws {
    func refusal(_ data: Data) -> String {
      do {
        _ = try Model<Float>(onnxData: data, source: "bad.onnx")
        return "no error"
      } catch { return "\(error)" }
    }
    #expect(refusal(Data("not protobuf at all".utf8)).contains("bad.onnx"))
    #expect(refusal(Data([0x0A, 0xFF, 0xFF])).contains("not an ONNX model"))

    var graph = ONNXGraphBuilder(elementType: .float)
    let kernel = graph.constant("kernel", shape: [1, 1, 3], [1, 2, 3])
    graph.output(graph.node("Conv", ["x", kernel], name: "conv1"), width: 3)
    graph.input("x", width: 3)
    var proto = Onnx_ModelProto()
    proto.graph = graph.graph
    let conv = refusal(try proto.serializedData())
    #expect(
      conv.contains("bad.onnx") && conv.contains("Conv") && conv.contains("not part of an MLP"))

    var branching = ONNXGraphBuilder(elementType: .float)
    let weight = branching.constant("w", shape: [2, 2], [1, 0, 0, 1])
    let left = branching.node("Gemm", ["x", weight])
    let right = branching.node("Gemm", ["x", weight])
    branching.output(branching.node("Add", [left, right]), width: 2)
    branching.input("x", width: 2)
    proto.graph = branching.graph
    #expect(refusal(try proto.serializedData()).contains("does not read the previous value"))

    var short = ONNXGraphBuilder(elementType: .float)
    var tensor = Onnx_TensorProto()
    (tensor.name, tensor.dims, tensor.dataType, tensor.floatData) = ("w", [4, 4], 1, [1, 2])
    short.graph.initializer.append(tensor)
    short.output(short.node("Gemm", ["x", "w"]), width: 4)
    short.input("x", width: 4)
    proto.graph = short.graph
    #expect(refusal(try proto.serializedData()).contains("holds 2 values for the shape [4, 4]"))
  }
}
