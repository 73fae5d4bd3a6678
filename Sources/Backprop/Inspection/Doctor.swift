import Foundation

/// A reason a network does not learn, found with evidence, and what to do about it.
public struct Diagnosis: Sendable, Equatable, CustomStringConvertible {
  /// The common reasons a network does not learn.
  public enum Problem: String, Sendable, CaseIterable {
    /// Without biases, an all-zero input always gives the same output (seed 000's 0.5).
    case missingBias = "no bias where the data need one"
    /// Sigmoid or tanh units stuck near their limits, where their derivative vanishes.
    case saturatedUnits = "saturated sigmoid/tanh units"
    /// ReLU units whose output is zero for every sample, so they never learn again.
    case deadReLUs = "dead ReLUs"
    /// The first layers' gradients are orders of magnitude below the last layer's.
    case vanishingGradients = "vanishing gradients"
    /// The gradients are huge, or grow by orders of magnitude towards the input.
    case explodingGradients = "exploding gradients"
    /// The loss rises, oscillates or becomes NaN.
    case learningRateTooHigh = "learning rate too high"
    /// The loss hardly moves although it is far from its floor.
    case learningRateTooLow = "learning rate too low"
    /// Units of a layer are identical, so they get identical gradients and stay identical.
    case symmetricInitialization = "symmetric initialization"
    /// Input features on very different or large scales.
    case unscaledInputs = "unscaled inputs"
    /// The output layer or the loss cannot produce the targets.
    case targetsDoNotFit = "targets that do not fit the output layer and loss"
    /// The network is too small for the data: a wider one learns what it cannot.
    case tooLittleCapacity = "too little capacity"
  }

  /// What is wrong.
  public var problem: Problem
  /// The numbers that show it.
  public var evidence: String
  /// What to change.
  public var fix: String
  /// The neurons it is about, named as ``StepTrace/neuronNames(layerSizes:)`` names them
  /// (`h1_2`); empty when it is about the network as a whole.
  public var units: [String] = []

  /// "problem: evidence. Fix: …".
  public var description: String { "\(problem.rawValue): \(evidence)\n  fix: \(fix)" }
}

/// Finds the common reasons a network does not learn, each from evidence in the network, the
/// data, the gradients and the loss history, with a suggested fix.
public enum Doctor {
  /// Thresholds of the checks.
  public struct Thresholds: Sendable, Equatable {
    /// A sigmoid unit is saturated below this or above 1 minus it; a tanh unit above 1 minus it
    /// in magnitude.
    public var saturation = 0.02
    /// The share of samples on which a unit must be saturated to count.
    public var saturatedShare = 0.9
    /// The share of a layer's units that must be saturated or dead to report it.
    public var unitShare = 0.5
    /// Gradient-norm ratio between the first and the last layer below which gradients vanish.
    public var vanishingRatio = 1e-3
    /// Gradient-norm ratio above which they explode, or norm above which they are huge.
    public var explodingRatio = 1e3
    /// A loss that changed by less than this fraction over the run is flat.
    public var flatChange = 0.05
    /// Features whose standard deviation or mean magnitude exceeds this are unscaled.
    public var largeFeature = 20.0

    /// The defaults.
    public init() {}
  }

  /// Examines a network, its training data (as the network sees them), its loss, and the
  /// history of a run, if any.
  ///
  /// `data` should be a sample of the training data (the checks run a forward and backward pass
  /// over all of it); `history` enables the learning-rate checks.
  ///
  /// - Throws: ``BackpropError`` when the network does not fit the data.
  public static func examine<Scalar: TensorScalar>(
    network: Sequential<Scalar>, data: DataSet<Scalar>, loss: LossFunction, history: History? = nil,
    thresholds: Thresholds = Thresholds()
  ) throws -> [Diagnosis] {
    let model = network.converted(to: Double.self)
    guard let copy = model as? Sequential<Double> else { return [] }
    let features = Tensor<Double>(data.features)
    let targets = Tensor<Double>(data.targets)
    var found: [Diagnosis] = []
    found += targetFit(copy, targets: targets, loss: loss)
    found += try missingBias(copy, features: features, targets: targets)
    found += symmetry(copy)
    found += unscaled(features, names: data.featureNames, thresholds: thresholds)
    found += try activity(copy, features: features, thresholds: thresholds)
    found += try gradients(
      copy, features: features, targets: targets, loss: loss, thresholds: thresholds)
    if let history { found += learningRate(history, thresholds: thresholds) }
    return found
  }

  // MARK: The checks

  static func targetFit(_ network: Sequential<Double>, targets: Tensor<Double>, loss: LossFunction)
    -> [Diagnosis]
  {
    let values = targets.scalars
    let low = values.min() ?? 0
    let high = values.max() ?? 0
    let last = network.layers.last
    func report(_ evidence: String, _ fix: String) -> [Diagnosis] {
      [Diagnosis(problem: .targetsDoNotFit, evidence: evidence, fix: fix)]
    }
    if loss == .crossEntropy && last is Softmax<Double> {
      return report(
        "the network ends in Softmax and the cross-entropy loss applies its own softmax, so the "
          + "outputs are squashed twice", "remove the final Softmax layer: the loss takes logits")
    }
    if loss == .crossEntropy && (network.outputSize ?? 2) < 2 {
      return report(
        "softmax cross-entropy over a single output is always 0",
        "give the output layer one neuron per class")
    }
    if last is Sigmoid<Double> && (low < 0 || high > 1) {
      return report(
        "the output is a sigmoid, which lies in (0, 1), but the targets range over [\(format(low)), \(format(high))]",
        "scale the targets to [0, 1], or end with a linear output and use MSE")
    }
    if last is Tanh<Double> && (low < -1 || high > 1) {
      return report(
        "the output is tanh, which lies in (−1, 1), but the targets range over [\(format(low)), \(format(high))]",
        "scale the targets to [−1, 1], or end with a linear output")
    }
    if last is ReLU<Double> && low < 0 {
      return report(
        "the output is a ReLU, which is never negative, but targets go down to \(format(low))",
        "end with a linear output")
    }
    if loss == .binaryCrossEntropy && (low < 0 || high > 1) {
      return report(
        "binary cross-entropy needs targets in [0, 1]; they range over [\(format(low)), \(format(high))]",
        "use MSE for values, or encode the classes as 0 and 1")
    }
    return []
  }

  static func missingBias(
    _ network: Sequential<Double>, features: Tensor<Double>, targets: Tensor<Double>
  ) throws
    -> [Diagnosis]
  {
    let linears = network.layers.compactMap { $0 as? Linear<Double> }
    guard !linears.isEmpty, linears.allSatisfy({ $0.bias == nil }) else { return [] }
    let width = features.shape[1]
    let outputs = targets.shape[1]
    let rows = features.scalars
    // Without biases a zero vector stays zero through every Linear layer; when the hidden
    // activations keep 0 at 0 (tanh, ReLU, identity), an all-zero input gives the final
    // activation of 0 whatever the weights. (Sigmoid hidden units turn 0 into 0.5, after which
    // the weights matter.)
    var value = try Tensor<Double>(zeros: [1, width])
    for layer in network.layers.dropLast() {
      value = try layer(value)
      if value.scalars.contains(where: { $0 != 0 }) { return [] }
    }
    for row in 0..<features.shape[0] where (0..<width).allSatisfy({ rows[row * width + $0] == 0 }) {
      let fixed = try network(Tensor(zeros: [1, width])).scalars
      let target = Array(targets.scalars[(row * outputs)..<((row + 1) * outputs)])
      let gap = zip(fixed, target).map { abs($0 - $1) }.max() ?? 0
      if gap > 0.1 {
        return [
          Diagnosis(
            problem: .missingBias,
            evidence:
              "no layer has a bias, so the all-zero input of sample \(row) gives "
              + "(\(fixed.map(format).joined(separator: ", "))) whatever the weights; its target is "
              + "(\(target.map(format).joined(separator: ", ")))",
            fix: "give the layers biases (Linear(…, bias: true))")
        ]
      }
    }
    return []
  }

  static func symmetry(_ network: Sequential<Double>) -> [Diagnosis] {
    // Hidden layers only: the output layer's units answer different targets.
    let lastLinear = network.layers.lastIndex { $0 is Linear<Double> } ?? 0
    for (index, layer) in network.layers.enumerated() {
      guard let linear = layer as? Linear<Double>, (linear.outputSize ?? 0) > 1, index < lastLinear
      else { continue }
      let rows = linear.weightRows(layout: .outputByInput)
      let biases = linear.bias?.value.scalars
      for a in rows.indices {
        for b in rows.indices where b > a && rows[a] == rows[b] && biases?[a] == biases?[b] {
          return [
            Diagnosis(
              problem: .symmetricInitialization,
              evidence:
                "units \(a + 1) and \(b + 1) of layer \(index) have the same weights and bias, so "
                + "they compute the same thing and receive the same gradient: they can never differ",
              fix: "initialize the weights randomly (Xavier or He), never to one constant")
          ]
        }
      }
    }
    return []
  }

  static func unscaled(_ features: Tensor<Double>, names: [String], thresholds: Thresholds)
    -> [Diagnosis]
  {
    guard let scaling = try? FeatureScaling(fitting: .standardize, to: features) else { return [] }
    let large = names.indices.filter {
      scaling.scales[$0] > thresholds.largeFeature
        || abs(scaling.offsets[$0]) > thresholds.largeFeature
    }
    let spreads = scaling.scales.filter { $0 > 1e-12 }
    let ratio = (spreads.max() ?? 1) / (spreads.min() ?? 1)
    guard !large.isEmpty || ratio > thresholds.largeFeature * 5 else { return [] }
    let examples = (large.isEmpty ? Array(names.indices) : large).prefix(3).map {
      "\(names[$0]): mean \(format(scaling.offsets[$0])), std \(format(scaling.scales[$0]))"
    }
    return [
      Diagnosis(
        problem: .unscaledInputs,
        evidence:
          "the inputs are far from mean 0 and variance 1 (\(examples.joined(separator: "; ")); "
          + "standard deviations differ by \(format(ratio))×)",
        fix:
          "standardize the inputs (--scale standardize, or FeatureScaling(fitting: .standardize, …))"
      )
    ]
  }

  /// Saturated sigmoid/tanh units and dead ReLUs in the hidden layers, from a forward pass.
  static func activity(
    _ network: Sequential<Double>, features: Tensor<Double>, thresholds: Thresholds
  ) throws
    -> [Diagnosis]
  {
    var found: [Diagnosis] = []
    var value = features
    let count = Double(features.shape[0])
    let linears = network.layers.compactMap { $0 as? Linear<Double> }
    let names = StepTrace.neuronNames(
      layerSizes: [linears.first?.inputSize ?? 0] + linears.map { $0.outputSize ?? 0 })
    var column = 0
    for (index, layer) in network.layers.enumerated() {
      value = try layer(value)
      if layer is Linear<Double> { column += 1 }
      func unitNames(_ units: [Int]) -> [String] {
        units.compactMap {
          column < names.count && $0 < names[column].count ? names[column][$0] : nil
        }
      }
      guard index < network.layers.count - 1, value.rank == 2 else { continue }
      let units = value.shape[1]
      let scalars = value.scalars
      func share(_ unit: Int, _ test: (Double) -> Bool) -> Double {
        Double((0..<value.shape[0]).filter { test(scalars[$0 * units + unit]) }.count) / count
      }
      let limit = thresholds.saturation
      let saturated: [Int]
      switch layer {
      case is Sigmoid<Double>:
        saturated = (0..<units).filter {
          share($0) { $0 < limit || $0 > 1 - limit } >= thresholds.saturatedShare
        }
      case is Tanh<Double>:
        saturated = (0..<units).filter {
          share($0) { abs($0) > 1 - limit } >= thresholds.saturatedShare
        }
      case is ReLU<Double>:
        let dead = (0..<units).filter { share($0) { $0 > 0 } == 0 }
        if Double(dead.count) >= thresholds.unitShare * Double(units) {
          found.append(
            Diagnosis(
              problem: .deadReLUs,
              evidence:
                "\(dead.count) of the \(units) ReLU units after layer \(index - 1) output 0 for every "
                + "sample, so no gradient reaches their weights",
              fix: "lower the learning rate, use He initialization and zero biases, or LeakyReLU",
              units: unitNames(dead)))
        }
        continue
      default: continue
      }
      if Double(saturated.count) >= thresholds.unitShare * Double(units) {
        found.append(
          Diagnosis(
            problem: .saturatedUnits,
            evidence:
              "\(saturated.count) of the \(units) \(layer) units after layer \(index - 1) sit at their "
              + "limits on ≥ \(Int(thresholds.saturatedShare * 100))% of the samples, where the "
              + "derivative is nearly 0",
            fix:
              "scale the inputs, initialize with smaller weights (Xavier), or lower the learning rate",
            units: unitNames(saturated)))
      }
    }
    return found
  }

  /// Per-layer gradient norms of the loss on the data.
  static func gradients(
    _ network: Sequential<Double>, features: Tensor<Double>, targets: Tensor<Double>,
    loss: LossFunction, thresholds: Thresholds
  ) throws -> [Diagnosis] {
    let linears = network.layers.compactMap { $0 as? Linear<Double> }
    guard linears.count >= 1 else { return [] }
    let saved = linears.map(\.weight.gradient)
    defer { for (linear, gradient) in zip(linears, saved) { linear.weight.gradient = gradient } }
    for linear in linears { linear.weight.zeroGradient() }
    let value = try loss.loss(network(Variable(features)), targets)
    guard value.value.scalar?.isFinite == true else { return [] }
    try value.backward()
    let norms = linears.map { linear in
      (linear.weight.gradient?.scalars ?? []).reduce(0) { $0 + $1 * $1 }.squareRoot()
    }
    let list = norms.enumerated().map { "layer \($0.offset + 1): \(format($0.element))" }.joined(
      separator: ", ")
    guard let first = norms.first, let last = norms.last else { return [] }
    if norms.contains(where: { !$0.isFinite }) || (norms.max() ?? 0) > thresholds.explodingRatio
      || (norms.count >= 3 && last > 0 && first / last > thresholds.explodingRatio)
    {
      return [
        Diagnosis(
          problem: .explodingGradients,
          evidence: "the weight gradients' norms are \(list)",
          fix:
            "initialize with smaller weights (Xavier/He), scale the inputs, lower the learning rate"
        )
      ]
    }
    if norms.count >= 3, last > 1e-12, first / last < thresholds.vanishingRatio {
      return [
        Diagnosis(
          problem: .vanishingGradients,
          evidence:
            "the weight gradients' norms shrink from the output to the input: \(list) (first/last "
            + "= \(format(first / last)))",
          fix:
            "use ReLU instead of sigmoid/tanh in deep networks, He/Xavier initialization, fewer layers"
        )
      ]
    }
    return []
  }

  static func learningRate(_ history: History, thresholds: Thresholds) -> [Diagnosis] {
    if case .diverged(let epoch, let batch, let value) = history.stopReason {
      return [
        Diagnosis(
          problem: .learningRateTooHigh,
          evidence: "the loss became \(value) in epoch \(epoch), batch \(batch)",
          fix: "divide the learning rate by 10")
      ]
    }
    guard let losses = history.values(of: "loss")?.filter(\.isFinite), losses.count >= 4,
      let first = losses.first, let last = losses.last
    else { return [] }
    let rises = zip(losses, losses.dropFirst()).filter { $1 > $0 }.count
    let best = losses.min() ?? last
    // Rising overall, or jumping up and down while ending far above its best.
    if last > first * 1.05 || Double(rises) > 0.4 * Double(losses.count - 1) && last > 1.5 * best {
      return [
        Diagnosis(
          problem: .learningRateTooHigh,
          evidence:
            "the loss went from \(format(first)) to \(format(last)) (best \(format(best))) and rose "
            + "in \(rises) of \(losses.count - 1) epochs",
          fix: "divide the learning rate by 10")
      ]
    }
    let change = abs(first - last) / max(abs(first), 1e-12)
    if change < thresholds.flatChange, last > 1e-3 {
      return [
        Diagnosis(
          problem: .learningRateTooLow,
          evidence:
            "the loss moved by \(format(change * 100))% in \(losses.count) epochs (from "
            + "\(format(first)) to \(format(last))) and is far from 0",
          fix: "multiply the learning rate by 10 (or use Adam)")
      ]
    }
    return []
  }

  /// The capacity check: whether `wider` (the same recipe with more units) learned what
  /// `network` could not, judged by the final training loss and accuracy of their histories.
  public static func capacity(
    history: History, widerHistory: History, description: String, widerDescription: String
  ) -> [Diagnosis] {
    guard let loss = history.last("loss"), let widerLoss = widerHistory.last("loss"), loss.isFinite
    else { return [] }
    let accuracy = history.last("accuracy")
    let widerAccuracy = widerHistory.last("accuracy")
    let poor = accuracy.map { $0 < 0.95 } ?? true
    let better =
      widerLoss < 0.5 * loss && (accuracy == nil || (widerAccuracy ?? 0) >= (accuracy ?? 0) + 0.05)
    guard poor, better else { return [] }
    let measure = { (loss: Double, accuracy: Double?) in
      "loss \(format(loss))" + (accuracy.map { ", accuracy \(format($0))" } ?? "")
    }
    return [
      Diagnosis(
        problem: .tooLittleCapacity,
        evidence:
          "\(description) ends at \(measure(loss, accuracy)); \(widerDescription), trained the same "
          + "way, reaches \(measure(widerLoss, widerAccuracy))",
        fix: "add hidden units or a hidden layer")
    ]
  }

  static func format(_ value: Double) -> String { String(format: "%.4g", value) }
}
