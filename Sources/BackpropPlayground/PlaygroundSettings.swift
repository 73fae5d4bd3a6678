import Backprop
import Foundation

/// Everything a playground session is built from, as a page's URL carries it.
///
/// The URL query is the page's state: ``query`` writes it and ``parse(_:dialect:limits:)`` reads
/// it back, so a link reproduces a run. TensorFlow Playground's links (their `#…` part) are read
/// too, in ``Dialect/tensorFlowPlayground``, where their settings have a counterpart here.
public struct PlaygroundSettings: Sendable, Equatable, Codable {
  /// A toy data set's name (``ToyData/classificationNames`` or ``ToyData/regressionNames``), or
  /// `upload` for the CSV file uploaded to the session.
  public var data = "xor"
  /// Samples to generate.
  public var samples = 200
  /// The standard deviation of the noise added to generated points.
  public var noise = 0.1
  /// The share of the samples trained on; the rest are the test set.
  public var trainFraction = 0.5
  /// The network's inputs, computed from the data's features; empty: the features themselves.
  public var features: [PlaygroundFeature] = []
  /// The hidden layers (none: a linear model), each with its own activation where it has one.
  public var layers = [HiddenLayer(size: 4), HiddenLayer(size: 2)]
  /// The activation of the hidden layers that do not name their own.
  public var activation = ActivationFunction.tanh
  /// The dropout rate after each hidden layer while training (0: none).
  public var dropout = 0.0
  /// The loss; `nil` chooses by the data (cross-entropy for classes, MSE for values).
  public var loss: LossFunction?
  /// The optimizer.
  public var optimizer = OptimizerKind.sgd
  /// The learning rate.
  public var learningRate = 0.03
  /// Samples per gradient step.
  public var batchSize = 10
  /// L2 weight decay: λ·w added to each gradient.
  public var weightDecay = 0.0
  /// L1 regularization: λ₁·sign(w) added to each gradient.
  public var l1Penalty = 0.0
  /// The seed of the data, the initial weights and the batch order.
  public var seed: UInt64 = 1
  /// Gradient steps per second while training runs.
  public var speed = 100
  /// Weights set by hand, applied over the seeded initial ones when the network is built.
  public var weights: [SetWeight] = []

  /// A weight set by hand: the edge (`i1-h1_2`, from and to as
  /// ``StepTrace/neuronNames(layerSizes:)`` names them) and its value.
  public struct SetWeight: Sendable, Equatable, Codable {
    /// The edge, `from-to`.
    public var edge: String
    /// The weight.
    public var value: Double

    /// A weight of `value` on `edge`.
    public init(edge: String, value: Double) {
      self.edge = edge
      self.value = value
    }
  }

  /// The hidden layers' sizes.
  var layerSizes: [Int] { layers.map(\.size) }

  /// Each hidden layer's activation.
  var layerActivations: [ActivationFunction] { layers.map { $0.activation ?? activation } }

  /// Whether the data set has numeric targets.
  var isRegression: Bool { ToyData.regressionNames.contains(data) }

  /// Creates the default settings: XOR, a 4-2 tanh network and SGD, as TensorFlow Playground
  /// starts.
  public init() {}

  // MARK: Reading

  /// Whose names and units a query uses.
  public enum Dialect: String, Sendable, Codable {
    /// The names of ``PlaygroundSettings``' properties, in their units.
    case backprop
    /// TensorFlow Playground's (`dataset=circle&networkShape=4,2&percTrainData=50&noise=0…`).
    case tensorFlowPlayground = "tensorflow"
  }

  /// The settings a URL query names (with or without the leading `?` or `#`), defaults for the
  /// rest, and notes on what was read differently from how it was given.
  ///
  /// - Throws: ``PlaygroundError`` (400) naming the first setting that is unknown (in the
  ///   Backprop dialect), given twice, not a number, or outside its range or `limits`.
  public static func parse(
    _ query: String, dialect: Dialect = .backprop, limits: PlaygroundLimits = PlaygroundLimits()
  ) throws -> (settings: PlaygroundSettings, notices: [String]) {
    try parse(items: QueryReader.items(of: query), dialect: dialect, limits: limits)
  }

  /// ``parse(_:dialect:limits:)`` of a query already split into decoded names and values.
  public static func parse(
    items: [(name: String, value: String)], dialect: Dialect = .backprop,
    limits: PlaygroundLimits = PlaygroundLimits()
  ) throws -> (settings: PlaygroundSettings, notices: [String]) {
    var reader = try QueryReader(items: items)
    var settings = PlaygroundSettings()
    var notices: [String] = []
    switch dialect {
    case .backprop: try settings.read(&reader, limits: limits)
    case .tensorFlowPlayground: notices = try settings.readTensorFlow(&reader, limits: limits)
    }
    if dialect == .backprop, let unknown = reader.unread.first {
      throw PlaygroundError(
        "unknown setting '\(unknown)'; the settings are \(CodingKeys.allNames.joined(separator: ", "))"
      )
    }
    try settings.validate()
    return (settings, notices)
  }

  private mutating func read(_ reader: inout QueryReader, limits: PlaygroundLimits) throws {
    data =
      try reader.choice(
        "data", from: ToyData.classificationNames + ToyData.regressionNames + ["upload"]) ?? data
    samples = try reader.integer("samples", in: 10...limits.samples) ?? samples
    noise = try reader.number("noise", in: 0...2) ?? noise
    trainFraction = try reader.number("trainFraction", in: 0.1...0.9) ?? trainFraction
    features = try reader.features("features") ?? features
    layers = try reader.layers("layers", limits: limits) ?? layers
    if let name = try reader.choice(
      "activation", from: ActivationFunction.allCases.map(\.rawValue) + ["linear"])
    {
      activation = ActivationFunction(rawValue: name) ?? .identity
    }
    dropout = try reader.number("dropout", in: 0...0.9) ?? dropout
    loss =
      try reader.choice("loss", from: LossFunction.allCases.map(\.rawValue))
      .flatMap(LossFunction.init(rawValue:)) ?? loss
    optimizer =
      try reader.choice("optimizer", from: OptimizerKind.allCases.map(\.rawValue))
      .flatMap(OptimizerKind.init(rawValue:)) ?? optimizer
    learningRate = try reader.number("learningRate", in: 1e-6...10) ?? learningRate
    batchSize = try reader.integer("batchSize", in: 1...limits.samples) ?? batchSize
    weightDecay = try reader.number("weightDecay", in: 0...10) ?? weightDecay
    l1Penalty = try reader.number("l1Penalty", in: 0...10) ?? l1Penalty
    seed = try reader.integer("seed", in: 0...(1 << 53)).map(UInt64.init) ?? seed
    speed = try reader.integer("speed", in: 1...limits.stepsPerSecond) ?? speed
    weights = try reader.weights("weights") ?? weights
  }

  /// Reads TensorFlow Playground's names and units; returns notes on what has no counterpart.
  private mutating func readTensorFlow(_ reader: inout QueryReader, limits: PlaygroundLimits)
    throws -> [String]
  {
    var notices: [String] = []
    let datasets = ["circle": "circles", "xor": "xor", "gauss": "blobs", "spiral": "spirals"]
    let problem = try reader.choice("problem", from: ["classification", "regression"])
    let dataset = try reader.choice("dataset", from: datasets.keys.sorted())
    let regressionSet = try reader.choice("regDataset", from: ["reg-plane", "reg-gauss"])
    if problem == "regression" {
      data = regressionSet == "reg-gauss" ? "multi-gaussian" : "plane"
    } else {
      data = dataset.flatMap { datasets[$0] } ?? "circles"
    }
    // Its noise is a percentage (0–50) of a data range about 10 wide; ours is in data units.
    noise = try reader.number("noise", in: 0...50).map { $0 / 100 } ?? 0
    trainFraction = try reader.number("percTrainData", in: 10...90).map { $0 / 100 } ?? 0.5
    layers = try reader.layers("networkShape", limits: limits) ?? layers
    if layers.contains(where: { $0.activation != nil }) {
      throw PlaygroundError("networkShape holds sizes only, such as 4,2")
    }
    if let name = try reader.choice("activation", from: ["relu", "tanh", "sigmoid", "linear"]) {
      activation = ActivationFunction(rawValue: name) ?? .identity
    }
    learningRate = try reader.number("learningRate", in: 1e-6...10) ?? learningRate
    batchSize = try reader.integer("batchSize", in: 1...limits.samples) ?? batchSize
    let regularization = try reader.choice("regularization", from: ["none", "L1", "L2"])
    let rate = try reader.number("regularizationRate", in: 0...10) ?? 0
    if regularization == "L2" { weightDecay = rate }
    if regularization == "L1" { l1Penalty = rate }
    if let text = reader.take("seed") {
      // Its seeds are strings such as "0.80031": any string gives a fixed seed here.
      seed =
        text.utf8.reduce(UInt64(14_695_981_039_346_656_037)) {
          ($0 ^ UInt64($1)) &* 1_099_511_628_211
        } >> 11
    }
    // Its inputs are switches, x and y on unless turned off; only a change makes a list here.
    let switches: [(String, PlaygroundFeature, Bool)] = [
      ("x", .x1, true), ("y", .x2, true), ("xSquared", .x1Squared, false),
      ("ySquared", .x2Squared, false), ("xTimesY", .product, false), ("sinX", .sine1, false),
      ("sinY", .sine2, false),
    ]
    let chosen = switches.map { name, feature, isOn in
      (feature, reader.take(name).map { $0 == "true" } ?? isOn)
    }
    if chosen.map(\.1) != switches.map(\.2) {
      features = chosen.filter(\.1).map(\.0)
      if features.isEmpty {
        throw PlaygroundError("the link turns every input off; the network needs one")
      }
    }
    let cosines = ["cosX", "cosY"].filter { reader.take($0) == "true" }
    if !cosines.isEmpty {
      notices.append(
        "the cosine inputs are not offered (\(cosines.joined(separator: ", ")) asked); the "
          + "network sees the others")
    }
    if reader.take("initZero") == "true" {
      notices.append("initZero is not offered; the weights start random")
    }
    // How the page looks (showTestData, discretize, hideText, …_hide) does not change training.
    let display = ["showTestData", "discretize", "collectStats", "hideText", "tutorial"]
    let ignored = reader.unread.filter { !display.contains($0) && !$0.hasSuffix("_hide") }
    if !ignored.isEmpty {
      notices.append("ignored TensorFlow Playground settings: \(ignored.joined(separator: ", "))")
    }
    return notices
  }

  /// Checks what ranges alone do not: the loss and the inputs against the data.
  func validate() throws {
    if let loss, data != "upload", loss.isClassification == isRegression {
      throw PlaygroundError(
        "the loss \(loss.rawValue) needs \(loss.isClassification ? "classes" : "numeric targets"), "
          + "but '\(data)' has \(isRegression ? "numeric targets" : "classes")")
    }
    if data == "sine", let needing = features.first(where: \.needsSecondFeature) {
      throw PlaygroundError(
        "the input \(needing.rawValue) needs a second feature, and 'sine' has one; choose from "
          + "x1, x1sq, sinx1")
    }
  }

  // MARK: Writing

  /// The settings as a URL query (without `?`), every setting in a fixed order.
  public var query: String {
    var items: [(CodingKeys, String)] = [
      (.data, data), (.samples, String(samples)), (.noise, Self.number(noise)),
      (.trainFraction, Self.number(trainFraction)),
    ]
    if !features.isEmpty {
      items.append((.features, features.map(\.rawValue).joined(separator: ",")))
    }
    items += [
      (.layers, layers.map(\.description).joined(separator: ",")),
      (.activation, activation.rawValue),
    ]
    if dropout > 0 { items.append((.dropout, Self.number(dropout))) }
    if let loss { items.append((.loss, loss.rawValue)) }
    items += [
      (.optimizer, optimizer.rawValue), (.learningRate, Self.number(learningRate)),
      (.batchSize, String(batchSize)), (.weightDecay, Self.number(weightDecay)),
    ]
    if l1Penalty > 0 { items.append((.l1Penalty, Self.number(l1Penalty))) }
    items += [(.seed, String(seed)), (.speed, String(speed))]
    if !weights.isEmpty {
      items.append(
        (.weights, weights.map { "\($0.edge):\(Self.number($0.value))" }.joined(separator: ",")))
    }
    return items.map { "\($0.0.rawValue)=\(QueryReader.escaped($0.1))" }.joined(separator: "&")
  }

  /// A number as short as it reads back exactly.
  private static func number(_ value: Double) -> String {
    value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
  }

  enum CodingKeys: String, CodingKey, CaseIterable {
    case data, samples, noise, trainFraction, features, layers, activation, dropout, loss
    case optimizer, learningRate, batchSize, weightDecay, l1Penalty, seed, speed, weights

    static var allNames: [String] { allCases.map(\.rawValue) }
  }
}

/// The items of a URL query, taken one by one so that what is left over can be reported.
struct QueryReader {
  private var items: [String: String]
  private var order: [String]

  /// The items of `query` (with or without a leading `?` or `#`), split on `&` and `=`, with
  /// `+` and `%XX` decoded.
  ///
  /// - Throws: ``PlaygroundError`` for an item that does not decode.
  static func items(of query: String) throws -> [(name: String, value: String)] {
    var text = Substring(query)
    if text.first == "?" || text.first == "#" { text = text.dropFirst() }
    return try text.split(separator: "&").map { item in
      let parts = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
      let decode = { (part: Substring) -> String? in
        part.replacingOccurrences(of: "+", with: " ").removingPercentEncoding
      }
      guard let name = decode(parts[0]), let value = decode(parts.count > 1 ? parts[1] : "") else {
        throw PlaygroundError("'\(item)' is not a valid URL query item")
      }
      return (name, value)
    }
  }

  /// A reader of `items`.
  ///
  /// - Throws: ``PlaygroundError`` for a setting given twice.
  init(items pairs: [(name: String, value: String)]) throws {
    items = [:]
    order = []
    for (name, value) in pairs {
      guard items[name] == nil else {
        throw PlaygroundError("the setting '\(name)' is given twice")
      }
      items[name] = value
      order.append(name)
    }
  }

  /// The names not taken yet, in the query's order.
  var unread: [String] { order.filter { items[$0] != nil } }

  /// Removes and returns the value of `key`.
  mutating func take(_ key: String) -> String? { items.removeValue(forKey: key) }

  mutating func number(_ key: String, in range: ClosedRange<Double>) throws -> Double? {
    guard let text = take(key) else { return nil }
    guard let value = Double(text), value.isFinite else {
      throw PlaygroundError("\(key) must be a number (got '\(text)')")
    }
    guard range.contains(value) else {
      throw PlaygroundError(
        "\(key) must be in \(range.lowerBound)...\(range.upperBound) (got \(text))")
    }
    return value
  }

  mutating func integer(_ key: String, in range: ClosedRange<Int>) throws -> Int? {
    guard let text = take(key) else { return nil }
    guard let value = Int(text) else {
      throw PlaygroundError("\(key) must be a whole number (got '\(text)')")
    }
    guard range.contains(value) else {
      throw PlaygroundError(
        "\(key) must be in \(range.lowerBound)...\(range.upperBound) (got \(text))")
    }
    return value
  }

  mutating func choice(_ key: String, from names: [String]) throws -> String? {
    guard let text = take(key) else { return nil }
    guard names.contains(text) else {
      throw PlaygroundError(
        "\(key) must be one of \(names.joined(separator: ", ")) (got '\(text)')")
    }
    return text
  }

  /// Hidden layers such as `4,2` or `8:relu,4` (empty for none).
  mutating func layers(_ key: String, limits: PlaygroundLimits) throws -> [HiddenLayer]? {
    guard let text = take(key) else { return nil }
    if text.isEmpty { return [] }
    let parts = text.split(separator: ",", omittingEmptySubsequences: false)
    let layers = parts.map { HiddenLayer(parsing: String($0)) }
    guard layers.allSatisfy({ $0 != nil }) else {
      throw PlaygroundError(
        "\(key) must be sizes separated by commas, each optionally with its activation, such as "
          + "4,2 or 8:relu,4 (got '\(text)')")
    }
    let values = layers.compactMap { $0 }
    guard values.count <= limits.hiddenLayers else {
      throw PlaygroundError(
        "\(key): at most \(limits.hiddenLayers) hidden layers (got \(values.count))")
    }
    guard values.allSatisfy({ (1...limits.neuronsPerLayer).contains($0.size) }) else {
      throw PlaygroundError(
        "\(key): a hidden layer has 1...\(limits.neuronsPerLayer) neurons (got \(text))")
    }
    return values
  }

  /// Network inputs such as `x1,x2,sinx1` (at least one, none twice).
  mutating func features(_ key: String) throws -> [PlaygroundFeature]? {
    guard let text = take(key) else { return nil }
    let names = text.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
    let features = names.map(PlaygroundFeature.init(rawValue:))
    guard !text.isEmpty, features.allSatisfy({ $0 != nil }) else {
      throw PlaygroundError(
        "\(key) must be inputs separated by commas, from "
          + "\(PlaygroundFeature.allCases.map(\.rawValue).joined(separator: ", ")) (got '\(text)')")
    }
    let values = features.compactMap { $0 }
    guard Set(values).count == values.count else {
      throw PlaygroundError("\(key) names an input twice (got '\(text)')")
    }
    return values
  }

  /// Weights set by hand, such as `i1-h1_1:0.5,h1_1-o1:-1.2`, at most
  /// ``PlaygroundLimits/weightsInLink``, each edge once.
  mutating func weights(_ key: String) throws
    -> [PlaygroundSettings.SetWeight]?
  {
    guard let text = take(key) else { return nil }
    if text.isEmpty { return [] }
    let items = text.split(separator: ",", omittingEmptySubsequences: false)
    guard items.count <= PlaygroundLimits.weightsInLink else {
      throw PlaygroundError(
        "\(key): a link carries at most \(PlaygroundLimits.weightsInLink) set weights (got \(items.count)); "
          + "that is the limit for small networks")
    }
    var seen: Set<String> = []
    return try items.map { item in
      let parts = item.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
      let edge = String(parts[0])
      let pieces = edge.split(separator: "-", omittingEmptySubsequences: false)
      guard parts.count == 2, let value = Double(parts[1]), value.isFinite,
        pieces.count == 2,
        pieces.allSatisfy({
          !$0.isEmpty && $0.allSatisfy { $0.isLetter || $0.isNumber || $0 == "_" }
        })
      else {
        throw PlaygroundError(
          "\(key) must be FROM-TO:VALUE items separated by commas, such as i1-h1_1:0.5 "
            + "(got '\(item)')")
      }
      try PlaygroundLimits.checkSetWeight(value, of: "\(key): the weight of \(edge)")
      guard seen.insert(edge).inserted else {
        throw PlaygroundError("\(key) sets the edge \(edge) twice")
      }
      return PlaygroundSettings.SetWeight(edge: edge, value: value)
    }
  }

  /// `text` percent-encoded for a query value.
  static func escaped(_ text: String) -> String {
    var allowed = CharacterSet.urlQueryAllowed
    allowed.remove(charactersIn: "&=+#")
    return text.addingPercentEncoding(withAllowedCharacters: allowed) ?? text
  }
}
