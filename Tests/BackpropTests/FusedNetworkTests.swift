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

  /// The same bits on any number of threads, with the step's middle split across them (300 +
  /// 256 + 10 activations a sample, small products) and the next batch read into cache or not.
  @Test(arguments: [ActivationFunction.relu, .tanh])
  func trainingIsBitIdenticalOnAnyNumberOfThreads(activation: ActivationFunction) throws {
    let batch = 256
    var generator = RandomGenerator(seed: 3)
    let features = (0..<(2 * batch * 300)).map { _ in Float(generator.nextDouble()) }
    let targets = try Tensor<Float>.oneHot(
      classIndices: (0..<(2 * batch)).map { $0 % 10 }, classCount: 10
    ).scalars
    func train(threads: Int, warming: Bool) throws -> ([Tensor<Float>], [Float]) {
      try withKernelSettings(threads: threads) {
        let network = try Sequential<Float>.perceptron(
          sizes: [300, 256, 10], activation: activation, seed: 2)
        let trainer = try FusedNetwork(network, loss: .crossEntropy)
        let losses = features.withUnsafeBufferPointer { x in
          targets.withUnsafeBufferPointer { t in
            (0..<4).map { step in
              let (this, next) = (step % 2, (step + 1) % 2)
              return trainer.step(
                features: UnsafeBufferPointer(rebasing: x[(this * batch * 300)...]),
                targets: UnsafeBufferPointer(rebasing: t[(this * batch * 10)...]), batch: batch,
                learningRate: 0.1,
                upcomingFeatures: warming
                  ? UnsafeBufferPointer(
                    rebasing: x[(next * batch * 300)..<((next + 1) * batch * 300)])
                  : nil)
            }
          }
        }
        return (network.parameters.map(\.value), losses)
      }
    }
    let one = try train(threads: 1, warming: false)
    #expect(one.1.allSatisfy { $0.isFinite })
    for (threads, warming) in [(1, true), (2, false), (2, true), (3, true)] {
      let other = try train(threads: threads, warming: warming)
      #expect(other.0 == one.0, "\(threads) threads, warming \(warming)")
      #expect(other.1 == one.1, "\(threads) threads, warming \(warming)")
    }
  }

  /// Float steps, with the vectorized bias-and-activation and softmax kernels, follow the Double
  /// graph of the same network to within Float's precision.
  @Test(arguments: [LossFunction.crossEntropy, .binaryCrossEntropy, .meanSquaredError])
  func floatStepsFollowTheDoubleGraph(loss: LossFunction) throws {
    func network<Scalar: TensorScalar>(_: Scalar.Type) throws -> Sequential<Scalar> {
      var generator = RandomGenerator(seed: 6)
      var layers: [any Layer<Scalar>] = [
        try Linear(inputSize: 7, outputSize: 37, generator: &generator), Tanh(),
        try Linear(inputSize: 37, outputSize: 19, generator: &generator), Sigmoid(),
        try Linear(inputSize: 19, outputSize: 5, generator: &generator),
      ]
      if loss == .binaryCrossEntropy { layers.append(Sigmoid()) }
      return try Sequential(layers)
    }
    var generator = RandomGenerator(seed: 9)
    let input: Tensor<Double> = try randomTensor([96, 7], &generator)
    let target: Tensor<Double> =
      loss.isClassification
      ? try Tensor.oneHot(classIndices: (0..<96).map { ($0 * 7) % 5 }, classCount: 5)
      : try randomTensor([96, 5], &generator, low: 0, high: 1)
    let graph = try network(Double.self)
    let optimizer = try SGD(parameters: graph.parameters, learningRate: 0.5)
    let fused = try network(Float.self)
    for (float, double) in zip(fused.parameters, graph.parameters) {
      float.value = try Tensor(
        shape: double.value.shape, scalars: double.value.scalars.map(Float.init))
    }
    let trainer = try FusedNetwork(fused, loss: loss)
    let (x, t) = (input.scalars.map(Float.init), target.scalars.map(Float.init))
    for _ in 0..<5 {
      let expected = try graph.trainingStep(
        input: input, target: target, loss: loss.loss, optimizer: optimizer)
      let value = x.withUnsafeBufferPointer { x in
        t.withUnsafeBufferPointer { t in
          trainer.step(features: x, targets: t, batch: 96, learningRate: 0.5)
        }
      }
      #expect(abs(Double(value) - expected) <= 1e-5 * max(1, abs(expected)), "\(loss)")
    }
    for (float, double) in zip(fused.parameters, graph.parameters) {
      let difference =
        zip(float.value.scalars, double.value.scalars).map {
          abs(Double($0) - $1)
        }.max() ?? 0
      #expect(difference <= 1e-5, "\(loss): weights differ by \(difference)")
    }
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
