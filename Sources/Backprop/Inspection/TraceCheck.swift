import Foundation

/// The mistakes people make when they write backpropagation by hand, which ``TraceCheck`` can
/// recognize from the numbers their code printed.
public enum BackpropBug: String, Sendable, Codable, CaseIterable {
  /// The output layer's weights were updated before the hidden layer's error used them.
  case weightsUpdatedBeforeUse = "weights updated before they were used"
  /// δ was taken as ∂E/∂out, without the activation's derivative ∂out/∂net.
  case missingActivationDerivative = "missing activation derivative"
  /// The activation's derivative was evaluated at the wrong value (such as seed 002's
  /// `1 - tanh(dh)**2`, or σ′ applied to out instead of out(1 − out)).
  case derivativeOfWrongVariable = "activation derivative applied to the wrong variable"
  /// The value has the opposite sign.
  case wrongSign = "wrong sign"
  /// The value is twice or half the right one: the ½ of E = ½Σ(t − out)² was dropped or doubled.
  case factorTwo = "a factor 2 from the ½ in the loss"
  /// The value is N times or 1/N of the right one: a sum where the loss takes a mean, or the
  /// reverse.
  case meanVersusSum = "mean against sum"
  /// The softmax derivative was applied on top of softmax + cross-entropy's δ = out − t.
  case softmaxDerivativeTwice = "softmax + cross-entropy derivative counted twice"
  /// The value belongs to another neuron or weight (an index typo, as in seed 004).
  case wrongNeuron = "a value taken from the wrong neuron"
  /// A neuron's net input used another neuron's bias.
  case wrongBias = "a bias used where another belongs"

  /// What to change.
  public var advice: String {
    switch self {
    case .weightsUpdatedBeforeUse:
      "compute every δ with the old weights first, then update all weights"
    case .missingActivationDerivative: "multiply ∂E/∂out by ∂out/∂net to get δ"
    case .derivativeOfWrongVariable:
      "evaluate the derivative from the neuron's own net or out (σ′ = out(1 − out), "
        + "tanh′ = 1 − out²), not from the incoming gradient or an already activated value"
    case .wrongSign: "check the sign: ∂E/∂out = out − t for E = ½(t − out)², and w⁺ = w − η·∂E/∂w"
    case .factorTwo: "d/dout ½(t − out)² = out − t: the ½ cancels the 2 of the square"
    case .meanVersusSum:
      "divide by the batch size exactly where the loss takes its mean, and only there"
    case .softmaxDerivativeTwice:
      "with softmax and cross-entropy, δ_o = out_o − t_o already includes the softmax's derivative"
    case .wrongNeuron: "check the indices: this is another neuron's or weight's value"
    case .wrongBias: "each neuron adds its own bias"
    }
  }
}

/// The comparison of a hand-written backpropagation's numbers with the right ones: the first
/// quantity that disagrees, by how much, and the likely bug by name.
public struct TraceCheck: Sendable, Equatable, CustomStringConvertible {
  /// A quantity whose given value disagrees with the right one.
  public struct Mismatch: Sendable, Equatable {
    /// The quantity, with its right values.
    public var quantity: StepTrace.Quantity
    /// The values given.
    public var given: [Double]
    /// The likely bug, when one explains the given values.
    public var bug: BackpropBug?
    /// How the bug explains them (which value was used instead).
    public var explanation: String?
  }

  /// The number of given quantities compared.
  public var compared: Int
  /// Given names that are not quantities of the trace.
  public var unknownNames: [String]
  /// The first quantity, in the order of computation, whose given values disagree.
  public var firstMismatch: Mismatch?
  /// How many later quantities disagree too (often as a consequence of the first).
  public var laterMismatchCount: Int

  /// Whether every given quantity agrees.
  public var passed: Bool { firstMismatch == nil && unknownNames.isEmpty }

  /// A report for people.
  public var description: String {
    var lines: [String] = []
    if !unknownNames.isEmpty {
      lines.append("not quantities of this network: \(unknownNames.joined(separator: ", "))")
    }
    guard let mismatch = firstMismatch else {
      lines.append("all \(compared) given quantities agree with the right values")
      return lines.joined(separator: "\n")
    }
    let quantity = mismatch.quantity
    let right = StepTrace.format(quantity.values)
    let ratio = zip(mismatch.given, quantity.values).first { $0.1 != 0 }.map { $0.0 / $0.1 }
    lines.append("first disagreement: \(quantity.symbol) (\(quantity.key))")
    lines.append("  yours    \(StepTrace.format(mismatch.given))")
    lines.append("  right    \(right) = \(quantity.formula)")
    if let ratio { lines.append("  yours / right = \(String(format: "%.6g", ratio))") }
    if let bug = mismatch.bug {
      lines.append("likely bug: \(bug.rawValue)" + (mismatch.explanation.map { " (\($0))" } ?? ""))
      lines.append("fix: \(bug.advice)")
    } else {
      lines.append("no common bug explains it; recompute \(quantity.symbol) = \(quantity.formula)")
    }
    if laterMismatchCount > 0 {
      lines.append(
        "\(laterMismatchCount) later quantities disagree too, most likely because of this one")
    }
    lines.append("\(compared) given quantities compared")
    return lines.joined(separator: "\n")
  }
}

extension StepTrace {
  /// Compares values a hand-written backpropagation gave (by key or symbol; one value, or one per
  /// sample) with the trace, in the order of computation.
  ///
  /// Values agree within `absolute + relative·|right|`. For the first quantity that disagrees,
  /// each known bug's version of the value is computed from the right ones, and the first that
  /// matches names the bug.
  public func check(
    _ given: [String: [Double]], relativeTolerance: Double = 1e-6, absoluteTolerance: Double = 1e-9
  ) -> TraceCheck {
    func agrees(_ values: [Double], _ right: [Double]) -> Bool {
      values.count == right.count
        && zip(values, right).allSatisfy {
          abs($0 - $1) <= absoluteTolerance + relativeTolerance * abs($1)
        }
    }
    let unknown = given.keys.filter { self[$0] == nil }.sorted()
    var compared = 0
    var first: TraceCheck.Mismatch?
    var later = 0
    for quantity in quantities {
      guard let values = given[quantity.key] ?? given[quantity.symbol] else { continue }
      compared += 1
      if agrees(values, quantity.values) { continue }
      if first == nil {
        let match = hypotheses(for: quantity).first { hypothesis in
          !agrees(hypothesis.values, quantity.values) && agrees(values, hypothesis.values)
        }
        first = TraceCheck.Mismatch(
          quantity: quantity, given: values, bug: match?.bug, explanation: match?.explanation)
      } else {
        later += 1
      }
    }
    return TraceCheck(
      compared: compared, unknownNames: unknown, firstMismatch: first, laterMismatchCount: later)
  }

  private struct Hypothesis {
    var bug: BackpropBug
    var explanation: String
    var values: [Double]
  }

  private func values(_ key: String) -> [Double]? { self[key]?.values }

  /// Each known bug's version of `quantity`, most specific first.
  private func hypotheses(for quantity: Quantity) -> [Hypothesis] {
    let right = quantity.values
    let neuron = quantity.neuron
    let layer = quantity.layer
    let activation = layer >= 1 && layer <= activations.count ? activations[layer - 1] : ""
    var result: [Hypothesis] = []
    func add(_ bug: BackpropBug, _ explanation: String, _ values: [Double]?) {
      if let values, values.count == right.count {
        result.append(Hypothesis(bug: bug, explanation: explanation, values: values))
      }
    }
    func product(_ a: [Double]?, _ b: [Double]?) -> [Double]? {
      guard let a, let b, a.count == b.count else { return nil }
      return zip(a, b).map(*)
    }
    // The smooth activations, whose derivative people take at the wrong variable; by their one
    // definition.
    let smooth = [ElementwiseActivation.sigmoid, .tanh].first { $0.symbol == activation }
    /// The derivative of this layer's activation evaluated at other values.
    func derivative(at values: [Double]?) -> [Double]? {
      guard let smooth else { return nil }
      return values?.map { smooth.derivative(output: smooth.value($0), input: $0) }
    }
    /// The derivative's formula in the output (out(1 − out), 1 − out²) applied to other values.
    func derivativeFormula(of values: [Double]?) -> [Double]? {
      guard let smooth else { return nil }
      return values?.map { smooth.derivative(output: $0, input: $0) }
    }
    let lossByOutput = values("dE_dout_\(neuron)")
    let out = values("out_\(neuron)")
    let net = values("net_\(neuron)")
    let delta = values("delta_\(neuron)")

    switch quantity.kind {
    case .delta:
      if activation == "softmax" {
        add(
          .softmaxDerivativeTwice, "δ_\(neuron) multiplied by out(1 − out) again",
          product(right, out.map { $0.map { $0 * (1 - $0) } }))
      }
      add(.missingActivationDerivative, "δ_\(neuron) = ∂E/∂out_\(neuron) alone", lossByOutput)
      add(
        .derivativeOfWrongVariable, "the derivative taken at ∂E/∂out_\(neuron)",
        product(lossByOutput, derivative(at: lossByOutput)))
      add(
        .derivativeOfWrongVariable,
        "the derivative taken at out_\(neuron), which is already activated",
        product(lossByOutput, derivative(at: out)))
      add(
        .derivativeOfWrongVariable, "out(1 − out) or 1 − out² taken of net_\(neuron)",
        product(lossByOutput, derivativeFormula(of: net)))
    case .outputByNet:
      add(
        .derivativeOfWrongVariable, "the derivative taken at ∂E/∂out_\(neuron)",
        derivative(at: lossByOutput))
      add(
        .derivativeOfWrongVariable,
        "the derivative taken at out_\(neuron), which is already activated", derivative(at: out))
      add(
        .derivativeOfWrongVariable, "out(1 − out) or 1 − out² taken of net_\(neuron)",
        derivativeFormula(of: net))
    case .lossByOutput where layer < layers.count - 1:
      // Hidden neuron: Σ over the next layer of δ · w.
      let next = layers[layer + 1]
      let outgoing = quantities.filter {
        $0.kind == .netByWeight && $0.layer == layer + 1 && $0.formula == "out_\(neuron)"
      }
      let weightKeys = outgoing.map { String($0.key.dropFirst("dnet_d".count)) }
      func sum(_ deltaKey: (String) -> String, _ weightKey: (String) -> String) -> [Double]? {
        var total = Array(repeating: 0.0, count: right.count)
        for (target, weight) in zip(next, weightKeys) {
          guard let d = values(deltaKey(target)), let w = values(weightKey(weight))?.first,
            d.count == total.count
          else { return nil }
          for index in total.indices { total[index] += d[index] * w }
        }
        return total
      }
      add(
        .weightsUpdatedBeforeUse, "Σ δ·w used the updated weights",
        sum({ "delta_\($0)" }, { "\($0)_new" }))
      add(
        .missingActivationDerivative, "Σ ∂E/∂out·w of the next layer, without its derivatives",
        sum({ "dE_dout_\($0)" }, { $0 }))
    case .lossByWeight:
      let weight = String(quantity.key.dropFirst("dE_d".count))
      let source = values("dnet_d\(weight)")
      add(
        .missingActivationDerivative, "∂E/∂out_\(neuron) · ∂net/∂\(weight), without ∂out/∂net",
        product(lossByOutput, source).map { [$0.reduce(0, +)] })
      add(
        .derivativeOfWrongVariable, "the derivative taken at ∂E/∂out_\(neuron)",
        product(product(lossByOutput, derivative(at: lossByOutput)), source).map {
          [$0.reduce(0, +)]
        })
      for other in layers[layer - 1]
      where "out_\(other)" != self["dnet_d\(weight)"]?.formula
        && other != self["dnet_d\(weight)"]?.formula
      {
        let otherOut = values(other.hasPrefix("i") ? other : "out_\(other)")
        add(
          .wrongNeuron,
          "δ_\(neuron) times \(other.hasPrefix("i") ? other : "out_\(other)") instead of \(self["dnet_d\(weight)"]?.formula ?? "")",
          product(delta, otherOut).map { [$0.reduce(0, +)] })
      }
    case .netInput:
      if let ownBias = values("b_\(neuron)")?.first {
        for other in quantities where other.kind == .bias && other.neuron != neuron {
          guard let bias = other.values.first, bias != ownBias else { continue }
          add(
            .wrongBias, "net_\(neuron) used \(other.key) instead of b_\(neuron)",
            right.map { $0 - ownBias + bias })
        }
      }
    default:
      break
    }
    add(.wrongSign, "the negative of the right value", right.map { -$0 })
    // Only squared errors have a ½ or a 2 to lose.
    if loss == .halfSumOfSquares || loss == .meanSquaredError {
      add(.factorTwo, "twice the right value", right.map { 2 * $0 })
      add(.factorTwo, "half the right value", right.map { $0 / 2 })
    }
    for count in Set([
      sampleCount, layers.last?.count ?? 1, sampleCount * (layers.last?.count ?? 1),
    ]) where count > 1 {
      add(.meanVersusSum, "\(count) times the right value", right.map { $0 * Double(count) })
      add(.meanVersusSum, "1/\(count) of the right value", right.map { $0 / Double(count) })
    }
    if quantity.kind == .updatedWeight || quantity.kind == .updatedBias {
      let name = String(quantity.key.dropLast("_new".count))
      if let old = values(name)?.first, let gradient = values("dE_d\(name)")?.first {
        add(
          .wrongSign, "\(name) + η·∂E/∂\(name): the step went uphill",
          [old + learningRate * gradient])
      }
    }
    for other in quantities
    where other.kind == quantity.kind && other.key != quantity.key && other.layer == layer {
      add(.wrongNeuron, "this is \(other.symbol)'s value", other.values)
    }
    return result
  }
}
