import Backprop
import Foundation
import Testing

@Suite("Model files, safetensors and atomic writes")
struct PersistenceTests {
  func model() throws -> Model<Float> {
    let network = try Sequential<Float>.perceptron(sizes: [3, 5, 2], activation: .tanh, seed: 4)
    let scaling = try FeatureScaling(
      method: .standardize, offsets: [1, 2, 3], scales: [0.5, 1, 2])
    return try Model(
      network: network, featureNames: ["a", "b", "c"],
      targetKind: .classification(column: "kind", classNames: ["no", "yes"]), scaling: scaling,
      loss: .crossEntropy, metadata: ["epochs-run": "7"])
  }

  @Test func aSavedModelLoadsBackBitForBit() throws {
    let original = try model()
    let url = try temporaryDirectory().appendingPathComponent("model.json")
    try original.save(to: url)
    let loaded = try Model<Float>(contentsOf: url)
    #expect(loaded.featureNames == original.featureNames)
    #expect(loaded.targetKind == original.targetKind)
    #expect(loaded.scaling == original.scaling)
    #expect(loaded.loss == .crossEntropy && loaded.metadata == ["epochs-run": "7"])
    #expect(loaded.network.parameters.map(\.value) == original.network.parameters.map(\.value))
    var generator = RandomGenerator(seed: 1)
    let features: Tensor<Float> = try randomTensor([6, 3], &generator, low: -3, high: 3)
    let probabilities = try loaded.predict(features)
    #expect(probabilities == (try original.predict(features)))
    // Probabilities of each row sum to one: the logits went through a softmax.
    for row in 0..<6 {
      #expect(abs(probabilities.scalars[(2 * row)..<(2 * row + 2)].reduce(0, +) - 1) < 1e-6)
    }
    // The same model writes the same bytes.
    #expect(try loaded.jsonData() == (try original.jsonData()))
    let text = try String(contentsOf: url, encoding: .utf8)
    #expect(text.contains("\"format\" : \"backprop-model\"") && text.contains("\"version\" : 2"))
  }

  @Test func aSequentialSavesAndLoadsItsWeights() throws {
    let url = try temporaryDirectory().appendingPathComponent("net.safetensors")
    let network = try Sequential<Float>.perceptron(sizes: [3, 5, 2], seed: 4)
    try network.save(to: url)
    let copy = try Sequential<Float>.perceptron(sizes: [3, 5, 2], seed: 99)
    try copy.loadWeights(contentsOf: url)
    #expect(copy.parameters.map(\.value) == network.parameters.map(\.value))
    let rows: [[Float]] = [[1, 2, 3], [-1, 0, 0.5]]
    #expect(try copy.predict(rows) == (try network.predict(rows)))
    #expect(network.summaryTable.contains("Total: 32 parameters (32 trainable, 0 frozen)"))
    let other = try Sequential<Float>.perceptron(sizes: [3, 4, 2], seed: 1)
    #expect(throws: BackpropError.self) { try other.loadWeights(contentsOf: url) }
  }

  @Test func brokenFilesGetClearMessages() throws {
    let directory = try temporaryDirectory()
    let data = try model().jsonData()
    let truncated = directory.appendingPathComponent("truncated.json")
    try data.prefix(data.count / 2).write(to: truncated)
    expectError(containing: "truncated.json", "invalid or truncated") {
      _ = try Model<Float>(contentsOf: truncated)
    }

    var object = try JSONSerialization.jsonObject(with: data) as? [String: Any] ?? [:]
    object["version"] = 3
    let newer = directory.appendingPathComponent("newer.json")
    try JSONSerialization.data(withJSONObject: object).write(to: newer)
    expectError(containing: "newer.json", "format version 3", "newer Backprop") {
      _ = try Model<Float>(contentsOf: newer)
    }

    object["version"] = 1
    var layers = object["layers"] as? [[String: Any]] ?? []
    layers[2]["inputSize"] = 4
    layers[2]["weights"] = [[1, 2, 3, 4], [5, 6, 7, 8]]
    object["layers"] = layers
    let misfit = directory.appendingPathComponent("misfit.json")
    try JSONSerialization.data(withJSONObject: object).write(to: misfit)
    expectError(containing: "misfit.json", "do not fit the architecture", "expects 4 inputs") {
      _ = try Model<Float>(contentsOf: misfit)
    }

    layers[2]["inputSize"] = 5
    object["layers"] = layers
    let ragged = directory.appendingPathComponent("ragged.json")
    try JSONSerialization.data(withJSONObject: object).write(to: ragged)
    expectError(containing: "ragged.json, layer 2", "2 rows (one per output) of 5 values") {
      _ = try Model<Float>(contentsOf: ragged)
    }

    layers[1]["type"] = "swish"
    object["layers"] = layers
    let unknown = directory.appendingPathComponent("unknown.json")
    try JSONSerialization.data(withJSONObject: object).write(to: unknown)
    expectError(containing: "layer 1", "unknown layer type 'swish'") {
      _ = try Model<Float>(contentsOf: unknown)
    }

    let other = directory.appendingPathComponent("other.json")
    try Data("{\"format\": \"keras\"}".utf8).write(to: other)
    expectError(containing: "not a Backprop model file") { _ = try Model<Float>(contentsOf: other) }
  }

  @Test func aFailedWriteLeavesThePreviousFile() throws {
    let directory = try temporaryDirectory()
    let url = directory.appendingPathComponent("model.json")
    try AtomicFile.write(Data("previous".utf8), to: url)
    struct Crash: Error {}
    #expect(throws: Crash.self) {
      try AtomicFile.write(to: url) { writer in
        try writer.write(Data("half of the new con".utf8))
        throw Crash()
      }
    }
    #expect(try String(contentsOf: url, encoding: .utf8) == "previous")
    #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["model.json"])
    expectError(containing: "cannot create a file") {
      try AtomicFile.write(Data(), to: directory.appendingPathComponent("missing/model.json"))
    }
  }

  @Test func customLayersCannotBeSavedSilently() throws {
    struct Doubler: Layer {
      func callAsFunction(_ input: Variable<Float>) throws -> Variable<Float> { input * 2 }
      func converted<Other: TensorScalar>(to type: Other.Type) -> any Layer<Other> {
        Identity<Other>()
      }
      var description: String { "Doubler" }
    }
    let model = try Model(
      network: Sequential<Float>([Doubler()]), featureNames: ["x"],
      targetKind: .regression(columns: ["y"]), loss: .meanSquaredError)
    expectError(containing: "layer Doubler", "model files hold") { _ = try model.jsonData() }
  }

  // MARK: safetensors

  @Test func safetensorsRoundTripWithPyTorchNames() throws {
    let network = try model().network
    let file = network.safeTensors(metadata: ["format": "pt"])
    #expect(file.names == ["0.weight", "0.bias", "2.weight", "2.bias"])
    #expect(file["0.weight"]?.shape == [5, 3] && file["0.weight"]?.dtype == "F32")
    let decoded = try SafeTensors(data: file.encoded(), source: "w.safetensors")
    #expect(decoded == file)
    let copy = try Sequential<Float>.perceptron(sizes: [3, 5, 2], activation: .tanh, seed: 99)
    #expect(copy.parameters.map(\.value) != network.parameters.map(\.value))
    try copy.loadWeights(from: decoded)
    #expect(copy.parameters.map(\.value) == network.parameters.map(\.value))
    // The header is padded to 8 bytes, as the format requires.
    let bytes = try file.encoded()
    #expect(
      bytes.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) } % 8 == 0)
  }

  @Test func safetensorsThatDoNotFitAreRejectedWithoutChangingTheNetwork() throws {
    let network = try Sequential<Float>.perceptron(sizes: [3, 5, 2], activation: .tanh, seed: 4)
    let before = network.parameters.map(\.value)
    var file = network.safeTensors()
    file.set("2.weight", try Tensor<Float>(zeros: [2, 4]))
    expectError(containing: "'2.weight' has shape [2, 4]", "needs [2, 5]") {
      try network.loadWeights(from: file, source: "w.safetensors")
    }
    #expect(network.parameters.map(\.value) == before)
    file = network.safeTensors()
    file.set("4.weight", try Tensor<Float>(zeros: [1, 1]))
    expectError(containing: "[\"4.weight\"] have no place") { try network.loadWeights(from: file) }
    var missing = SafeTensors()
    missing.set("0.weight", try Tensor<Float>(zeros: [5, 3]))
    expectError(containing: "'0.bias' for layer 0", "is missing") {
      try network.loadWeights(from: missing)
    }
    let bytes = try network.safeTensors().encoded()
    expectError(containing: "x.safetensors", "do not fit") {
      _ = try SafeTensors(data: bytes.prefix(bytes.count - 4), source: "x.safetensors")
    }
    expectError(containing: "runs past the end") {
      _ = try SafeTensors(data: Data([255, 0, 0, 0, 0, 0, 0, 0, 1]), source: "x.safetensors")
    }
    // D2 of the hardening campaign: offsets near Int.max overflowed while the error was built.
    for offsets in ["[9223372036854775807, 9223372036854775807]", "[-9223372036854775808, 4]"] {
      let header = Data(#"{"w":{"dtype":"F32","shape":[1],"data_offsets":\#(offsets)}}"#.utf8)
      let file = withUnsafeBytes(of: UInt64(header.count).littleEndian) { Data($0) } + header
      expectError(containing: "x.safetensors", "'w' (F32 [1]) has data offsets", "do not fit") {
        _ = try SafeTensors(data: file + Data(count: 4), source: "x.safetensors")
      }
    }
  }

  @Test(.enabled(if: testPython != nil, "needs Scripts/python-env (Scripts/test sets it up)"))
  func pythonSafetensorsReadsOursAndWeReadTheirs() throws {
    let directory = try temporaryDirectory()
    let network = try Sequential<Float>.perceptron(sizes: [3, 4, 2], activation: .relu, seed: 2)
    try network.safeTensors(metadata: ["format": "pt"])
      .write(to: directory.appendingPathComponent("ours.safetensors"))
    let input = try Tensor<Float>([[0.5, -1, 2], [1, 1, -0.25]])
    // Python runs our weights as PyTorch's Linear does (y = x Wᵀ + b), writes its own file, and
    // prints both forward passes.
    let script = """
      import sys, json, numpy as np
      from safetensors.numpy import load_file, save_file
      d = sys.argv[1]
      x = np.array([[0.5, -1, 2], [1, 1, -0.25]], dtype=np.float32)
      def forward(t):
          h = np.maximum(x @ t['0.weight'].T + t['0.bias'], 0)
          return (h @ t['2.weight'].T + t['2.bias']).tolist()
      ours = load_file(d + '/ours.safetensors')
      rng = np.random.default_rng(0)
      theirs = {'0.weight': rng.standard_normal((4, 3)).astype(np.float32),
                '0.bias': rng.standard_normal(4).astype(np.float32),
                '2.weight': rng.standard_normal((2, 4)).astype(np.float32),
                '2.bias': rng.standard_normal(2).astype(np.float32)}
      save_file(theirs, d + '/theirs.safetensors', metadata={'format': 'pt'})
      print(json.dumps({'ours': forward(ours), 'theirs': forward(theirs),
                        'shapes': {k: list(v.shape) for k, v in ours.items()}}))
      """
    let printed = try runPython(script, [directory.path])
    struct Printed: Decodable {
      var ours: [[Float]]
      var theirs: [[Float]]
      var shapes: [String: [Int]]
    }
    let result = try JSONDecoder().decode(Printed.self, from: Data(printed.utf8))
    #expect(
      result.shapes == ["0.weight": [4, 3], "0.bias": [4], "2.weight": [2, 4], "2.bias": [2]])
    #expect(try network(input).isApproximatelyEqual(to: Tensor(result.ours), tolerance: 1e-6))
    let theirs = try SafeTensors(contentsOf: directory.appendingPathComponent("theirs.safetensors"))
    #expect(theirs.metadata == ["format": "pt"])
    try network.loadWeights(from: theirs)
    #expect(try network(input).isApproximatelyEqual(to: Tensor(result.theirs), tolerance: 1e-6))
  }
}
