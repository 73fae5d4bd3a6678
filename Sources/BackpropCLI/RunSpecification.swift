import ArgumentParser
import Backprop
import Foundation
import Yams

/// Everything that decides a training run, as a spec file (YAML or JSON) holds it and as
/// `backprop train` flags override it. Keys are spelled as the flags: `learning-rate`,
/// `batch-size`, ….
///
/// Every field is optional; ``resolved()`` fills the defaults, and the resolved spec is stored in
/// the model file and can be written with `--save-spec`, so that a run can be repeated exactly.
struct RunSpecification: Codable, Equatable {
  var data: String?
  var labels: String?
  var toy: String?
  var samples: Int?
  var noise: Double?
  var target: String?
  var features: [String]?
  var task: TaskKind?
  var missing: MissingValueFill.Strategy?
  var format: DataInput.Format?
  var delimiter: String?
  var encoding: CSVFormat.Encoding?
  var decimalComma: Bool?
  var layers: [HiddenLayer]?
  var activation: ActivationFunction?
  var loss: String?
  var optimizer: String?
  var learningRate: Double?
  var momentum: Double?
  var weightDecay: Double?
  /// The L1 penalty; absent from a spec that does not set it.
  var l1Penalty: Double?
  var dropout: Double?
  var epochs: Int?
  var batchSize: Int?
  var validationSplit: Double?
  var testSplit: Double?
  var seed: UInt64?
  var scale: String?
  var schedule: String?
  var earlyStopping: Int?
  var converge: Bool?
  var targetScale: String?
  var classWeight: String?
  var sampleWeight: String?
  var output: String?
  var history: String?
  var weights: String?
  var plots: String?
  var snapshotEvery: Int?
  var checkpoint: String?
  var checkpointEvery: Int?
  var logEvery: Int?

  enum CodingKeys: String, CodingKey, CaseIterable {
    case data, labels, toy, samples, noise, target, features, task, missing, format, delimiter
    case encoding
    case decimalComma = "decimal-comma"
    case layers, activation, loss, optimizer
    case learningRate = "learning-rate"
    case momentum
    case weightDecay = "weight-decay"
    case l1Penalty = "l1-penalty"
    case dropout, epochs
    case batchSize = "batch-size"
    case validationSplit = "validation-split"
    case testSplit = "test-split"
    case seed, scale, schedule
    case earlyStopping = "early-stopping"
    case converge
    case targetScale = "target-scale"
    case classWeight = "class-weight"
    case sampleWeight = "sample-weight"
    case output, history, weights, plots
    case snapshotEvery = "snapshot-every"
    case checkpoint
    case checkpointEvery = "checkpoint-every"
    case logEvery = "log-every"
  }

  init() {}

  init(from decoder: Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    func value<T: Decodable>(_ key: CodingKeys) throws -> T? {
      try container.decodeIfPresent(T.self, forKey: key)
    }
    data = try value(.data)
    labels = try value(.labels)
    toy = try value(.toy)
    samples = try value(.samples)
    noise = try value(.noise)
    target = try value(.target)
    task = try value(.task)
    missing = try value(.missing)
    format = try value(.format)
    delimiter = try value(.delimiter)
    encoding = try value(.encoding)
    decimalComma = try value(.decimalComma)
    // `features: [a, b]` or `features: "a,b"`, as on the command line.
    if let list = try? container.decodeIfPresent([String].self, forKey: .features) {
      features = list
    } else if let text: String = try value(.features) {
      features = Self.parseNames(text)
    }
    // `layers: [64, "32:tanh"]` or `layers: "64,32:tanh"`, as on the command line.
    if let list = try? container.decodeIfPresent([HiddenLayer].self, forKey: .layers) {
      layers = list
    } else if let text: String = try value(.layers) {
      layers = try Self.parseLayers(text)
    }
    activation = try value(.activation)
    loss = try value(.loss)
    optimizer = try value(.optimizer)
    learningRate = try value(.learningRate)
    momentum = try value(.momentum)
    weightDecay = try value(.weightDecay)
    l1Penalty = try value(.l1Penalty)
    dropout = try value(.dropout)
    epochs = try value(.epochs)
    batchSize = try value(.batchSize)
    validationSplit = try value(.validationSplit)
    testSplit = try value(.testSplit)
    seed = try value(.seed)
    scale = try value(.scale)
    schedule = try value(.schedule)
    earlyStopping = try value(.earlyStopping)
    converge = try value(.converge)
    targetScale = try value(.targetScale)
    classWeight = try value(.classWeight)
    sampleWeight = try value(.sampleWeight)
    output = try value(.output)
    history = try value(.history)
    weights = try value(.weights)
    plots = try value(.plots)
    snapshotEvery = try value(.snapshotEvery)
    checkpoint = try value(.checkpoint)
    checkpointEvery = try value(.checkpointEvery)
    logEvery = try value(.logEvery)
  }

  /// `a, b` as `["a", "b"]`.
  static func parseNames(_ text: String) -> [String] {
    text.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
  }

  /// `64,32:tanh` as a layer of 64 with the run's activation and one of 32 with tanh; an empty
  /// text is no hidden layer.
  static func parseLayers(_ text: String) throws -> [HiddenLayer] {
    let parts = text.split(separator: ",", omittingEmptySubsequences: false)
      .map { $0.trimmingCharacters(in: .whitespaces) }
    if parts == [""] { return [] }
    return try parts.map { part in
      guard let layer = HiddenLayer(parsing: part) else {
        throw CLIError(
          "--layers takes positive sizes separated by commas, each with an optional activation, "
            + "such as 64:relu,32:tanh (got '\(part)' in '\(text)'); the activations are "
            + ActivationFunction.allCases.map(\.rawValue).joined(separator: ", "))
      }
      return layer
    }
  }

  /// Reads a YAML or JSON spec file, rejecting keys it does not know (a misspelt key would
  /// otherwise be ignored silently).
  static func load(from path: String) throws -> RunSpecification {
    guard let text = String(data: try FileData.read(URL(fileURLWithPath: path)), encoding: .utf8)
    else {
      throw CLIError("\(path): the spec file is not UTF-8 text")
    }
    do {
      if let node = try Yams.compose(yaml: text) { try refuseYamsTraps(in: node, path: path) }
      guard let object = try Yams.load(yaml: text) as? [String: Any] else {
        throw CLIError("\(path): a spec file must be a mapping of keys to values")
      }
      let known = Set(CodingKeys.allCases.map(\.rawValue))
      let unknown = object.keys.filter { !known.contains($0) }.sorted()
      guard unknown.isEmpty else {
        throw CLIError(
          "\(path): unknown key\(unknown.count > 1 ? "s" : "") \(unknown.joined(separator: ", ")); "
            + "the keys are \(CodingKeys.allCases.map(\.rawValue).joined(separator: ", "))")
      }
      return try YAMLDecoder().decode(RunSpecification.self, from: text)
    } catch let error as CLIError {
      throw error
    } catch let error as DecodingError {
      throw CLIError("\(path): \(Self.explain(error))")
    } catch {
      throw CLIError("\(path): not valid YAML or JSON (\(error))")
    }
  }

  /// Refuses, before Yams converts them, the two constructs that trap inside Yams (both found by
  /// the fuzzer), neither of which a spec needs:
  /// - a plain scalar such as 1:30, which YAML 1.1 reads as a base-60 number and Yams computes in
  ///   `Int` arithmetic that traps on overflow (`7:8:8:8:7:…`);
  /// - a mapping key that is not text (`? [a, b]`, `? {a: 1}`, an alias), which Yams
  ///   force-unwraps as a string.
  private static func refuseYamsTraps(in node: Node, path: String) throws {
    switch node {
    case .scalar(let scalar):
      if scalar.style == .plain,
        scalar.string.range(
          of: "^[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\\.[0-9_]*)?$", options: .regularExpression)
          != nil
      {
        throw CLIError(
          "\(path): '\(scalar.string)' reads as a base-60 number in YAML; quote it if it is text")
      }
    case .mapping(let mapping):
      for (key, value) in mapping {
        guard case .scalar = key else {
          throw CLIError("\(path): a key must be text, not a list, a mapping or an alias")
        }
        try refuseYamsTraps(in: key, path: path)
        try refuseYamsTraps(in: value, path: path)
      }
    case .sequence(let sequence):
      for element in sequence { try refuseYamsTraps(in: element, path: path) }
    case .alias:
      break  // the node it names is checked where it is defined
    }
  }

  private static func explain(_ error: DecodingError) -> String {
    switch error {
    case .typeMismatch(_, let context), .valueNotFound(_, let context),
      .dataCorrupted(let context):
      let key = context.codingPath.map(\.stringValue).joined(separator: ".")
      return "the value of '\(key)' has the wrong type (\(context.debugDescription))"
    default:
      return "\(error)"
    }
  }

  /// This spec with every field that `other` sets replaced by `other`'s value.
  func overridden(by other: RunSpecification) -> RunSpecification {
    var result = self
    func take<T>(_ path: WritableKeyPath<RunSpecification, T?>) {
      if let value = other[keyPath: path] { result[keyPath: path] = value }
    }
    take(\.data)
    take(\.labels)
    take(\.toy)
    take(\.samples)
    take(\.noise)
    take(\.target)
    take(\.features)
    take(\.task)
    take(\.missing)
    take(\.format)
    take(\.delimiter)
    take(\.encoding)
    take(\.decimalComma)
    take(\.layers)
    take(\.activation)
    take(\.loss)
    take(\.optimizer)
    take(\.learningRate)
    take(\.momentum)
    take(\.weightDecay)
    take(\.l1Penalty)
    take(\.dropout)
    take(\.epochs)
    take(\.batchSize)
    take(\.validationSplit)
    take(\.testSplit)
    take(\.seed)
    take(\.scale)
    take(\.schedule)
    take(\.earlyStopping)
    take(\.converge)
    take(\.targetScale)
    take(\.classWeight)
    take(\.sampleWeight)
    take(\.output)
    take(\.history)
    take(\.weights)
    take(\.plots)
    take(\.snapshotEvery)
    take(\.checkpoint)
    take(\.checkpointEvery)
    take(\.logEvery)
    return result
  }

  /// The settings that decide the trained weights, without the paths the results go to.
  var withoutOutputs: RunSpecification {
    var copy = self
    copy.output = nil
    copy.history = nil
    copy.weights = nil
    copy.plots = nil
    copy.snapshotEvery = nil
    copy.checkpoint = nil
    copy.checkpointEvery = nil
    copy.logEvery = nil
    return copy
  }

  /// The spec as YAML, fields in a fixed order.
  func yaml() throws -> String {
    try YAMLEncoder().encode(self)
  }
}

/// An error for the person at the terminal: printed as it is, exit status 1.
struct CLIError: Error, CustomStringConvertible {
  let description: String

  init(_ description: String) { self.description = description }
}

/// What a run learns: classes or values.
enum TaskKind: String, Codable, ExpressibleByArgument, CaseIterable {
  /// Each distinct target is a class.
  case classify
  /// The targets are numbers to fit.
  case regress
}

extension DataInput.Format: Codable {}
extension CSVFormat.Encoding: Codable {}
extension MissingValueFill.Strategy: ExpressibleByArgument {}
