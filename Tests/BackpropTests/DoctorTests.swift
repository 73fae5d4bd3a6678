import Backprop
import Foundation
import Testing

@Suite("Doctor: why a network does not learn")
struct DoctorTests {
  /// XOR's four points, classes 0 and 1 as a single 0/1 target column.
  func xor() throws -> DataSet<Double> {
    try DataSet(
      features: Tensor([[0, 0], [0, 1], [1, 0], [1, 1]]), targets: Tensor([[0], [1], [1], [0]]))
  }

  func network(
    _ sizes: [Int], activation: any Layer<Double> = Sigmoid(),
    output: (any Layer<Double>)? = Sigmoid(),
    bias: Bool = true, weights: Initializer = .xavierUniform, biases: Initializer = .zeros,
    seed: UInt64 = 1
  ) throws -> Sequential<Double> {
    var generator = RandomGenerator(seed: seed)
    var layers: [any Layer<Double>] = []
    for (index, (inputs, outputs)) in zip(sizes, sizes.dropFirst()).enumerated() {
      layers.append(
        try Linear(
          inputSize: inputs, outputSize: outputs, bias: bias, weightInitializer: weights,
          biasInitializer: biases, generator: &generator))
      if index < sizes.count - 2 {
        layers.append(activation)
      } else if let output {
        layers.append(output)
      }
    }
    return try Sequential(layers)
  }

  func train(
    _ network: Sequential<Double>, _ data: DataSet<Double>, loss: LossFunction = .meanSquaredError,
    learningRate: Double = 0.5, epochs: Int = 200, batchSize: Int = 4, adam: Bool = false
  ) throws -> History {
    let optimizer: any Optimizer<Double> =
      adam
      ? try Adam(parameters: network.parameters, learningRate: learningRate)
      : try SGD(parameters: network.parameters, learningRate: learningRate, momentum: 0.9)
    return try network.fit(
      data, loss: loss.loss, optimizer: optimizer,
      configuration: FitConfiguration(epochs: epochs, batchSize: batchSize, seed: 1))
  }

  func problems(
    _ network: Sequential<Double>, _ data: DataSet<Double>, loss: LossFunction = .meanSquaredError,
    history: History? = nil
  ) throws -> [Diagnosis.Problem] {
    try Doctor.examine(network: network, data: data, loss: loss, history: history).map(\.problem)
  }

  @Test func noBiasWhereTheDataNeedOne() throws {
    // Seed 000: XOR through tanh and a sigmoid output without biases; (0, 0) stays at 0.5.
    let model = try network([2, 4, 1], activation: Tanh(), bias: false)
    let history = try train(model, try xor())
    let found = try Doctor.examine(
      network: model, data: xor(), loss: .meanSquaredError, history: history)
    #expect(found.map(\.problem).contains(.missingBias))
    let evidence = found.first { $0.problem == .missingBias }?.evidence ?? ""
    #expect(evidence.contains("gives (0.5) whatever the weights"), "\(evidence)")
    // With sigmoid hidden units the weights do reach the output: no such diagnosis.
    #expect(try !problems(network([2, 4, 1], bias: false), xor()).contains(.missingBias))
  }

  @Test func saturatedUnitsAndUnscaledInputs() throws {
    let raw: DataSet<Double> = try ToyData.twoMoons(count: 200, noise: 0.1, seed: 1)
    let data = try DataSet(
      features: raw.features * 200 + 1000, targets: raw.targets, targetKind: raw.targetKind)
    let model = try network([2, 8, 2], output: nil)
    let found = try problems(model, data, loss: .crossEntropy)
    #expect(found.contains(.saturatedUnits) && found.contains(.unscaledInputs))
    // The diagnosis names the saturated units as a step trace names them.
    let saturated = try Doctor.examine(network: model, data: data, loss: .crossEntropy).first {
      $0.problem == .saturatedUnits
    }
    let units = try #require(saturated?.units)
    #expect(units.count >= 4 && units.allSatisfy { $0.hasPrefix("h") && $0.count == 2 })
  }

  @Test func deadReLUs() throws {
    let data: DataSet<Double> = try ToyData.twoMoons(count: 200, noise: 0.1, seed: 1)
    let model = try network([2, 8, 2], activation: ReLU(), output: nil, biases: .constant(-5))
    #expect(try problems(model, data, loss: .crossEntropy).contains(.deadReLUs))
    let dead = try Doctor.examine(network: model, data: data, loss: .crossEntropy).first {
      $0.problem == .deadReLUs
    }
    #expect(dead?.units == (1...8).map { "h\($0)" })
  }

  @Test func vanishingAndExplodingGradients() throws {
    let data: DataSet<Double> = try ToyData.twoMoons(count: 100, noise: 0.1, seed: 1)
    let deep = try network(
      [2, 16, 16, 16, 16, 16, 16, 2], output: nil, weights: .normal(mean: 0, standardDeviation: 0.1)
    )
    #expect(try problems(deep, data, loss: .crossEntropy).contains(.vanishingGradients))
    let wild = try network(
      [2, 32, 32, 32, 32, 2], activation: Identity(), output: nil,
      weights: .normal(mean: 0, standardDeviation: 4))
    #expect(try problems(wild, data, loss: .crossEntropy).contains(.explodingGradients))
  }

  @Test func learningRateTooHighOrTooLow() throws {
    let data: DataSet<Double> = try ToyData.twoMoons(count: 100, noise: 0.1, seed: 1)
    let high = try network([2, 8, 2], activation: ReLU(), output: nil)
    let rising = try train(
      high, data, loss: .crossEntropy, learningRate: 30, epochs: 20, batchSize: 10)
    #expect(
      try problems(high, data, loss: .crossEntropy, history: rising).contains(.learningRateTooHigh))
    let low = try network([2, 8, 2], activation: Tanh(), output: nil)
    let flat = try train(
      low, data, loss: .crossEntropy, learningRate: 1e-6, epochs: 20, batchSize: 10)
    #expect(try problems(low, data, loss: .crossEntropy, history: flat) == [.learningRateTooLow])
  }

  @Test func symmetricInitialization() throws {
    let model = try network([2, 4, 1], weights: .constant(0.5))
    #expect(try problems(model, xor()).contains(.symmetricInitialization))
  }

  @Test func targetsThatDoNotFitTheOutput() throws {
    let data: DataSet<Double> = try DataSet(
      features: Tensor([[0.1], [0.5], [0.9]]), targets: Tensor([[2], [5], [9]]))
    let model = try network([1, 4, 1])
    let found = try Doctor.examine(network: model, data: data, loss: .meanSquaredError)
    #expect(found.map(\.problem) == [.targetsDoNotFit])
    #expect(found[0].evidence.contains("sigmoid") && found[0].evidence.contains("[2, 9]"))
    let classes: DataSet<Double> = try ToyData.twoMoons(count: 20, seed: 1)
    let doubleSoftmax = try network([2, 4, 2], output: Softmax())
    #expect(try problems(doubleSoftmax, classes, loss: .crossEntropy).contains(.targetsDoNotFit))
  }

  @Test func tooLittleCapacity() throws {
    // XOR with one hidden unit cannot be solved; with four it can.
    let data = try xor()
    let small = try network([2, 1, 1])
    let smallHistory = try train(small, data, learningRate: 0.05, epochs: 400, adam: true)
    let wide = try network([2, 4, 1])
    let wideHistory = try train(wide, data, learningRate: 0.05, epochs: 400, adam: true)
    let found = Doctor.capacity(
      history: smallHistory, widerHistory: wideHistory, description: "2-1-1",
      widerDescription: "2-4-1")
    #expect(found.map(\.problem) == [.tooLittleCapacity])
    #expect(
      Doctor.capacity(
        history: wideHistory, widerHistory: wideHistory, description: "", widerDescription: ""
      ).isEmpty)
  }

  @Test(arguments: [Demo.Name.mazur, .softmax, .xor, .sine, .sineBoundary])
  func theSeedDemosThatWorkGetNoFalseAlarm(name: Demo.Name) throws {
    let report = try Demo.run(name)
    let network = try Sequential<Double>(report.network.map { try $0.makeLayer(as: Double.self) })
    let data = try DataSet(features: Tensor(report.inputs), targets: Tensor(report.targets))
    var history = History()
    for record in report.lossHistory { history.append(["loss": record.loss]) }
    let found = try Doctor.examine(network: network, data: data, loss: name.loss, history: history)
    #expect(found.isEmpty, "\(found)")
  }
}
