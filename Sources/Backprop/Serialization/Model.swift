import Foundation

/// A trained network with everything needed to use it on new data: the feature names it expects,
/// the scaling fitted to its training data, what its outputs mean (classes or values), the loss
/// it was trained with and free-form training metadata.
///
/// ``save(to:)`` writes a versioned JSON file a person can read; ``init(contentsOf:)`` reads it
/// back, checking the format version and that the weights fit the architecture.
///
/// ```swift
/// let model = try Model(network: network, featureNames: data.featureNames,
///                       targetKind: data.targetKind, scaling: scaling, loss: .crossEntropy)
/// try model.save(to: URL(fileURLWithPath: "digits.json"))
/// let probabilities = try Model<Float>(contentsOf: url).predict(features)
/// ```
public struct Model<Scalar: TensorScalar> {
  /// The network; it takes scaled features.
  public let network: Sequential<Scalar>
  /// The feature columns the network takes, in order.
  public let featureNames: [String]
  /// Whether the outputs are classes or values, with their names.
  public let targetKind: TargetKind
  /// The scaling applied to features before the network, if any.
  public let scaling: FeatureScaling?
  /// The standardization of regression targets the network was trained on, if any:
  /// ``predict(_:)->Tensor<Scalar>`` and ``evaluate(on:)`` undo it, so that they answer in the targets' units.
  public let targetScaling: FeatureScaling?
  /// How missing feature values of the training file were handled, and the values that fill
  /// them in new files, if the file had any.
  public let missingValues: MissingValueFill?
  /// The loss the network was trained with; it decides how outputs become probabilities.
  public let loss: LossFunction
  /// Facts about the training run (settings, final metrics, version), as text.
  public var metadata: [String: String]
  /// Where the training run stood when the model was saved, so that it can be resumed.
  public var trainingState: TrainingState?

  /// The model-file format this version writes, and the newest it reads. Version 2 added the
  /// targets' scaling and the training state; a file without them reads as version 1 did.
  public static var formatVersion: Int { 2 }

  /// Creates a model, checking that the parts agree on the numbers of features and outputs.
  ///
  /// - Throws: ``BackpropError/shapeMismatch(operation:shapes:detail:)`` when they do not.
  public init(
    network: Sequential<Scalar>, featureNames: [String], targetKind: TargetKind,
    scaling: FeatureScaling? = nil, targetScaling: FeatureScaling? = nil,
    missingValues: MissingValueFill? = nil, loss: LossFunction, metadata: [String: String] = [:],
    trainingState: TrainingState? = nil
  ) throws {
    // A network without a Linear layer passes its inputs' width through.
    let inputs = network.inputSize ?? featureNames.count
    if inputs != featureNames.count {
      throw BackpropError.shapeMismatch(
        operation: "Model", shapes: [[inputs], [featureNames.count]],
        detail: "the network takes \(inputs) inputs but \(featureNames.count) features are named")
    }
    if let scaling, scaling.featureCount != featureNames.count {
      throw BackpropError.shapeMismatch(
        operation: "Model", shapes: [[scaling.featureCount], [featureNames.count]],
        detail:
          "the scaling was fitted to \(scaling.featureCount) features, not \(featureNames.count)")
    }
    if let missingValues, missingValues.strategy != .drop,
      missingValues.values.count != featureNames.count
    {
      throw BackpropError.shapeMismatch(
        operation: "Model", shapes: [[missingValues.values.count], [featureNames.count]],
        detail:
          "the missing-value fill has \(missingValues.values.count) values, not one for each of "
          + "\(featureNames.count) features")
    }
    if let targetScaling {
      guard targetKind.classNames == nil, targetScaling.featureCount == targetKind.width else {
        throw BackpropError.shapeMismatch(
          operation: "Model", shapes: [[targetScaling.featureCount], [targetKind.width]],
          detail:
            "a target scaling is for regression, with one offset and scale per target column")
      }
    }
    let outputs = network.outputSize ?? inputs
    if outputs != targetKind.width {
      throw BackpropError.shapeMismatch(
        operation: "Model", shapes: [[outputs], [targetKind.width]],
        detail: "the network gives \(outputs) outputs but the target has \(targetKind.width)")
    }
    if let names = targetKind.classNames {
      guard names.count >= 2 else {
        throw BackpropError.invalidArgument(
          name: "target classes \(names)", detail: "a classifier needs at least 2 classes")
      }
      guard Set(names).count == names.count else {
        let repeated = names.filter { name in names.filter { $0 == name }.count > 1 }
        throw BackpropError.invalidArgument(
          name: "target classes", detail: "the class names \(Set(repeated).sorted()) repeat")
      }
    }
    self.network = network
    self.featureNames = featureNames
    self.targetKind = targetKind
    self.scaling = scaling
    self.targetScaling = targetScaling
    self.missingValues = missingValues
    self.loss = loss
    self.metadata = metadata
    self.trainingState = trainingState
  }

  // MARK: Using the model

  /// The data set scaled as the network was trained: its features, and the targets of a model
  /// with a ``targetScaling``.
  ///
  /// - Throws: ``BackpropError/shapeMismatch(operation:shapes:detail:)`` when the data have a
  ///   different number of features.
  public func prepared(_ data: DataSet<Scalar>) throws -> DataSet<Scalar> {
    guard data.featureCount == featureNames.count else {
      throw BackpropError.shapeMismatch(
        operation: "Model", shapes: [[data.featureCount], [featureNames.count]],
        detail: "the data have \(data.featureCount) features; the model takes \(featureNames.count)"
      )
    }
    let scaled = try scaling.map { try data.scaled(by: $0) } ?? data
    return try targetScaling.map { try scaled.targetsScaled(by: $0) } ?? scaled
  }

  /// Class probabilities (`[count, classCount]`) for classification, values for regression, of
  /// unscaled features in the order of ``featureNames``.
  ///
  /// - Throws: ``BackpropError/shapeMismatch(operation:shapes:detail:)`` when the features do
  ///   not have ``featureNames``'s count of columns.
  public func predict(_ features: Tensor<Scalar>) throws -> Tensor<Scalar> {
    guard features.rank == 2, features.shape[1] == featureNames.count else {
      throw BackpropError.shapeMismatch(
        operation: "Model.predict", shapes: [features.shape, [featureNames.count]],
        detail: "the model takes \(featureNames.count) features per row")
    }
    let output = try network.outputs(
      for: try scaling.map { try $0.apply(to: features) } ?? features, loss: loss.loss)
    let result =
      try targetScaling.map { try $0.invert(output) }
      ?? (targetKind.classNames == nil || outputsAreProbabilities
        ? output : try output.softmax(alongAxis: -1))
    if let index = result.firstNonFiniteIndex {
      let width = result.shape[1]
      throw BackpropError.invalidArgument(
        name: "prediction for row \(index / width)",
        detail: "output \(index % width) is \(result.scalars[index]), not a finite number (are "
          + "the features or the weights far too large?)")
    }
    return result
  }

  /// Whether the network's outputs are already probabilities (it ends with a softmax, or was
  /// trained with binary cross-entropy) rather than logits, which ``predict(_:)->Tensor<Scalar>`` turns into a
  /// classifier's probabilities with a softmax.
  public var outputsAreProbabilities: Bool {
    network.layers.last is Softmax<Scalar> || loss == .binaryCrossEntropy
  }

  /// The class index of each row of ``predict(_:)->Tensor<Scalar>``'s probabilities.
  public static func predictedClasses(_ probabilities: Tensor<Scalar>) throws -> [Int] {
    try probabilities.argmax(alongAxis: -1)
  }

  /// Evaluates the model on unscaled data with its own loss. With a ``targetScaling``, the
  /// loss is that of the scaled targets the network was trained on, and MSE and MAE are in the
  /// targets' own units (R² is the same in both).
  ///
  /// - Throws: ``BackpropError`` when the data do not fit the model.
  public func evaluate(on data: DataSet<Scalar>) throws -> Evaluation {
    let evaluation = try network.evaluate(on: prepared(data), loss: loss.loss)
    guard targetScaling != nil else { return evaluation }
    let predictions = try predict(data.features)
    var metrics = evaluation.metrics
    for metric in Metric.defaults(for: targetKind) where metric != .r2 {
      metrics[metric.rawValue] = try metric.value(prediction: predictions, target: data.targets)
    }
    return Evaluation(
      loss: evaluation.loss, metrics: metrics, confusionMatrix: nil,
      sampleCount: evaluation.sampleCount)
  }

  // MARK: Files

  /// Writes the model as pretty-printed JSON, atomically: a failure leaves any previous file.
  ///
  /// - Throws: ``BackpropError`` when a layer cannot be stored or the file cannot be written.
  public func save(to url: URL) throws {
    try AtomicFile.write(try jsonData(), to: url)
  }

  /// The model file's bytes.
  public func jsonData() throws -> Data {
    let file = ModelFile(
      format: ModelFile.formatName, version: Self.formatVersion,
      scalarType: Scalar.self == Float.self ? "float32" : "float64", features: featureNames,
      target: targetKind, scaling: scaling, targetScaling: targetScaling,
      missingValues: missingValues, loss: loss,
      layers: try network.layers.map { try LayerSpecification($0) }, metadata: metadata,
      training: trainingState)
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
    // A training state's history may hold a diverged run's infinite or NaN loss.
    encoder.nonConformingFloatEncodingStrategy = .convertToString(
      positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    return try encoder.encode(file)
  }

  /// Reads a model file written by ``save(to:)``, converting the weights to `Scalar`.
  ///
  /// - Throws: ``BackpropError/malformedData(source:location:detail:)`` for a file that is not a
  ///   model file, is truncated, comes from a newer format version, or whose weights do not fit
  ///   its architecture; ``BackpropError/fileError(path:detail:)`` when it cannot be read.
  public init(contentsOf url: URL) throws {
    try self.init(jsonData: try FileData.read(url), source: url.path)
  }

  /// Reads a model file's bytes; `source` names it in errors.
  public init(jsonData data: Data, source: String) throws {
    func fail(_ location: String?, _ detail: String) -> BackpropError {
      .malformedData(source: source, location: location, detail: detail)
    }
    let decoder = JSONDecoder()
    decoder.nonConformingFloatDecodingStrategy = .convertFromString(
      positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    let header: ModelFile.Header
    do {
      header = try decoder.decode(ModelFile.Header.self, from: data)
    } catch {
      throw fail(
        nil, "not a Backprop model file: \(ModelFile.explain(error, byteCount: data.count))")
    }
    guard header.format == ModelFile.formatName else {
      throw fail(nil, "not a Backprop model file (format '\(header.format ?? "none")')")
    }
    guard let version = header.version, version <= Self.formatVersion, version >= 1 else {
      throw fail(
        nil,
        "the file has format version \(header.version.map(String.init) ?? "none"); this Backprop "
          + "reads versions 1 to \(Self.formatVersion): it was written by a newer Backprop, so "
          + "upgrade to read it")
    }
    let file: ModelFile
    do {
      file = try decoder.decode(ModelFile.self, from: data)
    } catch let error as BackpropError {
      throw fail(nil, "the model file is invalid: \(error)")
    } catch {
      throw fail(
        nil, "the model file is incomplete: \(ModelFile.explain(error, byteCount: data.count))")
    }
    guard ["float32", "float64"].contains(file.scalarType) else {
      throw fail(
        "scalarType", "the scalar type '\(file.scalarType)' is neither float32 nor float64")
    }
    let layers = try file.layers.enumerated().map { index, specification in
      try specification.makeLayer(as: Scalar.self, source: source, location: "layer \(index)")
    }
    do {
      try self.init(
        network: Sequential(layers), featureNames: file.features, targetKind: file.target,
        scaling: file.scaling, targetScaling: file.targetScaling,
        missingValues: file.missingValues, loss: file.loss, metadata: file.metadata,
        trainingState: file.training)
    } catch let error as BackpropError {
      throw fail(nil, "the weights do not fit the architecture: \(error)")
    }
  }

  /// A description for `backprop info`: architecture, parameters, features, target, scaling
  /// and the metadata.
  public var summary: String { summary(includingMetadata: true) }

  /// ``summary``, with or without the metadata lines.
  public func summary(includingMetadata: Bool) -> String {
    var lines = [network.summaryTable]
    let featureList = featureNames.prefix(8).joined(separator: ", ")
    lines.append(
      "features (\(featureNames.count)): \(featureList)\(featureNames.count > 8 ? ", …" : "")")
    switch targetKind {
    case .classification(let column, let names):
      lines.append("target: '\(column)', \(names.count) classes: \(names.joined(separator: ", "))")
    case .regression(let columns):
      lines.append("target: regression of \(columns.joined(separator: ", "))")
    }
    lines.append("loss: \(loss.rawValue)")
    lines.append(
      "scaling: \(scaling.map { "\($0.method.rawValue) (stored with the model)" } ?? "none")")
    if targetScaling != nil {
      lines.append("target scaling: standardize (stored with the model)")
    }
    if let missingValues {
      lines.append("missing values: \(missingValues.strategy.rawValue) (stored with the model)")
    }
    if let trainingState {
      lines.append(
        "training state: after epoch \(trainingState.epochsCompleted) (training can go on from it)")
    }
    guard includingMetadata else { return lines.joined(separator: "\n") }
    for key in metadata.keys.sorted() { lines.append("\(key): \(metadata[key] ?? "")") }
    return lines.joined(separator: "\n")
  }
}

/// The JSON layout of a model file, version 2 (version 1 had no `targetScaling` and `training`).
struct ModelFile: Codable {
  static let formatName = "backprop-model"

  /// The fields every version has, read first so that a newer version gets a clear message.
  struct Header: Codable {
    var format: String?
    var version: Int?
  }

  var format: String
  var version: Int
  var scalarType: String
  var features: [String]
  var target: TargetKind
  var scaling: FeatureScaling?
  var targetScaling: FeatureScaling?
  var missingValues: MissingValueFill?
  var loss: LossFunction
  var layers: [LayerSpecification]
  var metadata: [String: String]
  var training: TrainingState?

  /// A sentence for a JSON decoding error: truncation, bad syntax, or a missing field.
  static func explain(_ error: Error, byteCount: Int) -> String {
    switch error {
    case DecodingError.dataCorrupted(let context):
      let underlying = (context.underlyingError as NSError?)?.userInfo.description ?? ""
      return "the JSON is invalid or truncated (\(byteCount) bytes)"
        + (underlying.isEmpty ? "" : ": \(context.debugDescription)")
    case DecodingError.keyNotFound(let key, let context):
      return "the field '\(path(context.codingPath + [key]))' is missing"
    case DecodingError.typeMismatch(_, let context), DecodingError.valueNotFound(_, let context):
      return "the field '\(path(context.codingPath))' has the wrong type"
    default:
      return "\(error)"
    }
  }

  private static func path(_ keys: [CodingKey]) -> String {
    keys.map { $0.intValue.map { "[\($0)]" } ?? ".\($0.stringValue)" }.joined()
      .trimmingCharacters(in: ["."])
  }
}
