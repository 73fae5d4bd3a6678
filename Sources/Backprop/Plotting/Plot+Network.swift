import Foundation

extension Plot {
  /// What the edges of a network diagram show.
  public enum EdgeValue: String, Sendable, CaseIterable {
    /// The weights.
    case weights
    /// The weights' gradients from the last backward pass (zero where there is none).
    case gradients
  }

  /// What a network diagram shows beyond its weights and biases: each neuron's map, a value per
  /// neuron on its ring, edge values other than the layers' own, and neurons to flag.
  public struct NetworkDecoration: Sendable {
    /// A map of each neuron's output (over the input plane, or a curve), drawn inside its ring,
    /// by neuron name (``StepTrace/neuronNames(layerSizes:)``).
    public var neuronImages: [String: PNGImage] = [:]
    /// A value per neuron, by name, colouring its ring: blue positive, orange negative, darker
    /// and wider with the magnitude relative to the largest.
    public var neuronValues: [String: Double] = [:]
    /// What ``neuronValues`` are, for the caption (such as `δ`).
    public var neuronValueName = ""
    /// The edges' values, one row-major `[inputs · outputs]` array per `Linear`, in place of
    /// the diagram's `edges` (as ∂E/∂w from a trace, which the layers do not hold).
    public var edgeValues: [[Double]]?
    /// What ``edgeValues`` are, for the caption (such as `∂E/∂w of the last step`).
    public var edgeValueName = ""
    /// Neurons drawn with a red ring and the class `flagged`, for a diagnosis about them.
    public var flagged: Set<String> = []

    /// No decoration: the plain diagram.
    public init() {}
  }

  /// A diagram of a network of `Linear` layers, as in Mazur's post and TensorFlow Playground:
  /// one column of neurons per layer, each neuron labelled with the activation that follows its
  /// layer and its bias, edges blue for positive and orange for negative values, their width and
  /// opacity growing with the magnitude (relative to the largest).
  ///
  /// Layers of more than 12 neurons show their first 11 and a "+N more" mark. Each neuron's
  /// circle carries `data-neuron` with its name in a ``StepTrace`` (`i1`, `h1`, `o1`), and each
  /// edge `data-edge` (`i1-h1`, from and to) and `data-value`, its value. `decoration` adds maps,
  /// ring colours and flags.
  ///
  /// - Throws: ``BackpropError/invalidArgument(name:detail:)`` for a network without a `Linear`,
  ///   or edge values that do not match its layers.
  public static func network<Scalar: TensorScalar>(
    _ network: Sequential<Scalar>, edges: EdgeValue = .weights, inputNames: [String]? = nil,
    outputNames: [String]? = nil, title: String = "Network", width: Double = 800,
    height: Double = 600, decoration: NetworkDecoration = NetworkDecoration()
  ) throws -> SVGCanvas {
    var columns: [(size: Int, activation: String, layer: Linear<Scalar>?)] = []
    for layer in network.layers {
      if let linear = layer as? Linear<Scalar> {
        if columns.isEmpty { columns.append((linear.inputSize ?? 0, "", nil)) }
        columns.append((linear.outputSize ?? 0, "", linear))
      } else if !columns.isEmpty, columns[columns.count - 1].layer != nil {
        columns[columns.count - 1].activation = symbol(for: layer)
      }
    }
    guard columns.count >= 2 else {
      throw BackpropError.invalidArgument(
        name: "network diagram", detail: "the network has no Linear layer to draw")
    }
    let shown = 12
    func visible(_ size: Int) -> Int { size > shown ? shown - 1 : size }
    var canvas = SVGCanvas(width: width, height: height)
    canvas.text(
      title, at: (width / 2, 30), size: 18, anchor: .middle, weight: "bold", className: "title")
    let left = 110.0
    let right = width - 110
    let top = 70.0
    let bottom = height - 40
    /// The rows a column draws (its "+N more" mark included) and the distance between them.
    func rows(of column: Int) -> (count: Int, spacing: Double) {
      let count = visible(columns[column].size) + (columns[column].size > shown ? 1 : 0)
      return (count, min(60, (bottom - top) / Double(max(count, 1))))
    }
    func position(column: Int, row: Int) -> (Double, Double) {
      let x = left + (right - left) * Double(column) / Double(columns.count - 1)
      let (count, spacing) = rows(of: column)
      let y = (top + bottom) / 2 + spacing * (Double(row) - Double(count - 1) / 2)
      return (x, y)
    }

    if let given = decoration.edgeValues {
      let sizes = columns.dropFirst().compactMap(\.layer).map {
        ($0.inputSize ?? 0) * ($0.outputSize ?? 0)
      }
      guard given.map(\.count) == sizes else {
        throw BackpropError.invalidArgument(
          name: "edge values",
          detail: "\(given.map(\.count)) values per layer; the network's layers have \(sizes)")
      }
    }
    let values: [[[Double]]] = columns.dropFirst().enumerated().map { index, column in
      guard let linear = column.layer else { return [] }
      let rows = linear.inputSize ?? 0
      let outputs = linear.outputSize ?? 0
      let scalars: [Double]
      if let given = decoration.edgeValues {
        scalars = given[index]
      } else {
        let tensor =
          edges == .weights ? linear.weight.value : (linear.weight.gradient ?? Tensor(0))
        scalars =
          tensor.count == rows * outputs
          ? tensor.scalars.map(Double.init) : Array(repeating: 0, count: rows * outputs)
      }
      return (0..<rows).map { Array(scalars[($0 * outputs)..<(($0 + 1) * outputs)]) }
    }
    let neuronNames = StepTrace.neuronNames(layerSizes: columns.map(\.size))
    let largest = max(values.joined().joined().map(abs).max() ?? 0, 1e-12)
    for (index, matrix) in values.enumerated() {
      for (from, row) in matrix.enumerated().prefix(visible(columns[index].size)) {
        for (to, value) in row.enumerated().prefix(visible(columns[index + 1].size)) {
          let strength = abs(value) / largest
          canvas.line(
            from: position(column: index, row: from), to: position(column: index + 1, row: to),
            stroke: value >= 0 ? "#1f77b4" : "#ff7f0e", width: 0.5 + 5 * strength,
            opacity: 0.25 + 0.75 * strength, className: "edge",
            data: [
              "edge": neuronNames[index][from] + "-" + neuronNames[index + 1][to],
              "value": String(format: "%.4g", value),
            ])
        }
      }
    }
    let largestNeuronValue = max(decoration.neuronValues.values.map(abs).max() ?? 0, 1e-12)
    for (index, column) in columns.enumerated() {
      let biases = column.layer?.bias?.value.scalars.map(Double.init)
      let spacing = rows(of: index).spacing
      for row in 0..<visible(column.size) {
        let point = position(column: index, row: row)
        let name = neuronNames[index][row]
        let image = decoration.neuronImages[name]
        // A map fills the square inside the ring; the ring grows to hold it.
        let radius = image == nil ? 15 : max(15, min(26, spacing * 0.45))
        if let image {
          let side = radius * 2.squareRoot()
          try canvas.image(
            image, x: point.0 - side / 2, y: point.1 - side / 2, width: side, height: side,
            className: "neuron-map", data: ["map": name])
        }
        var ring = (color: "#333333", width: 1.5)
        if let value = decoration.neuronValues[name] {
          let strength = abs(value) / largestNeuronValue
          ring = (
            PNGImage.Color(hex: "#dddddd").mixed(
              with: PNGImage.Color(hex: value >= 0 ? "#1f77b4" : "#ff7f0e"), share: strength
            ).hex, 1 + 5 * strength
          )
        }
        let isFlagged = decoration.flagged.contains(name)
        if isFlagged { ring = ("#d62728", 4) }
        canvas.circle(
          center: point, radius: radius,
          fill: image != nil ? "transparent" : index == 0 ? "#f2f2f2" : "#ffffff",
          stroke: ring.color, strokeWidth: ring.width,
          className: (index == 0 ? "node input" : "node") + (isFlagged ? " flagged" : ""),
          data: ["neuron": name])
        if image == nil {
          canvas.text(column.activation, at: (point.0, point.1 + 4), size: 11, anchor: .middle)
        }
        if let bias = biases?[row] {
          canvas.text(
            "b " + PlotFrame.label((bias * 1000).rounded() / 1000),
            at: (point.0, point.1 + radius + 13), size: 10, anchor: .middle, fill: "#555555",
            className: "bias")
        }
        let names = index == 0 ? inputNames : index == columns.count - 1 ? outputNames : nil
        if let names, row < names.count {
          canvas.text(
            names[row],
            at: (index == 0 ? point.0 - radius - 7 : point.0 + radius + 7, point.1 + 4), size: 12,
            anchor: index == 0 ? .end : .start, className: "node-name")
        }
      }
      if column.size > shown {
        let point = position(column: index, row: shown - 1)
        canvas.text("+\(column.size - shown + 1) more", at: point, size: 12, anchor: .middle)
      }
      if !decoration.neuronImages.isEmpty, !column.activation.isEmpty, index > 0 {
        canvas.text(
          column.activation, at: (position(column: index, row: 0).0, top - 8), size: 11,
          anchor: .middle, fill: "#555555", className: "layer-activation")
      }
    }
    let edgeName = decoration.edgeValues == nil ? edges.rawValue : decoration.edgeValueName
    var caption =
      "edges: \(edgeName), blue positive, orange negative, width ∝ |value| (largest "
      + "\(PlotFrame.label((largest * 1000).rounded() / 1000)))"
    if !decoration.neuronValues.isEmpty {
      caption += "; rings: \(decoration.neuronValueName)"
    }
    canvas.text(caption, at: (width / 2, height - 12), size: 12, anchor: .middle, fill: "#555555")
    return canvas
  }

  /// A short label for an activation layer inside a neuron.
  private static func symbol<Scalar: TensorScalar>(for layer: any Layer<Scalar>) -> String {
    switch layer {
    case is Sigmoid<Scalar>: "σ"
    case is Tanh<Scalar>: "tanh"
    case is ReLU<Scalar>: "ReLU"
    case is LeakyReLU<Scalar>: "LReLU"
    case is Softmax<Scalar>: "soft"
    case is Identity<Scalar>: "id"
    default: ""
    }
  }
}
