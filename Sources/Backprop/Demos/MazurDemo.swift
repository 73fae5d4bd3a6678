/// Seed 004, Matt Mazur's worked example: a 2-2-2 sigmoid network with given weights.
///
/// net_h1 = w1·i1 + w2·i2 + b1, net_h2 = w3·i1 + w4·i2 + b1, net_o1 = w5·out_h1 + w6·out_h2 + b2,
/// net_o2 = w7·out_h1 + w8·out_h2 + b2, every out = σ(net). Inputs 0.05 and 0.10, targets 0.01 and
/// 0.99, E_total = ½Σ(target − out)², learning rate 0.5, biases b1 = 0.35 and b2 = 0.60 frozen,
/// in `Double`. The seed's hand-expanded code has typos (`+ h2` for `+ b2`, w3/w4 updated with
/// h1's derivative); the library's automatic gradients have none, and reproduce the published
/// figures.
extension Demo {
  /// Mazur's worked example as he sets it up: the 2-2-2 sigmoid network with his weights and
  /// frozen biases (0.35 and 0.60), input (0.05, 0.10), target (0.01, 0.99), E = ½Σ(t − out)²
  /// and learning rate 0.5.
  public static func mazurExample() throws -> (
    network: Sequential<Double>, input: Tensor<Double>, target: Tensor<Double>,
    loss: LossFunction, learningRate: Double
  ) {
    let hidden = try Linear<Double>(
      weights: [[0.15, 0.20], [0.25, 0.30]], layout: .outputByInput, bias: [0.35, 0.35])
    let output = try Linear<Double>(
      weights: [[0.40, 0.45], [0.50, 0.55]], layout: .outputByInput, bias: [0.60, 0.60])
    hidden.bias?.requiresGradient = false
    output.bias?.requiresGradient = false
    return (
      try Sequential<Double>(hidden, Sigmoid(), output, Sigmoid()),
      try Tensor([[0.05, 0.10]]), try Tensor([[0.01, 0.99]]), .halfSumOfSquares, 0.5
    )
  }
}

enum MazurDemo {
  static func run(_ context: inout DemoContext) throws {
    let steps = context.options.epochs ?? 10_000
    let learningRate = context.options.learningRate ?? 0.5
    let example = try Demo.mazurExample()
    let model = example.network
    guard let hidden = model.layers[0] as? Linear<Double>,
      let output = model.layers[2] as? Linear<Double>
    else { return }
    let (input, target) = (example.input, example.target)
    let loss = HalfSumOfSquares()
    let optimizer = try SGD(parameters: model.parameters, learningRate: learningRate)

    context.print("Mazur's worked example (seed \(context.name.seedFile))")
    context.print("inputs i1 = 0.05, i2 = 0.10; targets 0.01, 0.99; E_total = ½Σ(target − out)²")
    context.print("learning rate \(learningRate), \(steps) steps, biases frozen, Double")
    context.print("\(model)\n")

    let initialError = try loss.value(prediction: model(input), target: target)
    context.record("E_total before training", initialError)
    context.print("E_total before training = \(Format.number(initialError))")

    try context.train(
      model, inputs: input, targets: target, loss: loss, optimizer: optimizer, epochs: steps,
      batching: .fullBatch, label: "step"
    ) { step, context in
      guard step == 1 else { return }
      let weights = weightsByName(hidden: hidden, output: output)
      context.print("weights after the first step:")
      for row in stride(from: 0, to: 8, by: 4) {
        context.print(
          "  "
            + weights[row..<(row + 4)].map { "\($0.name) = \(Format.number($0.value))" }
            .joined(separator: "  "))
      }
      for weight in weights { context.record("\(weight.name) after the first step", weight.value) }
    }

    let predictions = try context.recordPredictions(model, inputs: input, targets: target)
    let finalError = try loss.value(prediction: predictions, target: target)
    context.record("final E_total", finalError)
    context.record("final out_o1", predictions.scalars[0])
    context.record("final out_o2", predictions.scalars[1])
    context.print("\nafter \(steps) steps:")
    context.printPredictionTable()
    context.print("E_total = \(Format.number(finalError))")
  }

  /// The eight weights named w1…w8 as in the post (see the formulas above).
  static func weightsByName(hidden: Linear<Double>, output: Linear<Double>) -> [(
    name: String, value: Double
  )] {
    // In the output-by-input layout, row j holds the weights into neuron j in input order, which
    // is exactly w1, w2 | w3, w4 and w5, w6 | w7, w8.
    let values =
      hidden.weightRows(layout: .outputByInput).flatMap { $0 }
      + output.weightRows(layout: .outputByInput).flatMap { $0 }
    return values.enumerated().map { ("w\($0.offset + 1)", $0.element) }
  }
}
