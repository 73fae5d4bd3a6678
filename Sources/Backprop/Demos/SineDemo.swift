import Foundation

/// Seed 003a: regression of sin(x) for x = 0, 0.1, …, 6.2 (63 points), the input scaled to
/// (x − π)/π, with a 1-3-1 sigmoid/identity network, weights and biases N(0, 0.01²), per-sample
/// SGD in shuffled order, E = ½(y − t)², learning rate 0.1, 2001 epochs.
enum SineDemo {
  static func run(_ context: inout DemoContext) throws {
    let epochs = context.options.epochs ?? 2001
    let learningRate = context.options.learningRate ?? 0.1
    let xs = stride(from: 0, to: 63, by: 1).map { 0.1 * Double($0) }
    let inputs = try Tensor(shape: [xs.count, 1], scalars: xs.map { ($0 - .pi) / .pi })
    let targets = try Tensor(shape: [xs.count, 1], scalars: xs.map { sin($0) })
    let small = Initializer.normal(mean: 0, standardDeviation: 0.01)
    let model = try Sequential<Double>(
      Linear(
        inputSize: 1, outputSize: 3, weightInitializer: small, biasInitializer: small,
        generator: &context.generator),
      Sigmoid(),
      Linear(
        inputSize: 3, outputSize: 1, weightInitializer: small, biasInitializer: small,
        generator: &context.generator),
      Identity())
    let loss = HalfSumOfSquares()
    let optimizer = try SGD(parameters: model.parameters, learningRate: learningRate)

    context.print("sin(x) regression (seed \(context.name.seedFile), part 1)")
    context.print(
      "63 points x = 0, 0.1, …, 6.2, input (x − π)/π; weights N(0, 0.01²), seed "
        + "\(context.options.seed); \(loss) per sample, shuffled, learning rate \(learningRate), "
        + "\(epochs) epochs")
    context.print("\(model)\n")
    try context.train(
      model, inputs: inputs, targets: targets, loss: loss, optimizer: optimizer, epochs: epochs,
      batching: .shuffledSamples)

    let predictions = try context.recordPredictions(model, inputs: inputs, targets: targets)
    let meanSquaredError = try MeanSquaredError().value(prediction: predictions, target: targets)
    context.record("mean squared error", meanSquaredError)
    context.print("\nevery sixth point:")
    context.printPredictionTable(rows: Array(stride(from: 0, to: xs.count, by: 6)))
    context.print("mean squared error over all 63 points: \(Format.number(meanSquaredError))")
  }
}

/// Seed 003b: the 21×21 grid of points in [−1, 1]², labelled "above" ([1, 0]) or "below"
/// ([0, 1]) the curve y = sin(πx), with a 2-6-2 sigmoid/softmax network, weights and biases
/// N(0, 0.01²), per-sample SGD in shuffled order, cross-entropy, learning rate 0.1, 101 epochs.
enum SineBoundaryDemo {
  static func run(_ context: inout DemoContext) throws {
    let epochs = context.options.epochs ?? 101
    let learningRate = context.options.learningRate ?? 0.1
    // np.arange(-1.0, 1.1, 0.1): start + i·step.
    let axis = (0..<21).map { -1.0 + 0.1 * Double($0) }
    var points: [Double] = []
    var labels: [Double] = []
    for x in axis {
      for y in axis {
        points += [x, y]
        labels += y < sin(.pi * x) ? [0, 1] : [1, 0]
      }
    }
    let inputs = try Tensor(shape: [axis.count * axis.count, 2], scalars: points)
    let targets = try Tensor(shape: [axis.count * axis.count, 2], scalars: labels)
    let small = Initializer.normal(mean: 0, standardDeviation: 0.01)
    // The model ends with logits; the loss applies the softmax in its stable form.
    let model = try Sequential<Double>(
      Linear(
        inputSize: 2, outputSize: 6, weightInitializer: small, biasInitializer: small,
        generator: &context.generator),
      Sigmoid(),
      Linear(
        inputSize: 6, outputSize: 2, weightInitializer: small, biasInitializer: small,
        generator: &context.generator))
    let loss = SoftmaxCrossEntropy()
    let optimizer = try SGD(parameters: model.parameters, learningRate: learningRate)

    context.print("Above or below y = sin(πx) (seed \(context.name.seedFile), part 2)")
    context.print(
      "441 grid points in [-1, 1]²; weights N(0, 0.01²), seed \(context.options.seed); \(loss) "
        + "per sample, shuffled, learning rate \(learningRate), \(epochs) epochs")
    context.print("\(model)\n  followed by the softmax inside the loss\n")
    try context.train(
      model, inputs: inputs, targets: targets, loss: loss, optimizer: optimizer, epochs: epochs,
      batching: .shuffledSamples)

    let probabilities = try context.recordPredictions(model, inputs: inputs, targets: targets) {
      try $0.softmax(alongAxis: -1)
    }
    let predicted = try probabilities.argmax(alongAxis: -1)
    let actual = try targets.argmax(alongAxis: -1)
    let wrong = predicted.indices.filter { predicted[$0] != actual[$0] }
    let accuracy = Double(predicted.count - wrong.count) / Double(predicted.count)
    context.record("accuracy", accuracy)
    context.record("final loss", context.lossAfterTraining)

    context.print(
      "\npredicted class of each grid point (y from 1 at the top to -1; x from -1 to 1):")
    context.print("  o above the curve, . below, X wrong")
    for row in (0..<axis.count).reversed() {
      let line = (0..<axis.count).map { column -> String in
        let index = column * axis.count + row
        if predicted[index] != actual[index] { return "X" }
        return predicted[index] == 0 ? "o" : "."
      }
      context.print("  " + line.joined(separator: " "))
    }
    context.print(
      "\naccuracy \(Format.number(accuracy * 100))% (\(predicted.count - wrong.count) of "
        + "\(predicted.count))")
    if !wrong.isEmpty {
      context.print("misclassified points:")
      context.printPredictionTable(rows: wrong)
    }
  }
}
