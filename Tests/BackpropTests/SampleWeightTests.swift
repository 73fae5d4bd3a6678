@testable import Backprop
import Foundation
import Testing

@Suite("Sample and class weights: the weighted loss on both training paths")
struct SampleWeightTests {
  func data() throws -> DataSet<Double> {
    try ToyData.twoMoons(count: 120, noise: 0.2, seed: 6)
  }

  /// Trains a fresh network on `data` for a few shuffled epochs, by the fused step or the graph.
  func train(_ data: DataSet<Double>, graph: Bool = false, loss: LossFunction = .crossEntropy)
    throws -> (History, [Tensor<Double>])
  {
    let network = try Sequential<Double>.perceptron(
      sizes: [2, 8, data.targetKind.width], activation: .tanh, dropout: 0.1, seed: 2, loss: loss)
    let run = {
      try network.fit(
        data, loss: loss, optimizer: try Adam(parameters: network.parameters, learningRate: 0.02),
        configuration: FitConfiguration(epochs: 4, batchSize: 16, seed: 3))
    }
    let history = try graph ? TrainingEngine.graphOnly(run) : run()
    return (history, network.parameters.map(\.value))
  }

  @Test func equalWeightsChangeNothingBitForBit() throws {
    let plain = try train(data())
    for weight in [1.0, 2.5] {
      let weighted = try train(data().weighted(by: Array(repeating: weight, count: 120)))
      #expect(weighted.1 == plain.1 && weighted.0 == plain.0, "weight \(weight)")
    }
  }

  @Test(arguments: [LossFunction.crossEntropy, .meanSquaredError, .halfSumOfSquares])
  func theFusedStepAndTheGraphWeighAlike(loss: LossFunction) throws {
    var generator = RandomGenerator(seed: 9)
    let weights = (0..<120).map { _ in generator.nextDouble() * 3 }
    let weighted = try data().weighted(by: weights)
    let (fused, fusedWeights) = try train(weighted, loss: loss)
    let (graph, graphWeights) = try train(weighted, graph: true, loss: loss)
    for (a, b) in zip(fusedWeights, graphWeights) {
      #expect(zip(a.scalars, b.scalars).allSatisfy { abs($0 - $1) < 1e-12 }, "\(loss)")
    }
    for (a, b) in zip(fused.rows.joined(), graph.rows.joined()) { #expect(abs(a - b) < 1e-12) }
    #expect(fusedWeights != (try train(data(), loss: loss)).1)
  }

  @Test func aWeightedBatchLossIsTheWeightedMeanOfItsSamplesLosses() throws {
    let set = try data()
    let network = try Sequential<Double>.perceptron(sizes: [2, 5, 2], activation: .tanh, seed: 4)
    let rows = Array(0..<10)
    let batch = try set.subset(rows)
    let weights = rows.map { Double($0 % 3) }
    let perSample = try rows.map { row in
      try SoftmaxCrossEntropy().value(
        prediction: try network(Variable(try set.subset([row]).features)).value,
        target: try set.subset([row]).targets)
    }
    let expected = zip(weights, perSample).reduce(0) { $0 + $1.0 * $1.1 } / weights.reduce(0, +)
    for graph in [false, true] {
      let copy = try Sequential<Double>.perceptron(sizes: [2, 5, 2], activation: .tanh, seed: 4)
      let optimizer = try SGD(parameters: copy.parameters, learningRate: 0)
      let history = try {
        let run = {
          try copy.fit(
            try batch.weighted(by: weights), loss: SoftmaxCrossEntropy(), optimizer: optimizer,
            configuration: FitConfiguration(epochs: 1, batchSize: 10, shuffle: false))
        }
        return try graph ? TrainingEngine.graphOnly(run) : run()
      }()
      #expect(abs((history.last("loss") ?? 0) - expected) < 1e-12, "graph: \(graph)")
    }
  }

  @Test func balancedClassWeightsAreScikitLearns() throws {
    // 6 of class a, 2 of b, 4 of c: n / (k · n_c) = 12 / (3 · n_c).
    let labels = [0, 0, 0, 0, 0, 0, 1, 1, 2, 2, 2, 2]
    let data = try DataSet<Double>(
      features: try Tensor(zeros: [12, 1]), labels: labels, classNames: ["a", "b", "c"])
    let balanced = try data.weightedByClass(.balanced).sampleWeights?.scalars ?? []
    let perClass: [Double] = [12.0 / 18, 12.0 / 6, 12.0 / 12]
    let expected: [Double] = labels.map { perClass[$0] }
    #expect(balanced == expected)
    let given =
      try data.weighted(by: Array(repeating: 2, count: 12))
      .weightedByClass(.given(["b": 5])).sampleWeights?.scalars ?? []
    let expectedGiven: [Double] = labels.map { $0 == 1 ? 10 : 2 }
    #expect(given == expectedGiven)
    #expect(throws: BackpropError.self) { _ = try data.weightedByClass(.given(["d": 1])) }
    #expect(throws: BackpropError.self) { _ = try data.weighted(by: [1, 2]) }
    #expect(throws: BackpropError.self) {
      _ = try data.weighted(by: Array(repeating: 0, count: 12))
    }
    #expect(throws: BackpropError.self) {
      _ = try data.weighted(by: [-1] + Array(repeating: 1, count: 11))
    }
    let regression: DataSet<Double> = try ToyData.sine(count: 10, noise: 0, seed: 1)
    #expect(throws: BackpropError.self) { _ = try regression.weightedByClass(.balanced) }
    // Weights follow their samples through a split.
    let parts = try data.weightedByClass(.balanced).split(testFraction: 0.25, seed: 1)
    #expect(parts.train.sampleWeights?.count == parts.train.count)
  }
}
