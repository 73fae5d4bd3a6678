import Backprop
import Foundation

/// What the page shows after a step: the numbers, the pictures and the selected neuron's trace.
struct PlaygroundFrame: Encodable, Sendable {
  /// Always `frame`, so the page can tell the messages apart.
  var type = "frame"
  /// `running`, `paused` or `diverged`.
  var status: String
  /// Why training stopped, when it diverged.
  var message: String?
  var step: Int
  var epoch: Int
  var trainLoss: Double
  var testLoss: Double?
  var trainAccuracy: Double?
  var testAccuracy: Double?
  /// SVG documents by role: `data` (decision regions or the regression fit), `network`, and
  /// `loss` once an epoch has finished.
  var pictures: [String: String]
  /// The neuron whose trace is shown.
  var neuron: String?
  /// The quantities of that neuron in the last step, in the order they were computed.
  var trace: [StepTrace.Quantity]
  /// What the trace covers.
  var traceNote: String?

  /// The frame as JSON text (non-finite numbers as the strings `nan`, `inf`, `-inf`).
  func json() throws -> String { try PlaygroundJSON.text(self) }
}

extension PlaygroundTrainer {
  /// The frame of the current state; `neuron` picks the traced neuron (a name of
  /// ``StepTrace/neuronNames(layerSizes:)``, by default the first hidden or output one).
  func frame(isRunning: Bool, neuron: String?) -> PlaygroundFrame {
    let measures = measure()
    var pictures: [String: String] = [:]
    func predict(_ features: Tensor<Float>) throws -> Tensor<Float> {
      try network(scaling?.apply(to: features) ?? features)
    }
    let dataPicture =
      train.targetKind.classNames != nil
      ? try? Plot.decisionRegions(
        data: train, resolution: 40, title: "Decision regions", predict: predict)
      : try? Plot.regressionFit(data: train, title: "Fit", predict: predict)
    pictures["data"] = dataPicture?.svg
    pictures["network"] =
      (try? Plot.network(
        network, inputNames: train.featureNames,
        outputNames: train.targetKind.classNames ?? train.targetKind.columnNames,
        title: "Network (edges: weights)"))?.svg
    if !curve.isEmpty {
      let epochs = curve.map { Double($0.epoch) }
      var series = [Plot.Curve(name: "train loss", colorIndex: 0, x: epochs, y: curve.map(\.train))]
      if curve.contains(where: { $0.test != nil }) {
        series.append(
          Plot.Curve(name: "test loss", colorIndex: 1, x: epochs, y: curve.map { $0.test ?? .nan }))
      }
      let positive = series.flatMap(\.y).allSatisfy { $0 > 0 || !$0.isFinite }
      pictures["loss"] =
        (try? Plot.curves(series, xLabel: "epoch", logScale: positive, title: "Loss"))?.svg
    }

    let names = trace?.layers.flatMap { $0 } ?? []
    let chosen =
      neuron.flatMap { names.contains($0) ? $0 : nil } ?? trace?.layers.dropFirst().first?.first
    var quantities: [StepTrace.Quantity] = []
    var note: String?
    if let trace, let chosen {
      let updates = settings.optimizer == .sgd && settings.weightDecay == 0
      quantities = trace.quantities.filter { quantity in
        (quantity.neuron == chosen || quantity.kind == .totalLoss)
          && (updates || (quantity.kind != .updatedWeight && quantity.kind != .updatedBias))
      }
      note =
        "step \(step): \(trace.sampleCount) sample(s) of the batch, learning rate \(trace.learningRate)"
        + (updates ? "" : "; the update is \(settings.optimizer.rawValue)'s, so w⁺ is not shown")
    }
    let status = divergence != nil ? "diverged" : isRunning ? "running" : "paused"
    return PlaygroundFrame(
      status: status, message: divergence, step: step, epoch: epoch, trainLoss: measures.trainLoss,
      testLoss: measures.testLoss, trainAccuracy: measures.trainAccuracy,
      testAccuracy: measures.testAccuracy, pictures: pictures, neuron: chosen, trace: quantities,
      traceNote: note)
  }
}
