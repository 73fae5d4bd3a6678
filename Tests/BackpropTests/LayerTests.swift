import Backprop
import Testing

@Suite("Layers")
struct LayerTests {
  @Test func linearComputesXTimesWPlusB() throws {
    func check<S: TensorScalar>(_: S.Type) throws {
      let layer = try Linear<S>(
        weights: [[1, 2, 3], [4, 5, 6]], layout: .inputByOutput, bias: [10, 20, 30])
      let output = try layer(Tensor<S>([[1, 1], [0, 2]]))
      #expect(output.scalars == [15, 27, 39, 18, 30, 42])
      // One sample of rank 1 gives a rank-1 output.
      #expect(try layer(Tensor<S>([1, 0])).scalars == [11, 22, 33])
    }
    try check(Float.self)
    try check(Double.self)
  }

  @Test func bothWeightLayoutsDescribeTheSameLayer() throws {
    // Seed 002 writes W1 as output × input and computes X @ W1.T + b1.
    let outputByInput: [[Double]] = [
      [0.1, 0.2, 0.3], [0.4, 0.5, 0.6], [0.7, 0.8, 0.9], [0.2, 0.3, 0.1],
    ]
    let fromPyTorchLayout = try Linear<Double>(
      weights: outputByInput, layout: .outputByInput, bias: nil)
    #expect(fromPyTorchLayout.weight.shape == [3, 4])
    #expect(fromPyTorchLayout.weightRows(layout: .outputByInput) == outputByInput)
    let transposed = (0..<3).map { i in outputByInput.map { $0[i] } }
    let fromNumPyLayout = try Linear<Double>(weights: transposed, layout: .inputByOutput, bias: nil)
    let x = Tensor<Double>([0.1, 0.2, 0.3])
    #expect(try fromPyTorchLayout(x) == fromNumPyLayout(x))
    #expect(
      approximatelyEqual(
        try fromPyTorchLayout(x).scalars, [0.14, 0.32, 0.50, 0.11], tolerance: 1e-15))
  }

  @Test func initializationIsSeededAndReproducible() throws {
    func make(_ seed: UInt64) throws -> [Double] {
      var generator = RandomGenerator(seed: seed)
      return try Linear<Double>(inputSize: 3, outputSize: 2, generator: &generator).weight.value
        .scalars
    }
    #expect(try make(5) == make(5))
    #expect(try make(5) != make(6))
  }

  @Test func sizeMismatchesAreReportedWhenBuilding() throws {
    var generator = RandomGenerator(seed: 1)
    expectError(containing: "layer 2", "expects 3 inputs", "layer 0", "gives 4") {
      _ = try Sequential<Double>(
        Linear(inputSize: 2, outputSize: 4, generator: &generator), Sigmoid(),
        Linear(inputSize: 3, outputSize: 1, generator: &generator))
    }
    expectError(containing: "must be positive") {
      _ = try Linear<Double>(inputSize: 0, outputSize: 2, generator: &generator)
    }
    expectError(containing: "bias needs one value per output neuron (2), got 3") {
      _ = try Linear<Double>(weights: [[1, 2]], layout: .inputByOutput, bias: [1, 2, 3])
    }
    expectError(containing: "row 1 has 1 elements") {
      _ = try Linear<Double>(weights: [[1, 2], [3]], layout: .inputByOutput, bias: nil)
    }
  }

  @Test func wrongInputShapesNameTheLayer() throws {
    var generator = RandomGenerator(seed: 1)
    let model = try Sequential<Double>(
      Linear(inputSize: 2, outputSize: 3, generator: &generator), ReLU(),
      Linear(inputSize: 3, outputSize: 1, generator: &generator))
    expectError(containing: "Linear(inputSize: 2, outputSize: 3", "[4, 3]", "[batchSize, 2]") {
      _ = try model(Tensor<Double>(zeros: [4, 3]))
    }
    expectError(containing: "[2, 2, 2]") { _ = try model(Tensor<Double>(zeros: [2, 2, 2])) }
  }

  @Test func everyLayerPrintsItsConfiguration() throws {
    var generator = RandomGenerator(seed: 1)
    let hidden = try Linear<Double>(inputSize: 2, outputSize: 2, generator: &generator)
    hidden.bias?.requiresGradient = false
    let model = try Sequential<Double>(
      hidden, Sigmoid(), Linear(inputSize: 2, outputSize: 3, bias: false, generator: &generator),
      Tanh(), ReLU(), LeakyReLU(slope: 0.01), Softmax(), Identity())
    #expect(
      model.description == """
        Sequential<Double>(
          (0) Linear(inputSize: 2, outputSize: 2, bias: true (frozen))
          (1) Sigmoid
          (2) Linear(inputSize: 2, outputSize: 3, bias: false)
          (3) Tanh
          (4) ReLU
          (5) LeakyReLU(slope: 0.01)
          (6) Softmax
          (7) Identity
        ) with 12 parameters
        """)
    #expect(model.namedParameters.map(\.name) == ["0.weight", "0.bias", "2.weight"])
    #expect(model.inputSize == 2)
    #expect(model.outputSize == 3)
  }

  @Test func freezingAndConversion() throws {
    var generator = RandomGenerator(seed: 2)
    let model = try Sequential<Float>(
      Linear(inputSize: 2, outputSize: 2, generator: &generator), Tanh(),
      Linear(inputSize: 2, outputSize: 1, generator: &generator))
    model.freeze()
    #expect(model.parameters.allSatisfy { !$0.requiresGradient })
    model.unfreeze()
    model.parameters[1].requiresGradient = false
    let copy = model.converted(to: Double.self)
    #expect(copy.parameters.map(\.requiresGradient) == [true, false, true, true])
    #expect(
      copy.parameters[0].value.scalars == model.parameters[0].value.scalars.map { Double($0) })
    let input = Tensor<Float>([0.5, -0.25])
    let floatOutput = try model(input).scalars[0]
    let doubleOutput = try copy(Tensor<Double>(input)).scalars[0]
    #expect(abs(Double(floatOutput) - doubleOutput) < 1e-6)
    // The copy shares nothing with the original.
    copy.parameters[0].value = try Tensor(zeros: [2, 2])
    #expect(model.parameters[0].value.scalars != [0, 0, 0, 0])
  }
}
