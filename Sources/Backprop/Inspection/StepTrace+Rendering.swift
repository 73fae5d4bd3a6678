import Foundation

extension StepTrace {
  /// How ``rendered(as:neurons:maximumNeurons:)`` writes a trace.
  public enum Format: String, Sendable, CaseIterable {
    /// Aligned text for a terminal.
    case text
    /// Markdown tables.
    case markdown
    /// JSON: every quantity with key, symbol, kind, layer, neuron, formula and values.
    case json
  }

  /// The sections of a trace, in order, with the kinds each holds.
  static let sections: [(title: String, kinds: Set<Kind>)] = [
    ("Parameters", [.weight, .bias]),
    ("Inputs and targets", [.input, .target]),
    ("Forward pass", [.netInput, .output]),
    ("Loss", [.lossTerm, .totalLoss]),
    (
      "Backward pass",
      [.lossByOutput, .outputByNet, .delta, .netByWeight, .lossByWeight, .lossByBias]
    ),
    ("Update", [.updatedWeight, .updatedBias]),
  ]

  /// The trace as text, Markdown or JSON.
  ///
  /// Layers of more than `maximumNeurons` neurons are summarized (count, minimum, maximum and
  /// Euclidean norm of each kind of quantity) unless `neurons` names some of their neurons, which
  /// are then shown in full with the weights into them. JSON always holds everything.
  ///
  /// - Throws: ``BackpropError/invalidArgument(name:detail:)`` for a neuron name the network
  ///   does not have.
  public func rendered(as format: Format, neurons: [String] = [], maximumNeurons: Int = 8) throws
    -> String
  {
    let known = Set(layers.joined())
    if let unknown = neurons.first(where: { !known.contains($0) }) {
      throw BackpropError.invalidArgument(
        name: "neuron '\(unknown)'",
        detail:
          "the network's neurons are \(layers.map { "\($0.first ?? "")…\($0.last ?? "")" }.joined(separator: ", "))"
      )
    }
    if format == .json {
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
      encoder.nonConformingFloatEncodingStrategy = .convertToString(
        positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
      return String(decoding: try encoder.encode(self), as: UTF8.self) + "\n"
    }
    let chosen = Set(neurons)
    func isShown(_ quantity: Quantity) -> Bool {
      guard quantity.layer < layers.count, layers[quantity.layer].count > maximumNeurons else {
        return true
      }
      return chosen.contains(quantity.neuron)
    }
    var lines: [String] = []
    let heading =
      "One step of gradient descent: \(sampleCount) sample\(sampleCount == 1 ? "" : "s"), "
      + "loss \(loss.rawValue), learning rate η = \(learningRate)"
    lines.append(format == .markdown ? "# \(heading)" : heading)
    for section in Self.sections {
      let members = quantities.filter { section.kinds.contains($0.kind) }
      guard !members.isEmpty else { continue }
      lines.append("")
      lines.append(format == .markdown ? "## \(section.title)" : "\(section.title):")
      if format == .markdown {
        lines.append("")
        lines.append("| quantity | formula | value |")
        lines.append("| --- | --- | --- |")
      }
      let shown = members.filter(isShown)
      let symbolWidth = shown.map(\.symbol.count).max() ?? 0
      let formulaWidth = min(shown.map(\.formula.count).max() ?? 0, 48)
      for quantity in shown {
        let value = Self.format(quantity.values)
        if format == .markdown {
          lines.append(
            "| \(quantity.symbol) | \(quantity.formula.replacingOccurrences(of: "|", with: "\\|")) | \(value) |"
          )
        } else {
          let name = quantity.symbol.padding(toLength: symbolWidth, withPad: " ", startingAt: 0)
          let formula =
            quantity.formula == "given"
            ? ""
            : quantity.formula.padding(
              toLength: max(formulaWidth, quantity.formula.count), withPad: " ", startingAt: 0)
              + " = "
          lines.append("  " + name + " = " + formula + value)
        }
      }
      for summary in summaries(of: members.filter { !isShown($0) }) {
        lines.append(
          format == .markdown
            ? "| \(summary.0) | summary | \(summary.1) |" : "  \(summary.0): \(summary.1)")
      }
    }
    return lines.joined(separator: "\n") + "\n"
  }

  /// Count, minimum, maximum and norm of each kind in each summarized layer.
  private func summaries(of hidden: [Quantity]) -> [(String, String)] {
    var groups: [(key: String, values: [Double])] = []
    for quantity in hidden {
      let name =
        "\(quantity.kind.rawValue) of layer \(quantity.layer) (\(layers[quantity.layer].count) neurons)"
      if let index = groups.firstIndex(where: { $0.key == name }) {
        groups[index].values += quantity.values
      } else {
        groups.append((name, quantity.values))
      }
    }
    return groups.map { group in
      let norm = group.values.reduce(0) { $0 + $1 * $1 }.squareRoot()
      return (
        group.key,
        "\(group.values.count) values, min \(Self.format([group.values.min() ?? 0])), "
          + "max \(Self.format([group.values.max() ?? 0])), norm \(Self.format([norm]))"
      )
    }
  }

  /// Nine significant digits; a batch's values in brackets.
  static func format(_ values: [Double]) -> String {
    let numbers = values.prefix(6).map { String(format: "%.9g", $0) }
    let text = numbers.joined(separator: ", ") + (values.count > 6 ? ", … (\(values.count))" : "")
    return values.count == 1 ? text : "[\(text)]"
  }
}
