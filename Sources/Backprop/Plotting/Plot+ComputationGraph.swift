import Foundation

extension Plot {
  /// A drawing of the computation graph that ends in `root`, as micrograd's `draw_dot` draws one:
  /// every variable is a box with its name and operation, its shape, its value and its gradient
  /// (all numbers for up to four elements, else their count, range and norm), in columns by
  /// depth from the leaves, with a line from each input to what it feeds.
  public static func computationGraph<Scalar: TensorScalar>(
    _ root: Variable<Scalar>, title: String = "Computation graph"
  ) -> SVGCanvas {
    computationGraph(root, labels: [:], title: title)
  }

  /// The graph of one forward pass of `network` on a batch and its `loss`, after the backward
  /// pass (so that every parameter shows its gradient; the network's gradients are left set),
  /// its values named as ``StepTrace`` names them: `i` the input, and for the layer whose
  /// neurons are h1, h2, … (o1, o2, … for the output layer) `W_h`, `b_h`, `net_h` and `out_h`;
  /// `E_total` the loss.
  ///
  /// - Throws: ``BackpropError`` when the shapes do not fit the network and loss.
  public static func stepGraph<Scalar: TensorScalar>(
    network: Sequential<Scalar>, input: Tensor<Scalar>, target: Tensor<Scalar>,
    loss: LossFunction, title: String = "One step's computation graph"
  ) throws -> SVGCanvas {
    let sizes = [input.shape.last ?? 0] + network.layers.compactMap { $0.outputSize }
    let prefixes = StepTrace.neuronNames(layerSizes: sizes).dropFirst().map { names in
      String((names.first ?? "").dropLast().trimmingCharacters(in: ["_"]))
    }
    var labels: [ObjectIdentifier: String] = [:]
    var current = Variable(input)
    labels[ObjectIdentifier(current)] = "i"
    var layer = -1
    for part in network.layers {
      current = try part(current)
      if let linear = part as? Linear<Scalar> {
        layer += 1
        let prefix = prefixes[min(layer, prefixes.count - 1)]
        labels[ObjectIdentifier(linear.weight)] = "W_\(prefix)"
        if let bias = linear.bias { labels[ObjectIdentifier(bias)] = "b_\(prefix)" }
        labels[ObjectIdentifier(current)] = "net_\(prefix)"
      } else if layer >= 0 {
        labels[ObjectIdentifier(current)] = "out_\(prefixes[min(layer, prefixes.count - 1)])"
      }
    }
    let error = try loss.loss(current, target)
    labels[ObjectIdentifier(error)] = "E_total"
    for parameter in network.parameters { parameter.gradient = nil }
    try error.backward()
    return computationGraph(error, labels: labels, title: title)
  }

  static func computationGraph<Scalar: TensorScalar>(
    _ root: Variable<Scalar>, labels: [ObjectIdentifier: String], title: String
  ) -> SVGCanvas {
    // Every variable after its inputs, with its depth: 0 for a leaf, else one more than its
    // deepest input.
    var order: [Variable<Scalar>] = []
    var depth: [ObjectIdentifier: Int] = [:]
    var stack: [(node: Variable<Scalar>, expanded: Bool)] = [(root, false)]
    while let (node, expanded) = stack.popLast() {
      let id = ObjectIdentifier(node)
      if expanded {
        depth[id] = node.inputs.map { (depth[ObjectIdentifier($0)] ?? 0) + 1 }.max() ?? 0
        order.append(node)
        continue
      }
      guard depth[id] == nil else { continue }
      depth[id] = -1
      stack.append((node, true))
      for input in node.inputs.reversed() where depth[ObjectIdentifier(input)] == nil {
        stack.append((input, false))
      }
    }
    // A leaf stands just before the first operation that reads it (a layer's weights beside
    // its product), as micrograd draws them.
    var leafColumn: [ObjectIdentifier: Int] = [:]
    for node in order where !node.isLeaf {
      for input in node.inputs where input.isLeaf {
        let id = ObjectIdentifier(input)
        leafColumn[id] = min(leafColumn[id] ?? .max, (depth[ObjectIdentifier(node)] ?? 1) - 1)
      }
    }
    let column = depth.merging(leafColumn) { $1 }
    let columns = (column.values.max() ?? 0) + 1
    var rows = [Int](repeating: 0, count: columns)
    var place: [ObjectIdentifier: (column: Int, row: Int)] = [:]
    for node in order {
      let index = column[ObjectIdentifier(node)] ?? 0
      place[ObjectIdentifier(node)] = (index, rows[index])
      rows[index] += 1
    }
    let texts = order.map { node in
      let name = labels[ObjectIdentifier(node)] ?? node.name
      let heading =
        node.isLeaf
        ? (name.isEmpty ? "leaf" : name)
        : name.isEmpty ? node.operation : "\(name) = \(node.operation)"
      return [
        heading, "shape \(BackpropError.format(node.shape))",
        "value \(summary(node.value))", "grad \(node.gradient.map(summary) ?? "none")",
      ]
    }
    // DejaVu Sans at 11 px averages under 6.5 px a character.
    let longest = texts.joined().map(\.count).max() ?? 0
    let boxWidth = max(150, Double(longest) * 6.5 + 12)
    let (boxHeight, columnStep, rowStep) = (66.0, boxWidth + 40, 84.0)
    let (left, top) = (20.0, 60.0)
    var canvas = SVGCanvas(
      width: max(800, left * 2 + Double(columns - 1) * columnStep + boxWidth),
      height: max(200, top + Double(rows.max() ?? 1) * rowStep + 20))
    canvas.text(
      title, at: (canvas.width / 2, 30), size: 18, anchor: .middle, weight: "bold",
      className: "title")
    func corner(_ node: Variable<Scalar>) -> (Double, Double) {
      let (column, row) = place[ObjectIdentifier(node)] ?? (0, 0)
      return (left + Double(column) * columnStep, top + Double(row) * rowStep)
    }
    for node in order {
      let (x, y) = corner(node)
      for input in node.inputs {
        let (inputX, inputY) = corner(input)
        canvas.line(
          from: (inputX + boxWidth, inputY + boxHeight / 2), to: (x, y + boxHeight / 2),
          stroke: "#888888", className: "edge")
        canvas.circle(center: (x, y + boxHeight / 2), radius: 3, fill: "#888888")
      }
    }
    for (node, lines) in zip(order, texts) {
      let (x, y) = corner(node)
      canvas.rectangle(
        x: x, y: y, width: boxWidth, height: boxHeight,
        fill: node.isLeaf ? "#eef4fb" : "#ffffff", stroke: "#555555", className: "node")
      for (index, line) in lines.enumerated() {
        canvas.text(
          line, at: (x + 6, y + 15 + Double(index) * 15), size: index == 0 ? 12 : 11,
          weight: index == 0 ? "bold" : nil, className: index == 0 ? "label" : "number")
      }
    }
    return canvas
  }

  /// Up to four numbers as they are (nine significant digits), else their count, range and
  /// Euclidean norm.
  static func summary<Scalar: TensorScalar>(_ tensor: Tensor<Scalar>) -> String {
    let values = tensor.scalars.map(Double.init)
    func text(_ value: Double) -> String { String(format: "%.9g", value) }
    guard values.count > 4 else { return values.map(text).joined(separator: ", ") }
    let norm = values.reduce(0) { $0 + $1 * $1 }.squareRoot()
    return "\(values.count) in [\(text(values.min() ?? 0)), \(text(values.max() ?? 0))], "
      + "‖·‖ \(text(norm))"
  }
}
