import Foundation

/// The bugs of hand-written backpropagation that the checkers tell apart, by fixed kebab-case
/// identifiers (the raw values, which `--format json` prints): ``TraceCheck`` for values by
/// neuron, ``ArrayStepCheck`` for a step's matrices.
public enum BackpropBug: String, Sendable, Codable, CaseIterable {
  /// A gradient (or weight) in the other layout: rows and columns swapped.
  case transposed
  /// N times the right value: summed over the batch where the loss takes the mean.
  case sumInsteadOfMean = "sum-instead-of-mean"
  /// 1/N of the right value: averaged over the batch where the loss is a sum.
  case meanInsteadOfSum = "mean-instead-of-sum"
  /// Twice or half the right value: the ½ of E = ½Σ(t − out)² dropped or doubled.
  case factorTwo = "factor-two"
  /// The opposite sign, or an update that goes uphill.
  case wrongSign = "wrong-sign"
  /// The activation's derivative evaluated at the wrong value (seed 002's `1 - tanh(dh)**2`,
  /// or σ′ written as a(1 − a) but given z).
  case derivativeOfWrongVariable = "derivative-of-wrong-variable"
  /// δ taken as ∂E/∂out, without the activation's derivative ∂out/∂net.
  case missingActivationDerivative = "missing-activation-derivative"
  /// The output activation's derivative applied on top of the loss's δ = out − t.
  case softmaxDerivativeTwice = "softmax-derivative-twice"
  /// The backward pass used weights already updated.
  case updatedBeforeUse = "updated-before-use"
  /// A bias gradient not summed over the batch, or averaged where the rest is summed.
  case biasGradientNotSummed = "bias-gradient-not-summed"
  /// A value taken from the wrong neuron, weight, bias or layer (an index typo, as in seed 004).
  case wrongIndex = "wrong-index"
  /// The bias left out of the forward pass.
  case missingBias = "missing-bias"

  /// The bug in words.
  public var title: String {
    switch self {
    case .transposed: "a gradient transposed"
    case .sumInsteadOfMean: "summed where the loss takes the mean"
    case .meanInsteadOfSum: "averaged where the loss is a sum"
    case .factorTwo: "a factor 2 from the ½ in the loss"
    case .wrongSign: "wrong sign"
    case .derivativeOfWrongVariable: "activation derivative applied to the wrong variable"
    case .missingActivationDerivative: "missing activation derivative"
    case .softmaxDerivativeTwice: "softmax + cross-entropy derivative counted twice"
    case .updatedBeforeUse: "weights updated before they were used"
    case .biasGradientNotSummed: "bias gradient not summed over the batch"
    case .wrongIndex: "a value taken from the wrong neuron, weight or layer"
    case .missingBias: "the bias left out of the forward pass"
    }
  }

  /// What to change.
  public var advice: String {
    switch self {
    case .transposed: "∂E/∂W has W's shape: aᵀ·δ for W in×out (X @ W), δᵀ·a for W out×in (X @ W.T)"
    case .updatedBeforeUse:
      "compute every δ with the old weights first, then update all weights"
    case .missingActivationDerivative: "multiply ∂E/∂out by ∂out/∂net to get δ"
    case .derivativeOfWrongVariable:
      "evaluate the derivative from the neuron's own net or out (σ′ = out(1 − out), "
        + "tanh′ = 1 − out²), not from the incoming gradient or an already activated value"
    case .wrongSign: "check the sign: ∂E/∂out = out − t for E = ½(t − out)², and w⁺ = w − η·∂E/∂w"
    case .factorTwo: "d/dout ½(t − out)² = out − t: the ½ cancels the 2 of the square"
    case .sumInsteadOfMean, .meanInsteadOfSum:
      "divide by the batch size exactly where the loss takes its mean, and only there"
    case .softmaxDerivativeTwice:
      "with softmax and cross-entropy, δ_o = out_o − t_o already includes the softmax's derivative"
    case .biasGradientNotSummed: "∂E/∂b is δ summed over the batch's samples"
    case .wrongIndex: "check the indices: this is another neuron's, weight's or bias's value"
    case .missingBias: "each neuron adds its own bias: z = a·W + b"
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
      lines.append(
        "likely bug: \(bug.title) [\(bug.rawValue)]"
          + (mismatch.explanation.map { " (\($0))" } ?? ""))
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

  private func values(_ kind: Kind, neuron: String? = nil, weight: String? = nil) -> [Double]? {
    quantity(kind, neuron: neuron, weight: weight)?.values
  }

  /// The output of a neuron, or the value of an input.
  private func output(of neuron: String) -> [Double]? {
    values(.output, neuron: neuron) ?? values(.input, neuron: neuron)
  }

  /// Each known bug's version of `quantity`, most specific first.
  private func hypotheses(for quantity: Quantity) -> [Hypothesis] {
    let right = quantity.values
    let neuron = quantity.neuron
    let layer = quantity.layer
    let activation =
      layer >= 1 && layer <= stageActivations.count ? stageActivations[layer - 1] : nil
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
    let smooth: ElementwiseActivation? =
      switch activation {
      case .elementwise(.sigmoid): .sigmoid
      case .elementwise(.tanh): .tanh
      default: nil
      }
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
    let lossByOutput = values(.lossByOutput, neuron: neuron)
    let out = values(.output, neuron: neuron)
    let net = values(.netInput, neuron: neuron)
    let delta = values(.delta, neuron: neuron)

    switch quantity.kind {
    case .delta:
      if activation == .softmax {
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
      let outgoing = quantities.filter { $0.kind == .weight && $0.source == neuron }
      func sum(_ deltaKind: Kind, updated: Bool) -> [Double]? {
        var total = Array(repeating: 0.0, count: right.count)
        for edge in outgoing {
          guard let d = values(deltaKind, neuron: edge.neuron),
            let w = (updated ? values(.updatedWeight, weight: edge.weight) : edge.values)?.first,
            d.count == total.count
          else { return nil }
          for index in total.indices { total[index] += d[index] * w }
        }
        return total
      }
      add(.updatedBeforeUse, "Σ δ·w used the updated weights", sum(.delta, updated: true))
      add(
        .missingActivationDerivative, "Σ ∂E/∂out·w of the next layer, without its derivatives",
        sum(.lossByOutput, updated: false))
    case .lossByWeight:
      guard let weight = quantity.weight, let source = quantity.source else { break }
      let sourceValues = output(of: source)
      add(
        .missingActivationDerivative, "∂E/∂out_\(neuron) · ∂net/∂\(weight), without ∂out/∂net",
        product(lossByOutput, sourceValues).map { [$0.reduce(0, +)] })
      add(
        .derivativeOfWrongVariable, "the derivative taken at ∂E/∂out_\(neuron)",
        product(product(lossByOutput, derivative(at: lossByOutput)), sourceValues).map {
          [$0.reduce(0, +)]
        })
      for other in layers[layer - 1] where other != source {
        add(
          .wrongIndex,
          "δ_\(neuron) times \(StepTrace.outName(other)) instead of "
            + StepTrace.outName(source),
          product(delta, output(of: other)).map { [$0.reduce(0, +)] })
      }
    case .netInput:
      if let ownBias = values(.bias, neuron: neuron)?.first {
        for other in quantities where other.kind == .bias && other.neuron != neuron {
          guard let bias = other.values.first, bias != ownBias else { continue }
          add(
            .wrongIndex, "net_\(neuron) used \(other.key) instead of b_\(neuron)",
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
      add(.sumInsteadOfMean, "\(count) times the right value", right.map { $0 * Double(count) })
      add(.meanInsteadOfSum, "1/\(count) of the right value", right.map { $0 / Double(count) })
    }
    if quantity.kind == .updatedWeight || quantity.kind == .updatedBias {
      let isWeight = quantity.kind == .updatedWeight
      let name = isWeight ? quantity.weight ?? "" : "b_\(neuron)"
      let old = isWeight ? values(.weight, weight: quantity.weight) : values(.bias, neuron: neuron)
      let gradient =
        isWeight
        ? values(.lossByWeight, weight: quantity.weight) : values(.lossByBias, neuron: neuron)
      if let old = old?.first, let gradient = gradient?.first {
        add(
          .wrongSign, "\(name) + η·∂E/∂\(name): the step went uphill",
          [old + learningRate * gradient])
      }
    }
    for other in quantities
    where other.kind == quantity.kind && other.key != quantity.key && other.layer == layer {
      add(.wrongIndex, "this is \(other.symbol)'s value", other.values)
    }
    return result
  }
}
