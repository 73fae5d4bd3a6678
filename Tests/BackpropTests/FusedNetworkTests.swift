import Backprop
import Foundation
import Testing

@Suite("Fused training")
struct FusedNetworkTests {
  /// One fused SGD step changes the weights as one step of the graph and the SGD optimizer does.
  @Test(arguments: LossFunction.allCases)
  func aFusedStepMatchesTheGraph(loss: LossFunction) throws {
    func network() throws -> Sequential<Double> {
      var generator = RandomGenerator(seed: 5)
      var layers: [any Layer<Double>] = [
        try Linear(inputSize: 5, outputSize: 40, generator: &generator), Tanh(),
        try Linear(inputSize: 40, outputSize: 30, generator: &generator), LeakyReLU(slope: 0.2),
        try Linear(inputSize: 30, outputSize: 3, generator: &generator),
      ]
      if loss == .binaryCrossEntropy { layers.append(Sigmoid()) }
      if loss == .halfSumOfSquares { layers.append(ReLU()) }
      return try Sequential(layers)
    }
    var generator = RandomGenerator(seed: 8)
    let input: Tensor<Double> = try randomTensor([64, 5], &generator)
    let target: Tensor<Double> =
      loss.isClassification
      ? try Tensor.oneHot(classIndices: (0..<64).map { $0 % 3 }, classCount: 3)
      : try randomTensor([64, 3], &generator, low: 0, high: 1)
    for momentum in [0.0, 0.9] {
      let graph = try network()
      let optimizer = try SGD(
        parameters: graph.parameters, learningRate: 0.05, momentum: momentum, weightDecay: 0.01)
      let fused = try network()
      let trainer = try FusedNetwork(fused, loss: loss)
      for _ in 0..<3 {
        let expected = try graph.trainingStep(
          input: input, target: target, loss: loss.loss, optimizer: optimizer)
        let value = input.withUnsafeBufferPointer { x in
          target.withUnsafeBufferPointer { t in
            trainer.step(
              features: x, targets: t, batch: 64, learningRate: 0.05, momentum: momentum,
              weightDecay: 0.01)
          }
        }
        #expect(
          abs(value - expected) <= 1e-12 * max(1, abs(expected)), "\(loss): \(value) vs \(expected)"
        )
      }
      for (a, b) in zip(fused.parameters, graph.parameters) {
        #expect(
          a.value.isApproximatelyEqual(to: b.value, tolerance: 1e-12),
          "\(loss) momentum \(momentum)")
      }
    }
  }

  @Test func trainingIsBitIdenticalOnAnyNumberOfThreads() throws {
    func train(threads: Int) throws -> [Tensor<Float>] {
      try withKernelSettings(threads: threads) {
        let network = try Sequential<Float>.perceptron(
          sizes: [300, 256, 10], activation: .relu, seed: 2)
        let trainer = try FusedNetwork(network, loss: .crossEntropy)
        var generator = RandomGenerator(seed: 3)
        let features = (0..<(256 * 300)).map { _ in Float(generator.nextDouble()) }
        let targets = try Tensor<Float>.oneHot(
          classIndices: (0..<256).map { $0 % 10 }, classCount: 10
        ).scalars
        for _ in 0..<3 {
          _ = features.withUnsafeBufferPointer { x in
            targets.withUnsafeBufferPointer { t in
              trainer.step(features: x, targets: t, batch: 256, learningRate: 0.1)
            }
          }
        }
        return network.parameters.map(\.value)
      }
    }
    let one = try train(threads: 1)
    #expect(try train(threads: 2) == one)
    #expect(try train(threads: 3) == one)
  }

  @Test func unsupportedNetworksAreRefusedByName() throws {
    var generator = RandomGenerator(seed: 1)
    let softmaxEnd = try Sequential<Double>(
      Linear(inputSize: 2, outputSize: 2, generator: &generator), Softmax())
    expectError(containing: "layer 1 (Softmax)") {
      _ = try FusedNetwork(softmaxEnd, loss: .crossEntropy)
    }
    let sigmoidEnd = try Sequential<Double>(
      Linear(inputSize: 2, outputSize: 2, generator: &generator), Sigmoid())
    expectError(containing: "must end in logits") {
      _ = try FusedNetwork(sigmoidEnd, loss: .crossEntropy)
    }
    let frozen = try Linear<Double>(inputSize: 2, outputSize: 2, generator: &generator)
    frozen.freeze()
    expectError(containing: "frozen") {
      _ = try FusedNetwork(Sequential<Double>(frozen), loss: .meanSquaredError)
    }
  }
}
