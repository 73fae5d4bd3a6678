import ArgumentParser
import Backprop
import Foundation

/// `backprop doctor`: why a network does not learn, with the evidence and a fix.
struct DoctorCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "doctor",
    abstract: "Find out why a network does not learn: train briefly, or read a finished run.",
    discussion: """
      With the settings of `backprop train` (flags or --spec), it trains briefly (30 epochs \
      unless --epochs says otherwise) and examines the run; with --model (and --data, and \
      optionally --history) it examines a finished one. It looks for: no bias where the data \
      need one, saturated sigmoid/tanh units, dead ReLUs, vanishing or exploding gradients, a \
      learning rate too high or too low, symmetric initialization, unscaled inputs, targets \
      that do not fit the output layer and loss, and too little capacity (a wider network, \
      trained the same way, learns what this one cannot).
      """
  )

  @OptionGroup var settings: RunOptions

  @Option(help: "A finished run's model file, to examine instead of training.")
  var model: String?

  @Option(name: .customLong("history"), help: "The finished run's history (.csv or .json).")
  var historyFile: String?

  func run() throws {
    var flags = try settings.flags
    if let model {
      guard let data = flags.data else { throw CLIError("--model needs --data to examine it on") }
      try examineFinished(model: model, data: data, target: flags.target)
      return
    }
    flags.epochs = flags.epochs ?? 30
    let specification = try settings.specification(overriddenBy: flags)
    let run = try TrainingRun(specification: specification)
    let outcome = try run.train(quiet: true)
    let sample = try outcome.train.subset(Array(0..<min(outcome.train.count, 1000)))
    var found = try Doctor.examine(
      network: outcome.network, data: sample, loss: outcome.loss, history: outcome.history)
    let layers = run.specification.layers ?? []
    print(summary(of: outcome.history, shape: shape(outcome.data, layers)))
    if found.isEmpty {
      // Too little capacity shows only by comparison: train a wider network the same way.
      var wider = run.specification
      wider.layers =
        layers.isEmpty
        ? [HiddenLayer(size: 16)]
        : layers.map { HiddenLayer(size: $0.size * 4, activation: $0.activation) }
      let widerOutcome = try TrainingRun(specification: wider).train(quiet: true)
      found = Doctor.capacity(
        history: outcome.history, widerHistory: widerOutcome.history,
        description: shape(outcome.data, layers),
        widerDescription: shape(outcome.data, wider.layers ?? []))
    }
    report(found)
  }

  private func examineFinished(model path: String, data: String, target: String?) throws {
    let model = try Model<Float>(contentsOf: URL(fileURLWithPath: path))
    let prepared = try model.prepared(
      try DataInput.load(for: model, path: data, target: target, labels: settings.labels))
    let history = try historyFile.map { try History(contentsOf: URL(fileURLWithPath: $0)) }
    let sample = try prepared.subset(Array(0..<min(prepared.count, 1000)))
    if let history { print(summary(of: history, shape: path)) }
    report(
      try Doctor.examine(network: model.network, data: sample, loss: model.loss, history: history))
  }

  private func shape(_ data: DataSet<Float>, _ layers: [HiddenLayer]) -> String {
    ([data.featureCount] + layers.map(\.size) + [data.targetKind.width]).map(String.init).joined(
      separator: "-")
  }

  private func summary(of history: History, shape: String) -> String {
    let losses = history.values(of: "loss") ?? []
    let accuracy = history.last("accuracy").map { String(format: ", accuracy %.4f", $0) } ?? ""
    return
      "\(shape): \(losses.count) epochs, loss \(ProgressDisplay.format(losses.first ?? .nan)) → "
      + "\(ProgressDisplay.format(losses.last ?? .nan))\(accuracy)"
  }

  private func report(_ found: [Diagnosis]) {
    guard !found.isEmpty else {
      print("no problem found: none of the common reasons a network does not learn applies")
      return
    }
    for (index, diagnosis) in found.enumerated() { print("\(index + 1). \(diagnosis)") }
  }
}
