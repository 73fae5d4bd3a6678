import Foundation

/// The scenarios of the seed notebooks, each run correctly with the library.
///
/// Every demo prints what it does, the loss at intervals and the final predictions next to the
/// targets, and returns a ``DemoReport`` with the same numbers for programs and tests.
///
/// ```swift
/// let report = try Demo.run(.mazur) { print($0) }
/// report.figure("E_total before training")   // 0.298371109…
/// ```
public enum Demo {
  /// The demos by name, as `backprop demo NAME` takes them.
  public enum Name: String, CaseIterable, Sendable {
    /// Mazur's worked 2-2-2 example (seed 004).
    case mazur
    /// The 3-4-4 tanh/softmax network with explicit weights (seed 002).
    case softmax
    /// XOR with no biases, which cannot learn (seed 000).
    case xorNoBias = "xor-nobias"
    /// XOR with a 2-3-1 sigmoid network and biases (seed 001).
    case xor
    /// sin(x) regression with 1-3-1 sigmoid/identity (seed 003a).
    case sine
    /// The 21×21 grid split by y = sin(πx), 2-6-2 sigmoid/softmax (seed 003b).
    case sineBoundary = "sine-boundary"

    /// One line on what the demo shows.
    public var summary: String {
      switch self {
      case .mazur: "Mazur's worked example: 2-2-2 sigmoid, given weights, every number checkable"
      case .softmax: "3-4-4 tanh/softmax with explicit weights: gradients checked, loss falls"
      case .xorNoBias: "XOR without biases: why input (0,0) is stuck at 0.5 and the loss at 0.0625"
      case .xor: "XOR with a 2-3-1 sigmoid network and biases, full-batch gradient descent"
      case .sine: "sin(x) regression, 1-3-1 sigmoid/identity, per-sample SGD"
      case .sineBoundary: "classify a 21x21 grid above/below sin(pi x), 2-6-2 sigmoid/softmax"
      }
    }

    /// The loss the demo trains with.
    public var loss: LossFunction {
      switch self {
      case .mazur, .xor, .sine: .halfSumOfSquares
      case .xorNoBias: .meanSquaredError
      case .softmax, .sineBoundary: .crossEntropy
      }
    }

    /// The seed document the scenario comes from.
    public var seedFile: String {
      switch self {
      case .mazur: "004_135069662dc270f3.txt"
      case .softmax: "002_c6d3547b39e2cec8.txt"
      case .xorNoBias: "000_8dd183ff8e27a114.txt"
      case .xor: "001_941eb71ec92d6279.txt"
      case .sine, .sineBoundary: "003_58318b683889d90a.txt"
      }
    }
  }

  /// Settings a user may change; `nil` keeps the scenario's own value.
  public struct Options: Sendable, Equatable {
    /// The seed of the random generator (initial weights, shuffling).
    public var seed: UInt64
    /// The number of epochs (steps, for the full-batch demos).
    public var epochs: Int?
    /// The learning rate.
    public var learningRate: Double?

    /// Creates options.
    public init(seed: UInt64 = 1, epochs: Int? = nil, learningRate: Double? = nil) {
      self.seed = seed
      self.epochs = epochs
      self.learningRate = learningRate
    }
  }

  /// Runs a demo, sending each line of its output to `print`.
  ///
  /// - Throws: ``BackpropError/invalidArgument(name:detail:)`` for epochs below 1 or a bad
  ///   learning rate, ``BackpropError/nonFiniteLoss(value:epoch:)`` when training diverges.
  public static func run(
    _ name: Name, options: Options = Options(), print: @escaping (String) -> Void = { _ in }
  ) throws -> DemoReport {
    if let epochs = options.epochs, epochs < 1 {
      throw BackpropError.invalidArgument(name: "epochs", detail: "\(epochs) must be at least 1")
    }
    if let rate = options.learningRate {
      _ = try HyperParameter.learningRate(rate)
    }
    var context = DemoContext(name: name, options: options, print: print)
    switch name {
    case .mazur: try MazurDemo.run(&context)
    case .softmax: try SoftmaxDemo.run(&context)
    case .xorNoBias: try XORNoBiasDemo.run(&context)
    case .xor: try XORDemo.run(&context)
    case .sine: try SineDemo.run(&context)
    case .sineBoundary: try SineBoundaryDemo.run(&context)
    }
    return context.report
  }
}

/// What a demo run produced.
public struct DemoReport: Sendable {
  /// A named number the demo computed.
  public struct Figure: Sendable, Equatable {
    /// What the number is, e.g. `w5 after the first step`.
    public var name: String
    /// The number.
    public var value: Double
  }

  /// The loss after a given epoch.
  public struct LossRecord: Sendable, Equatable {
    /// The epoch (or step), counting from 1.
    public var epoch: Int
    /// The loss of that epoch: before its update for full-batch training, the mean over its
    /// samples for per-sample training.
    public var loss: Double
  }

  /// Which demo ran.
  public var name: Demo.Name
  /// The loss of every epoch.
  public var lossHistory: [LossRecord] = []
  /// The inputs, one row per sample.
  public var inputs: [[Double]] = []
  /// The targets, one row per sample.
  public var targets: [[Double]] = []
  /// The trained model's predictions, one row per sample.
  public var predictions: [[Double]] = []
  /// Named results (initial error, weights after the first step, accuracy, …).
  public var figures: [Figure] = []
  /// The trained network's layers, weights included.
  public var network: [LayerSpecification] = []

  /// The value of the figure with this name, if the demo computed one.
  public func figure(_ name: String) -> Double? {
    figures.first { $0.name == name }?.value
  }
}

/// The state shared by a demo while it runs.
struct DemoContext {
  let name: Demo.Name
  let options: Demo.Options
  let print: (String) -> Void
  var report: DemoReport
  var generator: RandomGenerator
  /// The loss after the last update of the latest ``train(_:inputs:targets:loss:optimizer:epochs:batching:label:afterEpoch:)``.
  var lossAfterTraining = Double.nan

  init(name: Demo.Name, options: Demo.Options, print: @escaping (String) -> Void) {
    self.name = name
    self.options = options
    self.print = print
    self.report = DemoReport(name: name)
    self.generator = RandomGenerator(seed: options.seed)
  }

  mutating func record(_ name: String, _ value: Double) {
    report.figures.append(DemoReport.Figure(name: name, value: value))
  }

  /// How the samples are fed to the optimizer.
  enum Batching {
    /// All samples in one batch: one step per epoch.
    case fullBatch
    /// One sample per step, in a freshly shuffled order every epoch.
    case shuffledSamples
  }

  /// Trains for `epochs`, printing the loss at about a dozen evenly spaced epochs (and the first
  /// and last), and records every epoch's loss.
  mutating func train(
    _ model: Sequential<Double>, inputs: Tensor<Double>, targets: Tensor<Double>, loss: some Loss,
    optimizer: some Optimizer<Double>, epochs: Int, batching: Batching, label: String = "epoch",
    afterEpoch: (_ epoch: Int, _ context: inout DemoContext) throws -> Void = { _, _ in }
  ) throws {
    let interval = Swift.max(1, epochs / 10)
    let sampleCount = inputs.shape[0]
    let samples = try batching == .shuffledSamples ? split(inputs, targets) : []
    for epoch in 1...epochs {
      var epochLoss = 0.0
      do {
        switch batching {
        case .fullBatch:
          epochLoss = try model.trainingStep(
            input: inputs, target: targets, loss: loss, optimizer: optimizer)
        case .shuffledSamples:
          for index in generator.permutation(count: sampleCount) {
            epochLoss += try model.trainingStep(
              input: samples[index].input, target: samples[index].target, loss: loss,
              optimizer: optimizer)
          }
          epochLoss /= Double(sampleCount)
        }
      } catch BackpropError.nonFiniteLoss(let value, _) {
        throw BackpropError.nonFiniteLoss(value: value, epoch: epoch)
      }
      report.lossHistory.append(DemoReport.LossRecord(epoch: epoch, loss: epochLoss))
      if epoch == 1 || epoch == epochs || epoch % interval == 0 {
        let width = String(epochs).count
        print(
          "\(label) \(String(repeating: " ", count: width - String(epoch).count))\(epoch)  "
            + "loss \(Format.number(epochLoss))")
      }
      try afterEpoch(epoch, &self)
    }
    lossAfterTraining = try Self.loss(
      of: model, inputs: inputs, targets: targets, loss: loss,
      samples: batching == .shuffledSamples ? samples : nil)
    print("loss after training: \(Format.number(lossAfterTraining))")
  }

  /// The loss of the trained model: on the whole batch, or averaged over `samples` one by one
  /// (as the epochs of per-sample training average it).
  static func loss(
    of model: Sequential<Double>, inputs: Tensor<Double>, targets: Tensor<Double>, loss: some Loss,
    samples: [(input: Tensor<Double>, target: Tensor<Double>)]? = nil
  ) throws -> Double {
    guard let samples, !samples.isEmpty else {
      return try loss.value(prediction: model(inputs), target: targets)
    }
    return try samples.reduce(0) {
      $0 + (try loss.value(prediction: model($1.input), target: $1.target))
    }
      / Double(samples.count)
  }

  /// Each sample as its own batch of one.
  private func split(_ inputs: Tensor<Double>, _ targets: Tensor<Double>) throws -> [(
    input: Tensor<Double>, target: Tensor<Double>
  )] {
    let (inputRows, targetRows) = (Format.rows(inputs), Format.rows(targets))
    return try zip(inputRows, targetRows).map {
      (try Tensor([$0]), try Tensor([$1]))
    }
  }

  /// Runs the trained model on the inputs and records inputs, targets and predictions.
  mutating func recordPredictions(
    _ model: Sequential<Double>, inputs: Tensor<Double>, targets: Tensor<Double>,
    outputTransform: (Tensor<Double>) throws -> Tensor<Double> = { $0 }
  ) throws -> Tensor<Double> {
    let predictions = try outputTransform(try model(inputs))
    report.network = try model.layers.map { try LayerSpecification($0) }
    report.inputs = Format.rows(inputs)
    report.targets = Format.rows(targets)
    report.predictions = Format.rows(predictions)
    return predictions
  }

  /// Prints the inputs, targets and predictions side by side.
  func printPredictionTable(rows: [Int]? = nil) {
    let indices = rows ?? Array(report.inputs.indices)
    let table = indices.map { index in
      [
        Format.vector(report.inputs[index]), Format.vector(report.targets[index]),
        Format.vector(report.predictions[index]),
      ]
    }
    print(Format.table(headers: ["input", "target", "prediction"], rows: table))
  }
}

/// Number and table formatting shared by the demos.
enum Format {
  /// Nine significant digits, as the worked examples print them.
  static func number(_ value: Double) -> String {
    String(format: "%.9g", value)
  }

  /// A row of numbers, e.g. `[0.05, 0.1]`.
  static func vector(_ values: [Double]) -> String {
    "[" + values.map { String(format: "%.9g", $0) }.joined(separator: ", ") + "]"
  }

  /// The rows of a matrix.
  static func rows(_ matrix: Tensor<Double>) -> [[Double]] {
    let columns = matrix.shape.last ?? 1
    let scalars = matrix.scalars
    return stride(from: 0, to: scalars.count, by: Swift.max(columns, 1)).map {
      Array(scalars[$0..<($0 + columns)])
    }
  }

  /// Left-aligned columns separated by two spaces.
  static func table(headers: [String], rows: [[String]]) -> String {
    let all = [headers] + rows
    let widths = headers.indices.map { column in all.map { $0[column].count }.max() ?? 0 }
    return all.map { row in
      row.enumerated().map { column, text in
        text.padding(toLength: widths[column], withPad: " ", startingAt: 0)
      }.joined(separator: "  ").trimmingCharacters(in: .whitespaces)
    }.joined(separator: "\n")
  }
}
