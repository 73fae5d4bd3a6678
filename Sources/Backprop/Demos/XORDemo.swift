/// The four XOR patterns, in the order seed 001 lists them.
enum XORData {
  static let inputs: [[Double]] = [[0, 0], [1, 0], [0, 1], [1, 1]]
  static let targets: [[Double]] = [[0], [1], [1], [0]]
}

/// Seed 001, "my XOR network does not learn", as the answer fixed it: 2-3-1 sigmoid with biases,
/// weights and biases uniform in [−1, 1), per-sample gradients summed over the batch of four
/// (E = ½Σ(y − t)², full batch), learning rate 0.7, 2000 epochs.
enum XORDemo {
  static func run(_ context: inout DemoContext) throws {
    let epochs = context.options.epochs ?? 2000
    let learningRate = context.options.learningRate ?? 0.7
    let uniform = Initializer.uniform(low: -1, high: 1)
    let model = try Sequential<Double>(
      Linear(
        inputSize: 2, outputSize: 3, weightInitializer: uniform, biasInitializer: uniform,
        generator: &context.generator),
      Sigmoid(),
      Linear(
        inputSize: 3, outputSize: 1, weightInitializer: uniform, biasInitializer: uniform,
        generator: &context.generator),
      Sigmoid())
    let inputs = try Tensor(XORData.inputs)
    let targets = try Tensor(XORData.targets)
    let loss = HalfSumOfSquares()
    let optimizer = try SGD(parameters: model.parameters, learningRate: learningRate)

    context.print("XOR, 2-3-1 sigmoid with biases (seed \(context.name.seedFile))")
    context.print(
      "weights and biases uniform in [-1, 1), seed \(context.options.seed); \(loss), full batch, "
        + "learning rate \(learningRate), \(epochs) epochs")
    context.print("\(model)\n")

    try context.train(
      model, inputs: inputs, targets: targets, loss: loss, optimizer: optimizer, epochs: epochs,
      batching: .fullBatch)
    let predictions = try context.recordPredictions(model, inputs: inputs, targets: targets)
    let correct = zip(predictions.scalars, targets.scalars).filter { ($0 > 0.5) == ($1 > 0.5) }
      .count
    context.record("final loss", context.lossAfterTraining)
    context.record("outputs on the right side of 0.5", Double(correct))
    context.print("")
    context.printPredictionTable()
    context.print(
      correct == 4
        ? "solved: all four outputs are on the right side of 0.5"
        : "not solved with this seed: \(correct) of 4 outputs on the right side of 0.5 (a 2-3-1 "
          + "network can settle in a local minimum; try another --seed or more --epochs)")
  }
}

/// Seed 000: XOR with a 2-4-1 tanh/sigmoid network and no biases, mean squared error, full-batch
/// gradient descent, learning rate 0.1, 5000 epochs, weights standard normal.
///
/// Without biases, input (0, 0) gives net input 0 to every hidden unit, tanh(0) = 0, net input 0
/// to the output and σ(0) = 0.5, whatever the weights. Its target is 0, so that sample alone adds
/// (0.5 − 0)²/4 = 0.0625 to the mean squared error: the loss can never go below 0.0625. The demo
/// trains the same network with biases as well, to show the difference.
enum XORNoBiasDemo {
  static let lossFloor = 0.0625

  static func run(_ context: inout DemoContext) throws {
    let epochs = context.options.epochs ?? 5000
    let learningRate = context.options.learningRate ?? 0.1
    let inputs = try Tensor(XORData.inputs)
    let targets = try Tensor(XORData.targets)
    let loss = MeanSquaredError()
    let start = context.generator

    context.print("XOR, 2-4-1 tanh/sigmoid without biases (seed \(context.name.seedFile))")
    context.print(
      "weights standard normal, seed \(context.options.seed); \(loss), full batch, learning rate "
        + "\(learningRate), \(epochs) epochs")
    let model = try makeModel(bias: false, generator: &context.generator)
    context.print("\(model)\n")
    let optimizer = try SGD(parameters: model.parameters, learningRate: learningRate)
    try context.train(
      model, inputs: inputs, targets: targets, loss: loss, optimizer: optimizer, epochs: epochs,
      batching: .fullBatch)
    let predictions = try context.recordPredictions(model, inputs: inputs, targets: targets)
    let finalLoss = context.lossAfterTraining
    let stuck = predictions.scalars[0]
    context.record("final loss", finalLoss)
    context.record("output for (0, 0)", stuck)
    context.record("loss floor", lossFloor)
    context.print("")
    context.printPredictionTable()
    context.print(
      """

      Why it cannot learn: with no bias, input (0, 0) reaches every hidden unit as net input 0·w = 0,
      tanh(0) = 0, so the output's net input is 0 and σ(0) = 0.5, whatever the weights. Here it is \
      \(Format.number(stuck)).
      Its target is 0, so that sample alone adds (0.5 − 0)²/4 = \(lossFloor) to the mean squared error:
      the loss cannot go below \(lossFloor) (it is \(Format.number(finalLoss)) after \(epochs) epochs).
      Fix: give the layers biases (Linear(..., bias: true)), which lets (0, 0) map to any output.
      """)

    // The same network, the same initial weights, with biases (starting at zero).
    var generator = start
    let withBias = try makeModel(bias: true, generator: &generator)
    let biasOptimizer = try SGD(parameters: withBias.parameters, learningRate: learningRate)
    for _ in 0..<epochs {
      try withBias.trainingStep(
        input: inputs, target: targets, loss: loss, optimizer: biasOptimizer)
    }
    let biasLoss = try DemoContext.loss(
      of: withBias, inputs: inputs, targets: targets, loss: loss)
    context.record("final loss with biases", biasLoss)
    context.print(
      "With biases, the same weights and settings reach loss \(Format.number(biasLoss)) "
        + "(output for (0, 0): \(Format.number(try withBias(inputs).scalars[0]))).")
  }

  private static func makeModel(
    bias: Bool, generator: inout RandomGenerator
  ) throws -> Sequential<Double> {
    let normal = Initializer.normal(mean: 0, standardDeviation: 1)
    return try Sequential<Double>(
      Linear(
        inputSize: 2, outputSize: 4, bias: bias, weightInitializer: normal, generator: &generator),
      Tanh(),
      Linear(
        inputSize: 4, outputSize: 1, bias: bias, weightInitializer: normal, generator: &generator),
      Sigmoid())
  }
}
