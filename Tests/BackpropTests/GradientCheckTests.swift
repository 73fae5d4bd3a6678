import Backprop
import Testing

/// Every differentiable operation, layer and loss checked against central differences in Double,
/// on random shapes and values (three seeds each). Outputs that are not scalars are reduced with
/// random weights, so every entry of the Jacobian takes part.
@Suite("Gradient check")
struct GradientCheckTests {
  typealias Operation = ([Variable<Double>]) throws -> Variable<Double>

  /// Draws inputs of the given shapes, away from 0 by at least 0.05 (the kinks of ReLU and |x|).
  static func check(
    _ name: String, seed: UInt64, shapes: [[Int]], positive: Bool = false, _ operation: Operation
  ) throws {
    var generator = RandomGenerator(seed: seed)
    let inputs = try shapes.enumerated().map { index, shape -> Variable<Double> in
      var value: Tensor<Double> = try randomTensor(shape, &generator, low: 0.05, high: 1)
      let signs: Tensor<Double> = try randomTensor(shape, &generator)
      if !positive { value = try value * signs.map { $0 < 0 ? -1 : 1 } }
      return Variable(value, requiresGradient: true, name: "input\(index)")
    }
    let probe = try GradientRecording.withoutRecording { try operation(inputs) }
    let weights = Variable(try randomTensor(probe.shape, &generator) as Tensor<Double>)
    let report = try GradientCheck.check(parameters: inputs.map { ($0.name, $0) }) {
      try (operation(inputs) * weights).sum()
    }
    #expect(report.passed, "\(name) with shapes \(shapes):\n\(report)")
  }

  /// A random shape of the given rank with dimensions 1...4.
  static func shape(rank: Int, _ generator: inout RandomGenerator) -> [Int] {
    (0..<rank).map { _ in 1 + generator.nextInt(below: 4) }
  }

  @Test(arguments: [1, 2, 3] as [UInt64])
  func elementwiseOperations(seed: UInt64) throws {
    var generator = RandomGenerator(seed: seed + 100)
    let s = Self.shape(rank: 2, &generator)
    let row = [s[1]]
    let unary: [(String, Bool, Operation)] = [
      ("exp", false, { $0[0].exp() }),
      ("log", true, { $0[0].log() }),
      ("tanh", false, { $0[0].tanh() }),
      ("sigmoid", false, { $0[0].sigmoid() }),
      ("relu", false, { $0[0].relu() }),
      ("leakyRelu", false, { $0[0].leakyRelu(slope: 0.1) }),
      ("scale", false, { $0[0] * 3 }),
      ("shift", false, { $0[0] + 3 }),
      ("negate", false, { -$0[0] }),
      ("reverse subtract", false, { 2 - $0[0] }),
      ("divide by constant", false, { $0[0] / 4 }),
      ("squared", false, { try $0[0].squared() }),
      ("reshape", false, { try $0[0].reshaped(to: [-1]) }),
      ("logSoftmax last axis", false, { try $0[0].logSoftmax(alongAxis: -1) }),
      ("logSoftmax first axis", false, { try $0[0].logSoftmax(alongAxis: 0) }),
      ("softmax", false, { try $0[0].softmax() }),
      ("sum", false, { $0[0].sum() }),
      ("sum axis 0", false, { try $0[0].sum(alongAxis: 0) }),
      ("sum axis 1 kept", false, { try $0[0].sum(alongAxis: 1, keepingDimension: true) }),
      ("mean", false, { $0[0].mean() }),
      ("mean axis 1", false, { try $0[0].mean(alongAxis: 1) }),
      ("max", false, { try $0[0].max() }),
      ("max axis 0", false, { try $0[0].max(alongAxis: 0) }),
      ("max axis 1", false, { try $0[0].max(alongAxis: 1) }),
    ]
    for (name, positive, operation) in unary {
      try Self.check(name, seed: seed, shapes: [s], positive: positive, operation)
    }
    let binary: [(String, [[Int]], Bool, Operation)] = [
      ("add", [s, s], false, { try $0[0] + $0[1] }),
      ("add broadcast row", [s, row], false, { try $0[0] + $0[1] }),
      ("subtract broadcast", [row, s], false, { try $0[0] - $0[1] }),
      ("multiply broadcast column", [s, [s[0], 1]], false, { try $0[0] * $0[1] }),
      ("multiply by rank 0", [s, []], false, { try $0[0] * $0[1] }),
      ("divide", [s, s], true, { try $0[0] / $0[1] }),
      ("divide broadcast", [row, s], true, { try $0[0] / $0[1] }),
    ]
    for (name, shapes, positive, operation) in binary {
      try Self.check(name, seed: seed, shapes: shapes, positive: positive, operation)
    }
  }

  @Test(arguments: [1, 2, 3] as [UInt64])
  func matrixProducts(seed: UInt64) throws {
    var generator = RandomGenerator(seed: seed + 200)
    let (m, k, n) = (
      1 + generator.nextInt(below: 4), 1 + generator.nextInt(below: 4),
      1 + generator.nextInt(below: 4)
    )
    for transposeA in [false, true] {
      for transposeB in [false, true] {
        try Self.check(
          "matmul \(transposeA) \(transposeB)", seed: seed,
          shapes: [transposeA ? [k, m] : [m, k], transposeB ? [n, k] : [k, n]]
        ) { try $0[0].matmul($0[1], transposingSelf: transposeA, transposingOther: transposeB) }
      }
    }
  }

  static func layers(_ generator: inout RandomGenerator) throws -> [any Layer<Double>] {
    [
      try Linear(inputSize: 3, outputSize: 4, generator: &generator),
      try Linear(inputSize: 3, outputSize: 2, bias: false, generator: &generator),
      try Linear(
        inputSize: 3, outputSize: 3, biasInitializer: .normal(mean: 0, standardDeviation: 1),
        generator: &generator),
      Sigmoid(), Tanh(), ReLU(), LeakyReLU(slope: 0.2), Softmax(), Identity(),
      try Sequential(
        Linear(inputSize: 3, outputSize: 5, generator: &generator), Tanh(),
        Linear(inputSize: 5, outputSize: 3, generator: &generator), Softmax()),
    ]
  }

  @Test(arguments: [1, 2, 3] as [UInt64])
  func everyLayer(seed: UInt64) throws {
    var generator = RandomGenerator(seed: seed)
    for layer in try Self.layers(&generator) {
      let batch = 1 + generator.nextInt(below: 4)
      let input = Variable(try randomTensor([batch, 3], &generator) as Tensor<Double>)
      let output = try GradientRecording.withoutRecording { try layer(input) }
      let weights = Variable(try randomTensor(output.shape, &generator) as Tensor<Double>)
      // Check the parameters and the input together.
      input.requiresGradient = true
      let report = try GradientCheck.check(parameters: layer.namedParameters + [("input", input)]) {
        try (layer(input) * weights).sum()
      }
      #expect(report.passed, "\(layer):\n\(report)")
    }
  }

  static let losses: [any Loss] =
    Reduction.allCases.flatMap { reduction -> [any Loss] in
      [
        MeanSquaredError(reduction: reduction), HalfSumOfSquares(reduction: reduction),
        BinaryCrossEntropy(reduction: reduction), SoftmaxCrossEntropy(reduction: reduction),
      ]
    }

  @Test(arguments: [1, 2, 3] as [UInt64])
  func everyLoss(seed: UInt64) throws {
    var generator = RandomGenerator(seed: seed)
    for loss in Self.losses {
      let shape = [1 + generator.nextInt(below: 4), 2 + generator.nextInt(below: 3)]
      let prediction = Variable(
        try randomTensor(shape, &generator) as Tensor<Double>, requiresGradient: true)
      var target: Tensor<Double> = try randomTensor(shape, &generator, low: 0, high: 1)
      // Binary cross-entropy takes probabilities; softmax cross-entropy a probability row each.
      let squash = loss is BinaryCrossEntropy
      if loss is SoftmaxCrossEntropy { target = try target.softmax() }
      let report = try GradientCheck.check(parameters: [("prediction", prediction)]) {
        try loss(squash ? prediction.sigmoid() : prediction, target)
      }
      #expect(report.passed, "\(loss):\n\(report)")
    }
  }

  @Test func floatModelsAreCheckedInDouble() throws {
    var generator = RandomGenerator(seed: 4)
    let model = try Sequential<Float>(
      Linear(inputSize: 2, outputSize: 3, generator: &generator), Tanh(),
      Linear(inputSize: 3, outputSize: 2, generator: &generator))
    model.layers.first.map { ($0 as? Linear<Float>)?.bias?.requiresGradient = false }
    let report = try GradientCheck.check(
      model: model, loss: SoftmaxCrossEntropy(), input: try randomTensor([4, 2], &generator),
      target: Tensor([0, 1, 1, 0]))
    #expect(report.passed, "\(report)")
    #expect(report.results.map(\.name) == ["0.weight", "0.bias", "2.weight", "2.bias"])
    #expect(report.results[1].isFrozen)
    #expect(report.description.contains("frozen, not checked"))
  }

  /// A gradient that misses a contribution (here: one factor of x·x is cut off the graph, so the
  /// automatic gradient is x while the true one is 2x) must fail, and name the element.
  @Test func aWrongGradientFails() throws {
    let x = Variable(Tensor<Double>([0.5, -1, 2]), requiresGradient: true, name: "x")
    let report = try GradientCheck.check(parameters: [("x", x)]) { try (x * x.detached()).sum() }
    #expect(!report.passed)
    #expect(report.results[0].worstIndex == 2)
    #expect(abs(report.results[0].maxRelativeError - 0.5) < 1e-6)
    #expect(report.description.contains("FAIL at element 2"))
  }

  @Test func theCheckLeavesValuesAndGradientsAsTheyWere() throws {
    let x = Variable(Tensor<Double>([0.3, 0.7]), requiresGradient: true)
    x.gradient = Tensor([9, 9])
    _ = try GradientCheck.check(parameters: [("x", x)]) { x.tanh().sum() }
    #expect(x.value.scalars == [0.3, 0.7])
    #expect(x.gradient?.scalars == [9, 9])
  }
}
