import Foundation

/// A check of one hand-written training step at the level people write it: the matrices their
/// numpy code had after one step (`X`, `W1`, `b1`, `z1`, `a1`, `delta2`, `dW1`, `W1_new`, …),
/// recomputed in Double with the library's one definition of each activation and loss, and
/// compared array by array in the order of computation.
///
/// Each weight's layout (in×out as in numpy's `X @ W`, or out×in as in PyTorch's `X @ W.T`) and
/// each bias's (row, column or flat vector) is read from the shapes; a square weight is tried both
/// ways and the layout the numbers fit is kept. An array that disagrees is compared with the
/// values that each known bug would produce (``Bug``), so the report names the likely bug and its
/// fix in the user's own names. An array that agrees with what the user's own earlier arrays give
/// is reported as following from the first mismatch, not as a second bug.
///
/// Arrays agree when every entry is within `tolerance` times the largest magnitude of the
/// expected array (1e-6 for float64 files; 1e-4 for float32 ones, whose rounding alone reaches
/// 1e-7 relative per operation).
public struct ArrayStepCheck: Sendable {
  /// The bugs the check tells apart (shared with ``TraceCheck``).
  public typealias Bug = BackpropBug

  /// How a weight matrix is stored.
  public enum Layout: String, Sendable, Codable {
    /// Rows are inputs, columns outputs: numpy's `X @ W`.
    case inputByOutput = "in×out"
    /// Rows are outputs, columns inputs: PyTorch's `X @ W.T`.
    case outputByInput = "out×in"
  }

  /// What an array holds, independent of the name it was saved under.
  public enum Kind: String, Sendable, Codable, CaseIterable {
    /// The inputs X and the targets Y.
    case input, target
    /// A layer's weights and biases before the step.
    case weight, bias
    /// z = a·W + b, and a = f(z).
    case preActivation, activation
    /// ∂L/∂a, δ = ∂L/∂z, ∂L/∂W and ∂L/∂b.
    case activationGradient, delta, weightGradient, biasGradient
    /// The weights and biases after the step.
    case updatedWeight, updatedBias
  }

  /// A typed quantity: its kind and its layer (1 for the first `Linear`; 0 for the input and
  /// target).
  public struct Quantity: Hashable, Sendable, Codable {
    /// What the quantity is.
    public var kind: Kind
    /// Its layer.
    public var layer: Int

    /// Creates a quantity.
    public init(_ kind: Kind, layer: Int) {
      self.kind = kind
      self.layer = layer
    }

    /// The position in the order of computation of a network of `layerCount` layers: forward,
    /// then backward from the last layer, then the updates.
    func position(layerCount: Int) -> Int {
      let back = layerCount - layer
      switch kind {
      case .input, .target, .weight, .bias: return layer * 4 + (kind == .bias ? 1 : 0)
      case .preActivation: return 1000 + layer * 2
      case .activation: return 1000 + layer * 2 + 1
      case .activationGradient: return 2000 + back * 4
      case .delta: return 2000 + back * 4 + 1
      case .weightGradient: return 2000 + back * 4 + 2
      case .biasGradient: return 2000 + back * 4 + 3
      case .updatedWeight: return 3000 + layer * 2
      case .updatedBias: return 3000 + layer * 2 + 1
      }
    }

    /// The conventional name, used in fixes when the user saved no array of this quantity.
    public var conventionalName: String {
      switch kind {
      case .input: "X"
      case .target: "Y"
      case .weight: "W\(layer)"
      case .bias: "b\(layer)"
      case .preActivation: "z\(layer)"
      case .activation: "a\(layer)"
      case .activationGradient: "da\(layer)"
      case .delta: "dz\(layer)"
      case .weightGradient: "dW\(layer)"
      case .biasGradient: "db\(layer)"
      case .updatedWeight: "W\(layer)_new"
      case .updatedBias: "b\(layer)_new"
      }
    }
  }

  /// How one layer's parameters were stored, and why the check thinks so.
  public struct LayerLayout: Sendable, Codable, Equatable {
    /// The layer, from 1.
    public var layer: Int
    /// The weight's layout.
    public var weight: Layout
    /// How the bias was stored: `row`, `column` or `vector` (nil without a bias).
    public var bias: String?
    /// How the layout was decided: from the shapes, or from the numbers for a square weight.
    public var reason: String
  }

  /// The verdict on one array.
  public struct Finding: Sendable, Codable, Equatable {
    /// The name the user saved it under.
    public var name: String
    /// What it holds.
    public var quantity: Quantity
    /// Whether it agrees with the recomputed values.
    public var agrees: Bool
    /// Whether, disagreeing, it is what the user's own earlier arrays give: it inherits an
    /// earlier mismatch rather than adding a bug.
    public var followsFromEarlier: Bool
    /// The index of the worst entry, in the array's own shape (empty when the shape is wrong).
    public var worstIndex: [Int]
    /// The worst entry's value in the file.
    public var given: Double?
    /// The worst entry's expected value.
    public var expected: Double?
    /// given / expected at the worst entry (nil where the expected value is 0).
    public var ratio: Double?
    /// The likely bug, when one fits.
    public var bug: Bug?
    /// What fits: the bug, or that the array follows from an earlier mismatch.
    public var explanation: String
    /// The line that fixes it, in the user's names.
    public var fix: String?
  }

  /// Something worth knowing that is not a mismatch.
  public struct Warning: Sendable, Codable, Equatable {
    /// The bug the warning is about.
    public var bug: Bug
    /// The message.
    public var message: String
  }

  /// The layouts, one per layer.
  public let layouts: [LayerLayout]
  /// The verdicts, in the order of computation (inputs and parameters excluded).
  public let findings: [Finding]
  /// Names that fit no quantity, listed rather than guessed.
  public let unrecognized: [String]
  /// Observations that are not mismatches.
  public let warnings: [Warning]
  /// When the given gradients fit another loss than the one checked: that loss.
  public let fittingLoss: LossFunction?
  /// The number of layers.
  public let layerCount: Int

  /// The first array that disagrees, in the order of computation.
  public var firstMismatch: Finding? { findings.first { !$0.agrees } }
  /// Whether every array agrees.
  public var allAgree: Bool { firstMismatch == nil }
}

// MARK: - Reading the arrays

extension ArrayStepCheck {
  /// The activation names `--activations` takes, one per layer, `softmax` only last.
  public static let activationNames = ["identity", "sigmoid", "tanh", "relu", "softmax"]

  /// Checks one step.
  ///
  /// - Parameters:
  ///   - arrays: the arrays by the names they were saved under.
  ///   - activations: one per layer (`tanh`, `sigmoid`, `relu`, `identity`; `softmax` last,
  ///     with `loss` cross-entropy).
  ///   - loss: the loss the step took.
  ///   - learningRate: η of the update; needed only to check updated weights.
  /// - Throws: ``BackpropError/invalidArgument(name:detail:)`` for missing inputs, targets or
  ///   weights, activations that do not fit the layers, or shapes that do not chain.
  public init(
    arrays: [String: NumPyArray], activations: [String], loss: LossFunction,
    learningRate: Double?
  ) throws {
    var recognized: [Quantity: (name: String, array: NumPyArray)] = [:]
    var unrecognized: [String] = []
    // Layers count from 1 (W1, b1) unless a W0 says the user counts from 0.
    let base = arrays.keys.contains { ["w0", "w_0"].contains($0.lowercased()) } ? 0 : 1
    let weightCount = Set(
      arrays.keys.compactMap { Self.parse($0, layerCount: 0, base: base) }
        .filter { $0.kind == .weight }.map(\.layer)
    ).count
    for (name, array) in arrays.sorted(by: { $0.key < $1.key }) {
      guard let quantity = Self.parse(name, layerCount: weightCount, base: base),
        quantity.layer <= weightCount
      else {
        unrecognized.append(name)
        continue
      }
      if let earlier = recognized[quantity] {
        throw BackpropError.invalidArgument(
          name: "arrays '\(earlier.name)' and '\(name)'",
          detail: "both hold \(quantity.conventionalName); keep one")
      }
      recognized[quantity] = (name, array)
    }
    guard let input = recognized[Quantity(.input, layer: 0)] else {
      throw BackpropError.invalidArgument(
        name: "inputs", detail: "no array named X, x or inputs among \(Self.listing(arrays))")
    }
    guard let target = recognized[Quantity(.target, layer: 0)] else {
      throw BackpropError.invalidArgument(
        name: "targets",
        detail: "no array named Y, y, T, t, y_true or targets among \(Self.listing(arrays))")
    }
    guard weightCount > 0,
      (1...weightCount).allSatisfy({ recognized[Quantity(.weight, layer: $0)] != nil })
    else {
      throw BackpropError.invalidArgument(
        name: "weights",
        detail: "expected W1…Wn (the weights before the step) among \(Self.listing(arrays))")
    }
    guard activations.count == weightCount else {
      throw BackpropError.invalidArgument(
        name: "activations",
        detail: "\(activations.count) given for \(weightCount) layers (W1…W\(weightCount)): "
          + "give one per layer")
    }
    let functions = try activations.enumerated().map { index, name in
      try StepActivation(named: name, last: index == activations.count - 1, loss: loss)
    }
    let weights = (1...weightCount).compactMap { recognized[Quantity(.weight, layer: $0)] }
    var setup = try Setup(
      recognized: recognized, input: input, target: target, weights: weights,
      functions: functions, loss: loss, learningRate: learningRate)
    let (layouts, findings) = setup.checkEveryLayout()
    self.layouts = layouts
    self.findings = findings
    self.unrecognized = unrecognized
    self.layerCount = weightCount
    self.warnings = setup.warnings()
    self.fittingLoss = setup.fittingLoss(findings: findings, layouts: layouts)
  }

  private static func listing(_ arrays: [String: NumPyArray]) -> String {
    arrays.isEmpty ? "none" : arrays.keys.sorted().joined(separator: ", ")
  }

  /// The quantity a name stands for, or nil. Layers count from `base` in the name.
  static func parse(_ name: String, layerCount: Int, base: Int) -> Quantity? {
    let plain: [String: Kind] = [
      "x": .input, "inputs": .input, "input": .input, "y": .target, "t": .target,
      "y_true": .target, "targets": .target, "target": .target,
    ]
    let lower = name.lowercased()
    if let kind = plain[lower] { return Quantity(kind, layer: 0) }
    if ["y_pred", "yhat", "y_hat", "out", "output", "pred", "prediction", "predictions"].contains(
      lower)
    {
      return Quantity(.activation, layer: layerCount)
    }
    // A name without a layer number stands for the hidden layer when there is one.
    if layerCount == 2 {
      let hidden: [String: Kind] = [
        "h": .activation, "hidden": .activation, "dh": .activationGradient, "z": .preActivation,
        "dz": .delta, "delta_h": .delta, "delta_hidden": .delta,
      ]
      if let kind = hidden[lower] { return Quantity(kind, layer: 1) }
    }
    let output: [String: Kind] = [
      "zo": .preActivation, "z_out": .preActivation, "dzo": .delta, "delta_out": .delta,
      "delta_o": .delta, "delta_output": .delta,
    ]
    if let kind = output[lower], layerCount > 0 { return Quantity(kind, layer: layerCount) }
    var core = lower
    var updated = false
    var gradient = false
    for suffix in ["_new", "_after", "_next", "_updated"] where core.hasSuffix(suffix) {
      core.removeLast(suffix.count)
      updated = true
    }
    if core.hasPrefix("new_") {
      core.removeFirst(4)
      updated = true
    }
    for suffix in ["_grad", "_gradient"] where core.hasSuffix(suffix) {
      core.removeLast(suffix.count)
      gradient = true
    }
    for prefix in ["grad_", "d_"] where core.hasPrefix(prefix) {
      core.removeFirst(prefix.count)
      gradient = true
    }
    let digits = core.reversed().prefix { $0.isNumber }
    guard !digits.isEmpty, let number = Int(String(digits.reversed())) else { return nil }
    core.removeLast(digits.count)
    if core.hasSuffix("_") { core.removeLast() }
    let layer = number - base + 1
    guard layer >= 1 else { return nil }
    if core == "delta" { return updated || gradient ? nil : Quantity(.delta, layer: layer) }
    if !gradient, core.count == 2, core.hasPrefix("d") {
      core.removeFirst()
      gradient = true
    }
    let kind: Kind? =
      switch (core, gradient, updated) {
      case ("w", false, false): .weight
      case ("b", false, false): .bias
      case ("w", false, true): .updatedWeight
      case ("b", false, true): .updatedBias
      case ("w", true, false): .weightGradient
      case ("b", true, false): .biasGradient
      case ("z", false, false): .preActivation
      case ("z", true, false): .delta
      case ("a", false, false), ("h", false, false): .activation
      case ("a", true, false), ("h", true, false): .activationGradient
      default: nil
      }
    return kind.map { Quantity($0, layer: layer) }
  }
}

// MARK: - Activations of a hand-written step

/// A layer's activation in the check: an element-wise one by its one definition, or the softmax
/// that cross-entropy takes in.
enum StepActivation: Equatable, Sendable {
  case elementwise(ElementwiseActivation)
  case softmax

  init(named name: String, last: Bool, loss: LossFunction) throws {
    switch name.lowercased() {
    case "identity", "linear", "none": self = .elementwise(.identity)
    case "sigmoid", "logistic": self = .elementwise(.sigmoid)
    case "tanh": self = .elementwise(.tanh)
    case "relu": self = .elementwise(.relu)
    case "softmax":
      guard last, loss == .crossEntropy else {
        throw BackpropError.invalidArgument(
          name: "activation 'softmax'",
          detail: "is checked only as the last layer's, with --loss cross-entropy")
      }
      self = .softmax
    default:
      throw BackpropError.invalidArgument(
        name: "activation '\(name)'",
        detail: "choose one of \(ArrayStepCheck.activationNames.joined(separator: ", "))")
    }
    if last, loss == .crossEntropy, self != .softmax {
      throw BackpropError.invalidArgument(
        name: "activation '\(name)'",
        detail: "cross-entropy is checked after a softmax: give softmax as the last activation")
    }
    if last, loss == .binaryCrossEntropy, self != .elementwise(.sigmoid) {
      throw BackpropError.invalidArgument(
        name: "activation '\(name)'",
        detail: "binary cross-entropy is checked after a sigmoid: give sigmoid last")
    }
  }

  /// f(x) of one value by the activation's one definition; the softmax, which needs its whole
  /// row, leaves the value as it is.
  func elementValue(_ x: Double) -> Double {
    switch self {
    case .elementwise(let activation): activation.value(x)
    case .softmax: x
    }
  }

  /// f′ as the derivative formula computes it from `output` (and `input` where it needs it).
  func derivative(output: Double, input: Double) -> Double {
    switch self {
    case .elementwise(let activation): activation.derivative(output: output, input: input)
    case .softmax: output * (1 - output)
    }
  }

  /// The derivative written in the user's names, from the output's name.
  func derivativeCode(output: String) -> String {
    switch self {
    case .elementwise(.sigmoid), .softmax: "\(output) * (1 - \(output))"
    case .elementwise(.tanh): "(1 - \(output)**2)"
    case .elementwise(.relu): "(\(output) > 0)"
    case .elementwise(.leaky(let slope)): "np.where(\(output) > 0, 1, \(slope))"
    case .elementwise(.identity): "1"
    }
  }
}

// MARK: - Files

extension ArrayStepCheck {
  /// The arrays of a step file: an `.npz` archive (`np.savez`, stored or compressed) or a JSON
  /// object whose values are numbers or nested lists of numbers.
  ///
  /// - Throws: ``BackpropError/malformedData(source:location:detail:)`` naming the array or
  ///   value that cannot be read, ``BackpropError/fileError(path:detail:)`` when the file
  ///   cannot be read.
  public static func arrays(contentsOf url: URL) throws -> [String: NumPyArray] {
    let data = try FileData.read(url)
    if NPZArchive.isArchive(data) {
      let archive = try NPZArchive(data: data, source: url.path)
      var arrays: [String: NumPyArray] = [:]
      for name in archive.names { arrays[name] = try archive.array(named: name) }
      return arrays
    }
    return try arrays(json: data, source: url.path)
  }

  /// The arrays of a JSON object of numbers and nested lists of numbers, each list of lists
  /// rectangular.
  public static func arrays(json data: Data, source: String) throws -> [String: NumPyArray] {
    guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
      throw BackpropError.malformedData(
        source: source, location: nil,
        detail: "expected an .npz archive or a JSON object of names and (nested) lists of numbers")
    }
    var arrays: [String: NumPyArray] = [:]
    for (name, value) in object {
      var values: [Double] = []
      guard let shape = flatten(value, into: &values) else {
        throw BackpropError.malformedData(
          source: source, location: "'\(name)'",
          detail: "expected a number or nested lists of numbers with rows of equal length")
      }
      arrays[name] = try NumPyArray(shape: shape, values: values)
    }
    return arrays
  }

  /// The shape of a number or a rectangular nested list, its numbers appended in row-major order.
  private static func flatten(_ value: Any, into values: inout [Double]) -> [Int]? {
    if let number = value as? Double {
      values.append(number)
      return []
    }
    guard let list = value as? [Any] else { return nil }
    var inner: [Int]?
    for element in list {
      guard let shape = flatten(element, into: &values), inner == nil || inner == shape else {
        return nil
      }
      inner = shape
    }
    return [list.count] + (inner ?? [])
  }
}

// MARK: - Rendering

extension ArrayStepCheck: CustomStringConvertible {
  /// The report: the layouts, each array's verdict in the order of computation, the first
  /// mismatch with its bug and fix, the warnings, and the unrecognized names.
  public var description: String {
    var lines: [String] = []
    for layout in layouts {
      let bias = layout.bias.map { ", bias as a \($0)" } ?? ", no bias"
      lines.append(
        "layer \(layout.layer): weights \(layout.weight.rawValue)\(bias) (\(layout.reason))")
    }
    if !unrecognized.isEmpty {
      lines.append("not recognized, so not checked: \(unrecognized.joined(separator: ", "))")
    }
    let width = findings.map(\.name.count).max() ?? 0
    for finding in findings {
      let name = finding.name.padding(toLength: width, withPad: " ", startingAt: 0)
      guard !finding.agrees else {
        lines.append("  \(name)  agrees")
        continue
      }
      var line = "  \(name)  DISAGREES"
      if let given = finding.given, let expected = finding.expected {
        let index = finding.worstIndex.map(String.init).joined(separator: ", ")
        line +=
          "  worst [\(index)]: \(Self.number(given)) where \(Self.number(expected)) is expected"
        if let ratio = finding.ratio { line += " (ratio \(Self.number(ratio)))" }
      }
      lines.append(line)
      let bug = finding.bug.map { "\($0.rawValue): " } ?? ""
      lines.append("    \(bug)\(finding.explanation)")
      if let fix = finding.fix { lines.append("    fix: \(fix)") }
    }
    if let first = firstMismatch {
      lines.append(
        "first mismatch: \(first.name)" + (first.bug.map { " (\($0.rawValue))" } ?? ""))
    } else {
      lines.append("all \(findings.count) arrays agree")
    }
    if let fittingLoss {
      lines.append(
        "the given gradients are those of \(fittingLoss.rawValue), not of the loss checked")
    }
    for warning in warnings {
      lines.append("warning (\(warning.bug.rawValue)): \(warning.message)")
    }
    return lines.joined(separator: "\n")
  }

  static func number(_ value: Double) -> String { String(format: "%.6g", value + 0) }

  /// The report as JSON: `first_mismatch` (name, bug, …), `findings`, `layouts`, `warnings`,
  /// `unrecognized`, `fitting_loss` and `all_agree`.
  public func json() throws -> Data {
    struct Document: Encodable {
      var allAgree: Bool
      var arraysChecked: Int
      var firstMismatch: Finding?
      var fittingLoss: LossFunction?
      var findings: [Finding]
      var layouts: [LayerLayout]
      var warnings: [Warning]
      var unrecognized: [String]
    }
    let encoder = JSONEncoder()
    encoder.keyEncodingStrategy = .convertToSnakeCase
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    return try encoder.encode(
      Document(
        allAgree: allAgree, arraysChecked: findings.count, firstMismatch: firstMismatch,
        fittingLoss: fittingLoss, findings: findings, layouts: layouts, warnings: warnings,
        unrecognized: unrecognized))
  }
}
