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
  /// SVG documents by role: `data` (decision regions, the regression map or fit), `network`
  /// (with every neuron's map), and `loss` once an epoch has finished.
  var pictures: [String: String]
  /// The edges' colouring: `weights`, or `gradients` (∂E/∂w of the last step, neurons by δ).
  var view: String
  /// The neuron whose trace is shown.
  var neuron: String?
  /// That neuron's map, large, as a PNG `data:` URI.
  var neuronMap: String?
  /// The data picture's map alone, as a PNG `data:` URI, in place of `pictures.data` when the
  /// rest of that picture (axes, points, legend) is what the page already shows.
  var dataMap: String?
  /// The quantities of that neuron in the last step, in the order they were computed.
  var trace: [StepTrace.Quantity]
  /// What the trace covers.
  var traceNote: String?
  /// The selected edge: its weight and its ∂E/∂w in the last step.
  var edge: EdgeDetail?
  /// ``Doctor``'s diagnoses of the network as it is now, each with the neurons it is about.
  var notes: [Note]

  /// An edge of the network picture, as the page shows it when clicked.
  struct EdgeDetail: Encodable, Sendable {
    /// `from-to`, such as `i1-h1_2`.
    var name: String
    /// The weight's name in the trace (`w5`).
    var symbol: String?
    var weight: Double
    /// ∂E/∂w in the last step (nil before the first).
    var gradient: Double?
  }

  /// A diagnosis, short.
  struct Note: Encodable, Sendable {
    var problem: String
    var evidence: String
    var fix: String
    var neurons: [String]
  }

  /// The frame as JSON text (non-finite numbers as the strings `nan`, `inf`, `-inf`).
  func json() throws -> String { try PlaygroundJSON.text(self) }

  /// The data picture split into its map (the `data:` URI of its one raster image) and the
  /// rest, or nil for a picture without a map (a 1-D fit).
  static func splitMap(_ svg: String) -> (rest: String, map: String)? {
    guard let start = svg.range(of: "href='data:image/png;base64,"),
      let end = svg[start.upperBound...].firstIndex(of: "'")
    else { return nil }
    let map = String(svg[svg.index(start.lowerBound, offsetBy: 6)..<end])
    return (String(svg[..<start.lowerBound]) + String(svg[end...]), map)
  }

  /// Leaves the data picture out when its rest is `shownRest` (what the page shows), sending
  /// its map alone; returns the rest now shown.
  mutating func sendingMapAlone(whenRestIs shownRest: String?) -> String? {
    guard let svg = pictures["data"], let (rest, map) = Self.splitMap(svg) else { return nil }
    if rest == shownRest {
      pictures["data"] = nil
      dataMap = map
    }
    return rest
  }
}

/// What the page asks a frame to show, besides the training's state.
struct FrameView: Sendable, Equatable {
  /// The neuron whose trace and large map are shown (nil: the first hidden or output one).
  var neuron: String?
  /// The edge whose weight and gradient are shown.
  var edge: String?
  /// Whether edges show ∂E/∂w and neurons δ, instead of the weights.
  var showsGradients = false
}

extension PlaygroundTrainer {
  /// Pixels across the decision map and the large neuron map.
  static let mapResolution = 100
  /// Pixels across each neuron's map inside the network picture, each the neuron's output at
  /// its centre.
  static let smallMapResolution = 20

  /// The frame of the current state, as `view` asks.
  func frame(isRunning: Bool, view: FrameView = FrameView()) -> PlaygroundFrame {
    let measures = measure()
    var pictures: [String: String] = [:]
    let predict = { (features: Tensor<Float>) throws -> Tensor<Float> in
      try self.network(self.networkInput(features))
    }
    let resolution = Self.mapResolution
    let dataPicture: SVGCanvas?
    if train.targetKind.classNames != nil {
      dataPicture = try? Plot.decisionRegions(
        data: train, resolution: resolution, title: "Decision regions", raster: true,
        predict: predict)
    } else if train.featureCount == 2 {
      dataPicture = try? Plot.regressionMap(
        data: train, resolution: resolution, title: "Prediction", predict: predict)
    } else {
      dataPicture = try? Plot.regressionFit(data: train, title: "Fit", predict: predict)
    }
    pictures["data"] = dataPicture?.svg
    let names = neuronNames.flatMap { $0 }
    let chosen =
      view.neuron.flatMap { names.contains($0) ? $0 : nil } ?? neuronNames.dropFirst().first?.first
    let maps = (try? neuronMaps(large: Set([chosen].compactMap { $0 }))) ?? [:]
    var decoration = Plot.NetworkDecoration()
    decoration.neuronImages = maps.mapValues(\.small)
    let notes = diagnoses()
    decoration.flagged = Set(notes.flatMap(\.units))
    let gradients = traceGradients()
    if view.showsGradients, let gradients {
      decoration.edgeValues = gradients.weights
      decoration.edgeValueName = "∂E/∂w of the last step"
      decoration.neuronValues = gradients.deltas
      decoration.neuronValueName = "mean δ of the last step"
    }
    pictures["network"] =
      (try? Plot.network(
        network, inputNames: inputs.map(\.label),
        outputNames: train.targetKind.classNames ?? train.targetKind.columnNames,
        title: view.showsGradients
          ? "Network (edges: ∂E/∂w, rings: δ)" : "Network (edges: weights)",
        decoration: decoration))?.svg
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

    var quantities: [StepTrace.Quantity] = []
    var note: String?
    if let trace, let chosen {
      let updates =
        settings.optimizer == .sgd && settings.weightDecay == 0 && settings.l1Penalty == 0
      quantities = trace.quantities.filter { quantity in
        (quantity.neuron == chosen || quantity.kind == .totalLoss)
          && (updates || (quantity.kind != .updatedWeight && quantity.kind != .updatedBias))
      }
      // The page shows six digits; seven keep the frame small (a Double's JSON has 17).
      for index in quantities.indices {
        quantities[index].values = quantities[index].values.map {
          $0.isFinite ? Double(String(format: "%.7g", $0)) ?? $0 : $0
        }
      }
      note =
        "step \(step): \(trace.sampleCount) sample(s) of the batch, learning rate \(trace.learningRate)"
        + (updates ? "" : "; the update is \(settings.optimizer.rawValue)'s, so w⁺ is not shown")
        + (settings.dropout > 0 ? "; traced without dropout's random mask" : "")
    }
    let status = divergence != nil ? "diverged" : isRunning ? "running" : "paused"
    return PlaygroundFrame(
      status: status, message: divergence, step: step, epoch: epoch, trainLoss: measures.trainLoss,
      testLoss: measures.testLoss, trainAccuracy: measures.trainAccuracy,
      testAccuracy: measures.testAccuracy, pictures: pictures,
      view: view.showsGradients ? "gradients" : "weights", neuron: chosen,
      neuronMap: chosen.flatMap { try? maps[$0]?.large?.dataURI() }, trace: quantities,
      traceNote: note, edge: view.edge.flatMap { edgeDetail($0, gradients: gradients) },
      notes: notes.map {
        PlaygroundFrame.Note(
          problem: $0.problem.rawValue, evidence: $0.evidence, fix: $0.fix, neurons: $0.units)
      })
  }

  /// The weight and last gradient of the edge `name`, or nil for an edge the network lacks.
  private func edgeDetail(_ name: String, gradients: TraceGradients?)
    -> PlaygroundFrame.EdgeDetail?
  {
    guard let edge = try? edge(name) else { return nil }
    return PlaygroundFrame.EdgeDetail(
      name: name, symbol: gradients?.symbols[edge.layer][edge.index],
      weight: Double(edge.linear.weight.value.scalars[edge.index]),
      gradient: gradients?.weights[edge.layer][edge.index])
  }

  /// What the trace of the last step says of the gradients: ∂E/∂w of each weight (row-major per
  /// layer, as the layers hold them), each weight's name, and the mean δ of each neuron.
  struct TraceGradients {
    var weights: [[Double]]
    var symbols: [[String?]]
    var deltas: [String: Double]
  }

  /// The gradients of the last step's trace, nil before the first step.
  func traceGradients() -> TraceGradients? {
    guard let trace else { return nil }
    let widths = zip(layerSizes, layerSizes.dropFirst()).map { $0 * $1 }
    var weights = widths.map { Array(repeating: 0.0, count: $0) }
    var symbols = widths.map { Array(repeating: String?.none, count: $0) }
    var deltas: [String: Double] = [:]
    for quantity in trace.quantities {
      switch quantity.kind {
      case .lossByWeight:
        let layer = quantity.layer - 1
        guard layer >= 0, layer < weights.count, let source = quantity.source,
          let row = neuronNames[layer].firstIndex(of: source),
          let column = neuronNames[layer + 1].firstIndex(of: quantity.neuron)
        else { continue }
        let index = row * layerSizes[layer + 1] + column
        weights[layer][index] = quantity.values.first ?? 0
        symbols[layer][index] = quantity.weight
      case .delta:
        deltas[quantity.neuron] =
          quantity.values.reduce(0, +) / Double(max(quantity.values.count, 1))
      default: continue
      }
    }
    return TraceGradients(weights: weights, symbols: symbols, deltas: deltas)
  }

  /// Each neuron's output over the input plane (or along the input line), by name: small, at
  /// ``smallMapResolution``, and large, at ``mapResolution``, for the neurons in `large` (nil:
  /// all of them).
  ///
  /// Inputs show their values, hidden neurons their activations, and outputs what the network
  /// ends in (logits for cross-entropy); the colour scale is ±1, or ± the largest magnitude where
  /// a neuron goes beyond 1.
  func neuronMaps(large: Set<String>? = nil) throws -> [String: (
    small: PNGImage, large: PNGImage?
  )] {
    let small = try neuronValues(resolution: Self.smallMapResolution)
    let big = try neuronValues(resolution: Self.mapResolution, of: large)
    func image(_ values: [Double], resolution: Int, levels: Int) throws -> PNGImage {
      let scale = max(1, values.lazy.filter(\.isFinite).map(abs).max() ?? 1)
      return train.featureCount == 2
        ? try Plot.valueMap(
          values, width: resolution, height: resolution, scale: scale, levels: levels)
        : try Plot.curveImage(values, width: resolution, height: resolution, scale: scale)
    }
    var maps: [String: (small: PNGImage, large: PNGImage?)] = [:]
    for (name, values) in small {
      // A small map needs fewer shades: 33 keep it a few hundred bytes.
      maps[name] = (
        try image(values, resolution: Self.smallMapResolution, levels: 16),
        try big[name].map { try image($0, resolution: Self.mapResolution, levels: 32) }
      )
    }
    return maps
  }

  /// The outputs of the neurons named in `names` (nil: all) at the centres of a `resolution` ×
  /// `resolution` grid over the input plane, row by row from the top, or at `resolution` points
  /// along the input line for 1-D data (``Plot/curvePoints(over:count:)``, where the fit is drawn).
  private func neuronValues(resolution: Int, of names: Set<String>? = nil) throws
    -> [String: [Double]]
  {
    if names?.isEmpty == true { return [:] }
    let points: Tensor<Float>
    if train.featureCount == 2 {
      points = try Plot.MapDomain(covering: train).centres(resolution: resolution)
    } else {
      let line = Plot.curvePoints(over: train.features.scalars.map(Double.init), count: resolution)
      points = try Tensor(shape: [resolution, 1], scalars: line.points.map(Float.init))
    }
    // The output of each column of neurons: the inputs, then whatever stands before the next
    // Linear (its activation, and dropout, which is off outside training), then the last layer.
    var value = try networkInput(points)
    var columns = [value]
    for (index, layer) in network.layers.enumerated() {
      if index > 0, layer is Linear<Float> { columns.append(value) }
      value = try layer(value)
    }
    columns.append(value)
    var values: [String: [Double]] = [:]
    for (layer, output) in columns.enumerated() where layer < neuronNames.count {
      let width = output.shape[1]
      output.withUnsafeBufferPointer { scalars in
        for (unit, name) in neuronNames[layer].enumerated()
        where unit < width && names?.contains(name) ?? true {
          values[name] = stride(from: unit, to: scalars.count, by: width).map {
            Double(scalars[$0])
          }
        }
      }
    }
    return values
  }
}
