import Foundation

/// Seed 002: 3 inputs, 4 tanh hidden units, 4 softmax outputs, cross-entropy averaged over a batch
/// of two samples, with the notebook's explicit weights (written output × input) and biases,
/// learning rate 0.03, 100 epochs.
///
/// The notebook's backward pass is wrong (`dz = 1 - tanh(dh)**2` instead of `dh * (1 - H**2)`,
/// sums where the loss takes a mean). The demo computes the first step's gradients automatically,
/// checks them against central differences, and sets them beside the ones the notebook printed.
enum SoftmaxDemo {
  /// What the notebook printed for its first epoch, rounded to two decimals, in its own layout,
  /// with the name of the same parameter in the model.
  static let notebookGradients: [(name: String, parameter: String, values: [Double])] = [
    ("W1", "0.weight", [0.45, 0.64, 0.82, 0.48, 0.68, 0.87, 0.49, 0.68, 0.87, 0.49, 0.68, 0.87]),
    (
      "W2", "2.weight",
      [
        -0.13, 0.2, -0.17, 0.11, -0.27, 0.38, -0.31, 0.21, -0.4, 0.48, -0.36, 0.27, -0.11, 0.18,
        -0.17, 0.1,
      ]
    ),
    ("b1", "0.bias", [0.94, 0.97, 0.96, 0.95]),
    ("b2", "2.bias", [-0.33, 0.31, -0.15, 0.17]),
  ]

  static func run(_ context: inout DemoContext) throws {
    let epochs = context.options.epochs ?? 100
    let learningRate = context.options.learningRate ?? 0.03
    let hidden = try Linear<Double>(
      weights: [[0.1, 0.2, 0.3], [0.4, 0.5, 0.6], [0.7, 0.8, 0.9], [0.2, 0.3, 0.1]],
      layout: .outputByInput, bias: [0.1, 0.2, 0.3, 0.1])
    let output = try Linear<Double>(
      weights: [
        [0.5, 0.4, 0.3, 0.2], [0.1, 0.6, 0.7, 0.8], [0.9, 0.8, 0.7, 0.6], [0.5, 0.4, 0.3, 0.2],
      ],
      layout: .outputByInput, bias: [0.2, 0.3, 0.1, 0.2])
    // The model ends with logits; the loss applies the softmax in its stable form.
    let model = try Sequential<Double>(hidden, Tanh(), output)
    let inputs = try Tensor<Double>([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]])
    let targets = try Tensor<Double>([[1, 0, 0, 0], [0, 0, 1, 0]])
    let loss = SoftmaxCrossEntropy()
    let optimizer = try SGD(parameters: model.parameters, learningRate: learningRate)

    context.print("Softmax classifier with explicit weights (seed \(context.name.seedFile))")
    context.print(
      "two samples, one-hot targets, \(loss), learning rate \(learningRate), \(epochs) epochs")
    context.print("\(model)\n  followed by the softmax inside the loss\n")

    let report = try GradientCheck.check(model: model, loss: loss, input: inputs, target: targets)
    context.record("gradient check passed", report.passed ? 1 : 0)
    context.record("gradient check max relative error", report.maxRelativeError)
    context.print("First step, gradient check against central differences:\n\(report)\n")
    try printGradients(from: report, context: &context)

    try context.train(
      model, inputs: inputs, targets: targets, loss: loss, optimizer: optimizer, epochs: epochs,
      batching: .fullBatch)
    context.record("initial loss", context.report.lossHistory.first?.loss ?? .nan)
    context.record("final loss", context.lossAfterTraining)

    _ = try context.recordPredictions(model, inputs: inputs, targets: targets) {
      try $0.softmax(alongAxis: -1)
    }
    context.print("\nsoftmax probabilities after training:")
    context.printPredictionTable()
  }

  /// Prints the first step's gradients (the automatic ones the check compared) in the notebook's
  /// layout, next to what the notebook printed.
  private static func printGradients(
    from report: GradientCheck.Report, context: inout DemoContext
  ) throws {
    let automatic = Dictionary(uniqueKeysWithValues: report.results.map { ($0.name, $0) })
    context.print("first-step gradients (output × input, as the notebook writes its weights):")
    for (name, parameter, printed) in notebookGradients {
      guard let result = automatic[parameter] else { continue }
      // Weights are stored input × output; the notebook writes them output × input.
      let values =
        result.shape.count == 2
        ? try Tensor(shape: result.shape, scalars: result.automatic).transposed().scalars
        : result.automatic
      let agrees = zip(values, printed).allSatisfy { abs($0 - $1) <= 0.005 + 1e-12 }
      context.record("notebook \(name) gradient agrees", agrees ? 1 : 0)
      let rounded = values.map { String(format: "%.2f", $0 + 0) }.joined(separator: ", ")
      context.print("  \(name)  correct   [\(rounded)]")
      context.print("      notebook  \(Format.vector(printed))  \(agrees ? "agrees" : "differs")")
    }
    context.print("")
  }
}
