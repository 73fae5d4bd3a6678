import Backprop
import Foundation
import Testing

@Suite("Weights in and out: safetensors with their metadata, PyTorch state dicts")
struct InterchangeTests {
  func model() throws -> Model<Float> {
    let network = try Sequential<Float>.perceptron(
      sizes: [3, 5, 4, 2], activation: .leakyRelu, dropout: 0.3, seed: 4)
    return try Model(
      network: network, featureNames: ["a", "b", "c"],
      targetKind: .classification(column: "kind", classNames: ["no", "yes"]),
      scaling: FeatureScaling(method: .minMax, offsets: [1, 2, 3], scales: [0.5, 1, 2]),
      missingValues: MissingValueFill(strategy: .mean, values: [0, 1, 2]), loss: .crossEntropy)
  }

  /// What `train --weights` writes imports with no flags and predicts bit for bit as before.
  @Test func weightsWithTheirMetadataImportAsTheModel() throws {
    let original = try model()
    let file = try SafeTensors(data: original.safeTensors().encoded(), source: "w.safetensors")
    #expect(file.names == ["0.weight", "0.bias", "3.weight", "3.bias", "6.weight", "6.bias"])
    #expect(
      file.metadata[InterchangeMetadata.activations] == "leaky-relu:0.01,leaky-relu:0.01,identity")
    #expect(file.metadata[InterchangeMetadata.classes] == #"["no","yes"]"#)
    let imported = try Model<Float>(
      safeTensors: file, activations: nil, loss: nil, classNames: nil, source: "w.safetensors")
    var generator = RandomGenerator(seed: 2)
    let features: Tensor<Float> = try randomTensor([7, 3], &generator, low: -3, high: 3)
    #expect(try imported.predict(features) == (try original.predict(features)))
    #expect(
      imported.scaling == original.scaling && imported.missingValues == original.missingValues)
    #expect(imported.featureNames == ["a", "b", "c"] && imported.targetKind == original.targetKind)
  }

  /// A bare state dict takes its activations and loss from the caller; its layers are ordered as
  /// numbered (2 before 10), whatever the prefix.
  @Test func aBareStateDictTakesActivationsAndLoss() throws {
    var file = SafeTensors()
    let shapes = [("net.10", [2, 3]), ("net.0", [4, 2]), ("net.2", [3, 4])]
    var generator = RandomGenerator(seed: 9)
    for (prefix, shape) in shapes {
      file.set("\(prefix).weight", try randomTensor(shape, &generator) as Tensor<Float>)
      file.set("\(prefix).bias", try randomTensor([shape[0]], &generator) as Tensor<Float>)
    }
    let model = try Model<Float>(
      safeTensors: file, activations: ["tanh", "relu", "softmax"], loss: nil, classNames: nil,
      source: "sd.safetensors")
    #expect(model.loss == .crossEntropy)
    #expect(model.targetKind == .classification(column: "class", classNames: ["0", "1"]))
    #expect(model.featureNames == ["x0", "x1"])
    #expect(model.network.layers.count == 5)  // the softmax is predict's, not a layer
    let regressor = try Model<Float>(
      safeTensors: file, activations: ["tanh", "relu", "identity"], loss: nil, classNames: nil,
      source: "sd.safetensors")
    #expect(regressor.targetKind == .regression(columns: ["y0", "y1"]))
  }

  @Test func whatDoesNotFitIsRefusedByName() throws {
    var file = SafeTensors()
    var generator = RandomGenerator(seed: 1)
    file.set("0.weight", try randomTensor([4, 2], &generator) as Tensor<Float>)
    file.set("2.weight", try randomTensor([3, 5], &generator) as Tensor<Float>)
    func load(_ file: SafeTensors, _ activations: [String]?) throws {
      _ = try Model<Float>(
        safeTensors: file, activations: activations, loss: nil, classNames: nil,
        source: "sd.safetensors")
    }
    expectError(containing: "sd.safetensors", "--activations") { try load(file, nil) }
    expectError(containing: "1 activations", "2 Linear layers") { try load(file, ["tanh"]) }
    expectError(containing: "expects 5 inputs", "gives 4") { try load(file, ["tanh", "identity"]) }
    expectError(containing: "unknown activation 'swish'") { try load(file, ["swish", "identity"]) }
    expectError(containing: "softmax can only follow the last") {
      try load(file, ["softmax", "identity"])
    }
    var batchNorm = file
    batchNorm.set("1.running_mean", Tensor<Float>([0, 0, 0, 0]))
    batchNorm.set("1.num_batches_tracked", Tensor<Float>(0))
    expectError(containing: "tensor '1.running_mean'", "only an MLP") {
      try load(batchNorm, ["tanh", "identity"])
    }
    var stray = SafeTensors()
    stray.set("0.bias", Tensor<Float>([1, 2]))
    expectError(containing: "tensor '0.bias'", "has no '0.weight'") { try load(stray, ["tanh"]) }
    var corrupt = SafeTensors(metadata: [InterchangeMetadata.scaling: "{\"offsets\": 3}"])
    corrupt.set("0.weight", try Tensor<Float>([[1, 2]]))
    expectError(containing: "metadata backprop.scaling") { try load(corrupt, ["identity"]) }
  }
}
