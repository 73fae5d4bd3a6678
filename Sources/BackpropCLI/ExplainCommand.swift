import ArgumentParser
import Backprop
import BackpropCSV
import Foundation

extension StepTrace.Format: ExpressibleByArgument {}

/// `backprop explain`: one training step shown in full, and the check of a hand-written one.
struct ExplainCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "explain",
    abstract: "Show every number of one training step in Mazur's notation, or check yours.",
    discussion: """
      Per neuron its net input and output, the loss per output and in total, and per weight \
      ∂E/∂out, ∂out/∂net, δ, ∂net/∂w, ∂E/∂w and the updated weight (w⁺ = w − η·∂E/∂w).

      --check FILE compares the values your own code printed (JSON {"net_h1": 0.3775, \
      "dE_dw5": 0.0821…} or CSV with a header name,value) with the right ones: it reports the \
      first that disagrees, by how much, and the likely bug. Names are the keys of --format json \
      (net_h1, out_h1, E_o1, E_total, dE_dout_o1, dout_dnet_o1, delta_o1, dnet_dw5, dE_dw5, \
      w5_new) or the symbols of the text output (∂E_total/∂w5).

      --graph FILE also draws the step's computation graph, every node with its operation, \
      shape, value and gradient, its values named as the trace names them (net_h, out_h, W_o, \
      E_total).
      """
  )

  @Option(help: "A worked example instead of a model: mazur.")
  var demo: String?

  @Option(help: "The model file written by `backprop train`.")
  var model: String?

  @Option(help: "Data whose rows are the batch (scaled as the model scales them).")
  var data: String?

  @Option(help: "The target column of --data (default: the model's).")
  var target: String?

  @Option(help: "One input instead of --data: the model's features, comma-separated, unscaled.")
  var input: String?

  @Option(help: "The target of --input, comma-separated (one-hot for classes).")
  var expected: String?

  @Option(help: "The rows of --data that make the batch, comma-separated from 0 (default 0).")
  var rows: String?

  @Option(
    name: [.customLong("learning-rate"), .customLong("lr")],
    help: "The learning rate of the update (default 0.5 for mazur, 0.1 otherwise).")
  var learningRate: Double?

  @Option(help: "text, markdown or json.")
  var format: StepTrace.Format = .text

  @Option(help: "Neurons to show in full in layers too large to list, such as h3,o1.")
  var neurons: String?

  @Option(help: "Layers with more neurons than this are summarized (default 8).")
  var maxNeurons = 8

  @Option(help: "Your own values to check (JSON or CSV keyed by the quantities' names).")
  var check: String?

  @Option(help: "Relative tolerance of --check (default 1e-6).")
  var tolerance = 1e-6

  @Option(
    help: "Also draw the step's computation graph (every value and gradient) into this .svg/.png.")
  var graph: String?

  /// Shows, draws or checks the step of `network` on a batch.
  private func explain<Scalar: TensorScalar>(
    _ network: Sequential<Scalar>, input: Tensor<Scalar>, target: Tensor<Scalar>,
    loss: LossFunction, learningRate: Double
  ) throws {
    let trace = try StepTrace(
      network: network, input: input, target: target, loss: loss, learningRate: learningRate)
    if let graph {
      let picture = try Plot.stepGraph(
        network: network, input: input, target: target, loss: loss)
      let url = URL(fileURLWithPath: graph)
      try AtomicFile.write(try PNGRenderer.fileData(of: picture, for: url), to: url)
      FileHandle.standardError.write(Data("wrote the computation graph to \(graph)\n".utf8))
    }
    guard let check else {
      print(
        try trace.rendered(
          as: format, neurons: neurons.map(RunSpecification.parseNames) ?? [],
          maximumNeurons: maxNeurons),
        terminator: "")
      return
    }
    let report = trace.check(try Self.readValues(check), relativeTolerance: tolerance)
    print(report)
    if !report.passed { throw ExitCode(1) }
  }

  func run() throws {
    if let demo {
      guard demo == "mazur" else { throw CLIError("--demo takes mazur (got '\(demo)')") }
      let example = try Demo.mazurExample()
      return try explain(
        example.network, input: example.input, target: example.target, loss: example.loss,
        learningRate: learningRate ?? example.learningRate)
    }
    let usage = "give --demo mazur, or --model MODEL with --data FILE or --input and --expected"
    guard let model else { throw CLIError(usage) }
    let loaded = try Model<Float>(contentsOf: URL(fileURLWithPath: model))
    if let input {
      let features = try Self.numbers(input, flag: "--input", count: loaded.featureNames.count)
      let target = try Self.numbers(
        expected ?? "", flag: "--expected", count: loaded.targetKind.width)
      let scaled = try loaded.scaling.map {
        try $0.apply(to: Tensor(shape: [1, features.count], scalars: features))
      }
      return try explain(
        loaded.network, input: scaled ?? Tensor(shape: [1, features.count], scalars: features),
        target: Tensor(shape: [1, target.count], scalars: target), loss: loaded.loss,
        learningRate: learningRate ?? 0.1)
    }
    guard let data else { throw CLIError(usage) }
    let prepared = try loaded.prepared(
      try DataInput.load(for: loaded, path: data, target: target, labels: nil))
    let indices = try (rows.map(RunSpecification.parseNames) ?? ["0"]).map { text -> Int in
      guard let index = Int(text), (0..<prepared.count).contains(index) else {
        throw CLIError("--rows: '\(text)' is not a row of \(data) (0 to \(prepared.count - 1))")
      }
      return index
    }
    let batch = try prepared.subset(indices)
    return try explain(
      loaded.network, input: batch.features, target: batch.targets, loss: loaded.loss,
      learningRate: learningRate ?? 0.1)
  }

  /// `count` comma-separated numbers.
  static func numbers(_ text: String, flag: String, count: Int) throws -> [Float] {
    let values = RunSpecification.parseNames(text).map { Float($0) }
    guard values.count == count, values.allSatisfy({ $0?.isFinite == true }) else {
      throw CLIError("\(flag) needs \(count) numbers separated by commas (got '\(text)')")
    }
    return values.compactMap { $0 }
  }

  /// Values by name from JSON (numbers or arrays of numbers) or CSV (name, then values).
  static func readValues(_ path: String) throws -> [String: [Double]] {
    let url = URL(fileURLWithPath: path)
    if url.pathExtension.lowercased() == "json" {
      let data = try FileData.read(url)
      guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
        throw CLIError("\(path): expected a JSON object of names and numbers")
      }
      return try object.mapValues { value in
        if let number = value as? Double { return [number] }
        if let list = value as? [Double] { return list }
        throw CLIError("\(path): every value must be a number or a list of numbers")
      }
    }
    let table = try DataTable(csvFile: url)
    var values: [String: [Double]] = [:]
    for (row, cells) in table.rows.enumerated() {
      let numbers = cells.dropFirst().filter { !$0.isEmpty }.map {
        Double($0.trimmingCharacters(in: .whitespaces))
      }
      guard !numbers.isEmpty, numbers.allSatisfy({ $0 != nil }) else {
        throw CLIError("\(path), line \(table.lineNumbers[row]): expected a name and numbers")
      }
      values[cells[0].trimmingCharacters(in: .whitespaces)] = numbers.compactMap { $0 }
    }
    return values
  }
}
