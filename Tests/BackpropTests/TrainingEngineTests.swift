import Foundation
import Testing

@testable import Backprop

@Suite("One training engine: the fused step and the graph")
struct TrainingEngineTests {
  /// The optimizers of the comparison, made for a network's parameters.
  enum OptimizerCase: CaseIterable {
    case plainSGD, momentumWithDecay, nesterov, adamWithDecay

    /// The optimizer, its learning rate scaled by `rate` (a summed loss needs a smaller one).
    func make(_ parameters: [Variable<Double>], rate: Double = 1) throws -> any Optimizer<Double> {
      switch self {
      case .plainSGD: try SGD(parameters: parameters, learningRate: 0.1 * rate)
      case .momentumWithDecay:
        try SGD(
          parameters: parameters, learningRate: 0.05 * rate, momentum: 0.9, weightDecay: 0.01)
      case .nesterov:
        try SGD(parameters: parameters, learningRate: 0.05 * rate, momentum: 0.8, nesterov: true)
      case .adamWithDecay:
        try Adam(parameters: parameters, learningRate: 0.01 * rate, weightDecay: 0.02)
      }
    }
  }

  static let activations: [ElementwiseActivation] = [
    .sigmoid, .tanh, .relu, .leaky(slope: 0.1), .identity,
  ]

  /// A random 5-9-7-3 network ending as `loss` needs, with a dropout after the first hidden
  /// layer and the first layer's bias frozen (as Mazur's biases are).
  static func network(
    loss: LossFunction, activation: ElementwiseActivation, seed: UInt64
  ) throws -> Sequential<Double> {
    var generator = RandomGenerator(seed: seed)
    func layer(_ activation: ElementwiseActivation) -> any Layer<Double> {
      switch activation {
      case .sigmoid: Sigmoid()
      case .tanh: Tanh()
      case .relu: ReLU()
      case .leaky(let slope): LeakyReLU(slope: slope)
      case .identity: Identity()
      }
    }
    let first = try Linear<Double>(inputSize: 5, outputSize: 9, generator: &generator)
    first.bias?.requiresGradient = false
    var layers: [any Layer<Double>] = [
      first, layer(activation), try Dropout(rate: 0.25, seed: seed),
      try Linear(inputSize: 9, outputSize: 7, generator: &generator), layer(activation),
      try Linear(inputSize: 7, outputSize: 3, generator: &generator),
    ]
    switch loss {
    case .binaryCrossEntropy: layers.append(Sigmoid())
    case .meanSquaredError, .halfSumOfSquares: layers.append(layer(activation))
    case .crossEntropy: break
    }
    return try Sequential(layers)
  }

  static func data(for loss: LossFunction) throws -> (DataSet<Double>, DataSet<Double>) {
    var generator = RandomGenerator(seed: 11)
    let features: Tensor<Double> = try randomTensor([40, 5], &generator)
    let labels = (0..<40).map { ($0 * 7) % 3 }
    let set: DataSet<Double>
    if loss == .crossEntropy {
      set = try DataSet(features: features, labels: labels, classNames: ["a", "b", "c"])
    } else {
      set = try DataSet(
        features: features, targets: try randomTensor([40, 3], &generator, low: 0, high: 1))
    }
    return (try set.subset(Array(0..<30)), try set.subset(Array(30..<40)))
  }

  /// `fit` through the fused step gives the graph's history and weights, to 1e-12, for every
  /// loss × optimizer × activation, with dropout, a frozen bias, shuffling and validation.
  @Test(arguments: LossFunction.allCases, activations)
  func fitMatchesTheGraph(loss: LossFunction, activation: ElementwiseActivation) throws {
    let (train, validation) = try Self.data(for: loss)
    for optimizerCase in OptimizerCase.allCases {
      func run(fused: Bool) throws -> (History, [Tensor<Double>]) {
        let model = try Self.network(loss: loss, activation: activation, seed: 4)
        #expect((model.fusedStep(for: loss.loss) != nil) == true)
        let configuration = FitConfiguration(epochs: 3, batchSize: 8, seed: 2)
        let body = {
          try model.fit(
            train, validation: validation, loss: loss.loss,
            optimizer: try optimizerCase.make(
              model.parameters, rate: loss == .halfSumOfSquares ? 1.0 / 8 : 1),
            configuration: configuration)
        }
        let history = try fused ? body() : TrainingEngine.graphOnly(body)
        return (history, model.parameters.map(\.value))
      }
      let (fused, graph) = (try run(fused: true), try run(fused: false))
      let context = "\(loss), \(activation.name), \(optimizerCase)"
      #expect(fused.0.columns == graph.0.columns, "\(context)")
      for (a, b) in zip(fused.0.rows.joined(), graph.0.rows.joined()) {
        #expect(abs(a - b) <= 1e-12 * max(1, abs(b)), "\(context): history \(a) vs \(b)")
      }
      for (a, b) in zip(fused.1, graph.1) {
        #expect(a.isApproximatelyEqual(to: b, tolerance: 1e-12), "\(context)")
      }
    }
  }

  /// Inference through the fused forward pass (`evaluate`, the outputs `Model.predict` reads)
  /// gives the graph's numbers, in chunks of 1024 rows and for every loss's output.
  @Test(arguments: LossFunction.allCases)
  func inferenceMatchesTheGraph(loss: LossFunction) throws {
    let model = try Self.network(loss: loss, activation: .tanh, seed: 12)
    var generator = RandomGenerator(seed: 13)
    let features: Tensor<Double> = try randomTensor([2500, 5], &generator)
    let fused = try model.outputs(for: features, loss: loss.loss)
    let graph = try TrainingEngine.graphOnly { try model.outputs(for: features, loss: loss.loss) }
    #expect(fused.shape == [2500, 3] && fused.isApproximatelyEqual(to: graph, tolerance: 1e-12))
    let train = try Self.data(for: loss).0
    let evaluations = try [true, false].map { useFused in
      let body = { try model.evaluate(on: train, loss: loss.loss, batchSize: 7) }
      return try useFused ? body() : TrainingEngine.graphOnly(body)
    }
    #expect(abs(evaluations[0].loss - evaluations[1].loss) <= 1e-12 * max(1, evaluations[1].loss))
    #expect(evaluations[0].metrics.keys == evaluations[1].metrics.keys)
    for (name, value) in evaluations[0].metrics {
      #expect(abs(value - (evaluations[1].metrics[name] ?? .nan)) <= 1e-12, "\(name)")
    }
  }

  /// The reductions other than the defaults, and class-index targets, through `trainingStep`.
  @Test func trainingStepMatchesTheGraphForEveryReduction() throws {
    let losses: [(any Loss, LossFunction)] = [
      (MeanSquaredError(reduction: .sum), .meanSquaredError),
      (HalfSumOfSquares(reduction: .mean), .halfSumOfSquares),
      (BinaryCrossEntropy(reduction: .sum), .binaryCrossEntropy),
      (SoftmaxCrossEntropy(reduction: .sum), .crossEntropy),
    ]
    var generator = RandomGenerator(seed: 3)
    let input: Tensor<Double> = try randomTensor([6, 5], &generator)
    let target: Tensor<Double> = try randomTensor([6, 3], &generator, low: 0, high: 1)
    for (loss, kind) in losses {
      func run(fused: Bool) throws -> ([Double], [Tensor<Double>]) {
        let model = try Self.network(loss: kind, activation: .tanh, seed: 9)
        let optimizer = try SGD(parameters: model.parameters, learningRate: 0.1, momentum: 0.5)
        let body = {
          try (0..<3).map { _ in
            try model.trainingStep(input: input, target: target, loss: loss, optimizer: optimizer)
          }
        }
        return (try fused ? body() : TrainingEngine.graphOnly(body), model.parameters.map(\.value))
      }
      let (fused, graph) = (try run(fused: true), try run(fused: false))
      for (a, b) in zip(fused.0, graph.0) {
        #expect(abs(a - b) <= 1e-12 * max(1, abs(b)), "\(loss): \(a) vs \(b)")
      }
      for (a, b) in zip(fused.1, graph.1) {
        #expect(a.isApproximatelyEqual(to: b, tolerance: 1e-12), "\(loss)")
      }
    }
  }

  /// The engine is cached on the network and remembers the last optimizer's kind: steps that
  /// alternate plain SGD (fused into the product), momentum and Adam on one network still
  /// follow the graph.
  @Test func aCachedEngineFollowsEachNewOptimizer() throws {
    var generator = RandomGenerator(seed: 5)
    let input: Tensor<Double> = try randomTensor([6, 5], &generator)
    let target: Tensor<Double> = try randomTensor([6, 3], &generator, low: 0, high: 1)
    let loss = MeanSquaredError()
    func run(fused: Bool) throws -> [Tensor<Double>] {
      let model = try Self.network(loss: .meanSquaredError, activation: .tanh, seed: 4)
      // All alive at once, so that no optimizer can take the address of one that has gone.
      let optimizers = try [OptimizerCase.plainSGD, .momentumWithDecay, .plainSGD, .adamWithDecay]
        .map { try $0.make(model.parameters) }
      let body = {
        for optimizer in optimizers + optimizers {
          for _ in 0..<2 {
            _ = try model.trainingStep(
              input: input, target: target, loss: loss, optimizer: optimizer)
          }
        }
      }
      try fused ? body() : TrainingEngine.graphOnly(body)
      return model.parameters.map(\.value)
    }
    for (a, b) in zip(try run(fused: true), try run(fused: false)) {
      #expect(a.isApproximatelyEqual(to: b, tolerance: 1e-12))
    }
  }

  /// Both paths agree with central differences: the fused step's gradients (left in each
  /// parameter's `gradient` for an optimizer other than plain SGD) pass the gradient check.
  @Test func theFusedGradientsPassTheGradientCheck() throws {
    var generator = RandomGenerator(seed: 5)
    let input: Tensor<Double> = try randomTensor([4, 5], &generator)
    let target = try Tensor<Double>.oneHot(classIndices: [0, 2, 1, 2], classCount: 3)
    let model = try Self.network(loss: .crossEntropy, activation: .sigmoid, seed: 1)
    let report = try GradientCheck.check(
      model: model, loss: SoftmaxCrossEntropy(), input: input, target: target)
    #expect(report.passed)
    let before = model.parameters.map(\.value)
    let optimizer = try Adam(parameters: model.parameters, learningRate: 0)
    try model.trainingStep(
      input: input, target: target, loss: SoftmaxCrossEntropy(), optimizer: optimizer)
    #expect(model.parameters.map(\.value) == before)
    let graph = try Self.network(loss: .crossEntropy, activation: .sigmoid, seed: 1)
    try SoftmaxCrossEntropy()(graph(Variable(input)), target).backward()
    for (fused, expected) in zip(model.parameters, graph.parameters) {
      guard let expected = expected.gradient else {
        #expect(fused.gradient == nil)
        continue
      }
      #expect(fused.gradient?.isApproximatelyEqual(to: expected, tolerance: 1e-12) == true)
    }
  }

  /// Targets whose rows do not sum to 1 get ∂E/∂z = p·Σt − t on both paths.
  @Test func softTargetsGetTheirTrueGradient() throws {
    let logits = try Tensor<Double>([[0.2, -0.4, 1.1]])
    let target = try Tensor<Double>([[1, 1, 0]])
    let p = try logits.softmax(alongAxis: -1).scalars
    let expected = zip(p, target.scalars).map { 2 * $0 - $1 }
    let variable = Variable(logits, requiresGradient: true)
    try SoftmaxCrossEntropy()(variable, target).backward()
    for (a, b) in zip(variable.gradient?.scalars ?? [], expected) { #expect(abs(a - b) <= 1e-15) }
    // The fused step: a 3-3 identity layer, whose weight gradient is xᵀ(p·Σt − t) for x = e₀.
    let layer = try Linear<Double>(
      weights: [[1, 0, 0], [0, 1, 0], [0, 0, 1]], layout: .inputByOutput, bias: [0, 0, 0])
    let model = try Sequential<Double>(layer)
    let optimizer = try Adam(parameters: model.parameters, learningRate: 0)
    layer.bias?.value = logits.reshapedToVector
    try model.trainingStep(
      input: try Tensor([[0, 0, 0]]), target: target, loss: SoftmaxCrossEntropy(),
      optimizer: optimizer)
    for (a, b) in zip(layer.bias?.gradient?.scalars ?? [], expected) {
      #expect(abs(a - b) <= 1e-15)
    }
  }

  /// Binary cross-entropy after a sigmoid is the stable logit form on every path: PyTorch's
  /// `BCEWithLogitsLoss`, here from 60-digit arithmetic (mpmath), to 1e-12 for |z| up to 1000.
  @Test func binaryCrossEntropyIsStableInTheLogitForm() throws {
    let references: [(z: Double, t: Double, loss: Double, gradient: Double)] = [
      (-1000, 0, 0.0, 0), (-1000, 0.3, 299.9999999999999889, -0.2999999999999999889),
      (-1000, 1, 1000.0, -1.0), (-100, 0, 3.7200759760208359644e-44, 3.720075976020835963e-44),
      (-100, 1, 100.0, -1.0), (-50, 1, 50.0, -1.0),
      (-20, 0, 2.0611536203143807032e-9, 2.0611536181902035814e-9),
      (-20, 0.3, 6.0000000020611533983, -0.29999999793884637071),
      (-3, 1, 3.0485873515737420588, -0.95257412682243321912),
      (-0.5, 0.3, 0.62407698418010664901, 0.077540668798145446463),
      (0, 1, 0.69314718055994530942, -0.5),
      (0.5, 0, 0.97407698418010668087, 0.62245933120185456464),
      (3, 0.3, 2.1485873515737419228, 0.65257412682243323022),
      (20, 1, 2.0611536203143807032e-9, -2.0611536181902035814e-9),
      (50, 0, 50.0, 1.0), (100, 0.3, 69.999999999999995559, 0.7000000000000000111),
      (1000, 0, 1000.0, 1.0), (1000, 1, 0.0, 0.0),
    ]
    for reference in references {
      for fused in [true, false] {
        // One weight w = z on an input of 1, then a sigmoid: ∂E/∂w = σ(z) − t, which (as in
        // PyTorch) is a difference of numbers near 1 for a large z: exact to 1e-15.
        let layer = try Linear<Double>(weights: [[reference.z]], layout: .inputByOutput, bias: nil)
        let model = try Sequential<Double>(layer, Sigmoid())
        let optimizer = try Adam(parameters: model.parameters, learningRate: 0)
        let body = {
          try model.trainingStep(
            input: try Tensor([[1]]), target: try Tensor([[reference.t]]),
            loss: BinaryCrossEntropy(), optimizer: optimizer)
        }
        let loss = try fused ? body() : TrainingEngine.graphOnly(body)
        let gradient = layer.weight.gradient?.scalars.first ?? .nan
        let label = "z \(reference.z), t \(reference.t), fused \(fused)"
        #expect(abs(loss - reference.loss) <= 1e-12 * max(1e-300, abs(reference.loss)), "\(label)")
        #expect(
          abs(gradient - reference.gradient) <= 1e-12 * abs(reference.gradient) + 1e-15,
          "\(label): \(gradient)")
      }
    }
  }

  /// The same bits on any number of threads, through `fit`, with shuffling, dropout and the
  /// step's middle split across threads (300 + 256 + 10 activations a sample).
  @Test(arguments: [ActivationFunction.relu, .tanh])
  func fitIsBitIdenticalOnAnyNumberOfThreads(activation: ActivationFunction) throws {
    var generator = RandomGenerator(seed: 3)
    let features: Tensor<Float> = try randomTensor([512, 300], &generator)
    let data = try DataSet(
      features: features, labels: (0..<512).map { $0 % 10 }, classNames: (0..<10).map(String.init))
    func train(threads: Int, optimizer: OptimizerKind) throws -> ([Tensor<Float>], [[Double]]) {
      try withKernelSettings(threads: threads) {
        let network = try Sequential<Float>.perceptron(
          sizes: [300, 256, 10], activation: activation, dropout: 0.2, seed: 2)
        let history = try network.fit(
          data, loss: SoftmaxCrossEntropy(),
          optimizer: try optimizer.make(parameters: network.parameters, learningRate: 0.01),
          configuration: FitConfiguration(epochs: 2, batchSize: 256, seed: 1))
        return (network.parameters.map(\.value), history.rows)
      }
    }
    for optimizer in OptimizerKind.allCases {
      let one = try train(threads: 1, optimizer: optimizer)
      #expect(one.1.joined().allSatisfy { $0.isFinite })
      for threads in [2, 3] {
        let other = try train(threads: threads, optimizer: optimizer)
        #expect(other.0 == one.0, "\(optimizer), \(threads) threads")
        #expect(other.1 == one.1, "\(optimizer), \(threads) threads")
      }
    }
  }

  /// Float training follows the Double graph of the same network to within Float's precision.
  @Test(arguments: [LossFunction.crossEntropy, .binaryCrossEntropy, .meanSquaredError])
  func floatFollowsTheDoubleGraph(loss: LossFunction) throws {
    let graph = try Self.network(loss: loss, activation: .tanh, seed: 6)
    guard let float = graph.converted(to: Float.self) as? Sequential<Float> else {
      Issue.record("conversion failed")
      return
    }
    var generator = RandomGenerator(seed: 9)
    let input: Tensor<Double> = try randomTensor([96, 5], &generator)
    let target: Tensor<Double> =
      loss == .crossEntropy
      ? try Tensor.oneHot(classIndices: (0..<96).map { ($0 * 7) % 3 }, classCount: 3)
      : try randomTensor([96, 3], &generator, low: 0, high: 1)
    let doubleOptimizer = try SGD(parameters: graph.parameters, learningRate: 0.5)
    let floatOptimizer = try SGD(parameters: float.parameters, learningRate: 0.5)
    for _ in 0..<5 {
      let expected = try TrainingEngine.graphOnly {
        try graph.trainingStep(
          input: input, target: target, loss: loss.loss, optimizer: doubleOptimizer)
      }
      let value = try float.trainingStep(
        input: Tensor(input), target: Tensor(target), loss: loss.loss, optimizer: floatOptimizer)
      #expect(abs(Double(value) - expected) <= 1e-5 * max(1, abs(expected)), "\(loss)")
    }
    for (a, b) in zip(float.parameters, graph.parameters) {
      let difference = zip(a.value.scalars, b.value.scalars).map { abs(Double($0) - $1) }.max()
      #expect((difference ?? 0) <= 1e-5, "\(loss): weights differ by \(difference ?? 0)")
    }
  }

  /// Networks and losses the fused step does not take are trained by the graph, with a reason.
  @Test func whatTheFusedStepDoesNotTakeFallsBackToTheGraph() throws {
    var generator = RandomGenerator(seed: 1)
    let softmaxEnd = try Sequential<Double>(
      Linear(inputSize: 2, outputSize: 2, generator: &generator), Softmax())
    expectError(containing: "layer 1 (Softmax)") {
      _ = try FusedStep(softmaxEnd, loss: SoftmaxCrossEntropy())
    }
    let sigmoidEnd = try Sequential<Double>(
      Linear(inputSize: 2, outputSize: 2, generator: &generator), Sigmoid())
    expectError(containing: "must end in logits") {
      _ = try FusedStep(sigmoidEnd, loss: SoftmaxCrossEntropy())
    }
    expectError(containing: "must end in Sigmoid") {
      _ = try FusedStep(
        Sequential<Double>(Linear(inputSize: 2, outputSize: 2, generator: &generator)),
        loss: BinaryCrossEntropy())
    }
    let negative = try Sequential<Double>(
      Linear(inputSize: 2, outputSize: 2, generator: &generator), LeakyReLU(slope: -0.5),
      Linear(inputSize: 2, outputSize: 1, generator: &generator))
    expectError(containing: "negative") {
      _ = try FusedStep(negative, loss: MeanSquaredError())
    }
    // The graph trains it all the same.
    let optimizer = try SGD(parameters: negative.parameters, learningRate: 0.1)
    let loss = try negative.trainingStep(
      input: try Tensor([[1, -1]]), target: try Tensor([[0.5]]), loss: MeanSquaredError(),
      optimizer: optimizer)
    #expect(loss.isFinite)
  }

  /// Binary cross-entropy refuses targets outside [0, 1] before training, on both paths.
  @Test func binaryCrossEntropyRefusesTargetsOutsideTheUnitInterval() throws {
    var generator = RandomGenerator(seed: 2)
    let data = try DataSet<Double>(
      features: try randomTensor([6, 5], &generator),
      targets: try randomTensor([6, 3], &generator, low: 0, high: 3))
    for fused in [true, false] {
      let model = try Self.network(loss: .binaryCrossEntropy, activation: .tanh, seed: 3)
      let before = model.parameters.map(\.value)
      expectError(containing: "not in [0, 1]") {
        let body = {
          try model.fit(
            data, loss: BinaryCrossEntropy(),
            optimizer: try SGD(parameters: model.parameters, learningRate: 0.1),
            configuration: FitConfiguration(epochs: 1, batchSize: 3))
        }
        _ = try fused ? body() : TrainingEngine.graphOnly(body)
      }
      #expect(model.parameters.map(\.value) == before)
    }
  }

  /// An empty batch is refused as empty, on both paths.
  @Test func anEmptyBatchIsRefused() throws {
    var generator = RandomGenerator(seed: 1)
    let model = try Sequential<Double>(Linear(inputSize: 2, outputSize: 1, generator: &generator))
    let optimizer = try SGD(parameters: model.parameters, learningRate: 0.1)
    for fused in [true, false] {
      expectError(containing: "empty") {
        let body = {
          try model.trainingStep(
            input: try Tensor(zeros: [0, 2]), target: try Tensor(zeros: [0, 1]),
            loss: MeanSquaredError(), optimizer: optimizer)
        }
        _ = try fused ? body() : TrainingEngine.graphOnly(body)
      }
    }
  }

  /// A perfect prediction's loss is +0, not −0.
  @Test func aPerfectPredictionsLossIsPositiveZero() throws {
    let logits = Variable(try Tensor<Double>([[0, 800]]))
    for loss in LossFunction.allCases where loss != .binaryCrossEntropy {
      let target = try Tensor<Double>(loss == .crossEntropy ? [[0, 1]] : [[0, 800]])
      let value = try loss.loss(logits, target).value.scalar ?? .nan
      #expect(value == 0 && value.sign == .plus, "\(loss): \(value)")
    }
  }
}

extension Tensor {
  /// The elements as a vector.
  fileprivate var reshapedToVector: Tensor { (try? reshaped(to: [count])) ?? self }
}
