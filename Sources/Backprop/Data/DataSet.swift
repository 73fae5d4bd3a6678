import CBackpropKernels
import Foundation

/// What a data set's targets are: values to regress, or classes to tell apart.
public enum TargetKind: Sendable, Equatable, Codable {
  /// Real-valued targets, one column each, named by `columns`.
  case regression(columns: [String])
  /// One class per sample, from the column `column`; targets are one-hot rows over `classNames`.
  case classification(column: String, classNames: [String])

  /// The class names of a classification target; `nil` for regression.
  public var classNames: [String]? {
    if case .classification(_, let names) = self { return names }
    return nil
  }

  /// The names of the target columns in the source data.
  public var columnNames: [String] {
    switch self {
    case .regression(let columns): columns
    case .classification(let column, _): [column]
    }
  }

  /// The number of target values per sample: the number of classes, or of regression columns.
  public var width: Int {
    switch self {
    case .regression(let columns): columns.count
    case .classification(_, let names): names.count
    }
  }
}

/// Samples with their features and targets: the input to ``Layer/fit(_:validation:loss:optimizer:configuration:callbacks:reducer:)``.
///
/// Features are a `[count, featureCount]` tensor. Targets are a `[count, targetKind.width]` tensor:
/// one-hot rows for classification, values for regression. Every feature and target is finite;
/// the initializer checks it, so that a NaN in the data is reported where it is rather than as a
/// NaN loss later.
///
/// ```swift
/// let data = try ToyData.twoMoons(count: 200, noise: 0.1, seed: 1)
/// let parts = try data.split(validationFraction: 0.2, seed: 1)
/// ```
public struct DataSet<Scalar: TensorScalar>: Sendable {
  /// The features, one row per sample.
  public let features: Tensor<Scalar>
  /// The targets, one row per sample: one-hot for classification, values for regression.
  public let targets: Tensor<Scalar>
  /// The name of each feature column.
  public let featureNames: [String]
  /// Whether the targets are classes or values, with their names.
  public let targetKind: TargetKind
  /// Each sample's weight in the training loss (`[count, 1]`), as scikit-learn's
  /// `sample_weight`; `nil` weighs every sample 1. See ``weighted(by:)``.
  public let sampleWeights: Tensor<Scalar>?

  /// Creates a data set, checking that the shapes agree and every value is finite.
  ///
  /// - Throws: ``BackpropError/shapeMismatch(operation:shapes:detail:)`` when the features and
  ///   targets are not matrices with one row per sample, or the names do not match the columns;
  ///   ``BackpropError/invalidArgument(name:detail:)`` naming the first non-finite value, or a
  ///   classification target row that is not one-hot.
  public init(
    features: Tensor<Scalar>, targets: Tensor<Scalar>, featureNames: [String]? = nil,
    targetKind: TargetKind? = nil
  ) throws {
    guard features.rank == 2, targets.rank == 2, features.shape[0] == targets.shape[0] else {
      throw BackpropError.shapeMismatch(
        operation: "DataSet", shapes: [features.shape, targets.shape],
        detail: "features and targets must be matrices with one row per sample")
    }
    let names = featureNames ?? (0..<features.shape[1]).map { "x\($0)" }
    let kind = targetKind ?? .regression(columns: (0..<targets.shape[1]).map { "y\($0)" })
    guard names.count == features.shape[1], kind.width == targets.shape[1] else {
      throw BackpropError.shapeMismatch(
        operation: "DataSet", shapes: [features.shape, targets.shape],
        detail:
          "\(names.count) feature names and \(kind.width) target columns do not match the data")
    }
    try Self.requireFinite(features, what: "feature", names: names)
    try Self.requireFinite(targets, what: "target", names: kind.columnNames)
    if kind.classNames != nil {
      let width = kind.width
      let bad = targets.withUnsafeBufferPointer { buffer -> Int? in
        guard let base = buffer.baseAddress else { return nil }
        let rows = targets.shape[0]
        return Scalar.self == Float.self
          ? firstRowNotOneHot(concrete(base, as: Float.self), rows: rows, width: width)
          : firstRowNotOneHot(concrete(base, as: Double.self), rows: rows, width: width)
      }
      if let row = bad {
        throw BackpropError.invalidArgument(
          name: "classification target of sample \(row)",
          detail:
            "\(Array(targets.scalars[(row * width)..<((row + 1) * width)])) is not a one-hot row")
      }
    }
    self.features = features
    self.targets = targets
    self.featureNames = names
    self.targetKind = kind
    self.sampleWeights = nil
  }

  /// Creates a classification data set from class indices into `classNames`.
  ///
  /// - Throws: as ``init(features:targets:featureNames:targetKind:)``, and
  ///   ``BackpropError/invalidArgument(name:detail:)`` for a label outside `classNames`.
  public init(
    features: Tensor<Scalar>, labels: [Int], classNames: [String], featureNames: [String]? = nil,
    targetColumn: String = "label"
  ) throws {
    try self.init(
      features: features,
      targets: Tensor.oneHot(classIndices: labels, classCount: classNames.count),
      featureNames: featureNames,
      targetKind: .classification(column: targetColumn, classNames: classNames))
  }

  private init(
    validFeatures: Tensor<Scalar>, targets: Tensor<Scalar>, like other: DataSet,
    sampleWeights: Tensor<Scalar>?
  ) {
    self.features = validFeatures
    self.targets = targets
    self.featureNames = other.featureNames
    self.targetKind = other.targetKind
    self.sampleWeights = sampleWeights
  }

  // MARK: Weights

  /// The same samples, each weighing `weights[i]` in the training loss: the loss of a batch is
  /// Σ wᵢ·ℓᵢ / Σ wᵢ over its samples (a mean loss; a summed loss is Σ wᵢ·ℓᵢ · n / Σ wᵢ), so that
  /// weights that are all equal change nothing. Metrics stay unweighted.
  ///
  /// - Throws: ``BackpropError/invalidArgument(name:detail:)`` unless there is one finite,
  ///   non-negative weight per sample and they are not all zero.
  public func weighted(by weights: [Double]) throws -> DataSet {
    guard weights.count == count else {
      throw BackpropError.invalidArgument(
        name: "sample weights", detail: "\(weights.count) weights for \(count) samples")
    }
    if let index = weights.firstIndex(where: { !($0.isFinite && $0 >= 0) }) {
      throw BackpropError.invalidArgument(
        name: "sample weight of sample \(index)",
        detail: "\(weights[index]) is not a finite number ≥ 0")
    }
    guard weights.contains(where: { $0 > 0 }) else {
      throw BackpropError.invalidArgument(name: "sample weights", detail: "they are all 0")
    }
    let tensor = Tensor<Scalar>(validShape: [count, 1]) { buffer in
      for index in buffer.indices { buffer[index] = Scalar(weights[index]) }
    }
    return DataSet(validFeatures: features, targets: targets, like: self, sampleWeights: tensor)
  }

  /// How much each class weighs in the training loss.
  public enum ClassWeighting: Sendable, Equatable {
    /// scikit-learn's `class_weight="balanced"`: class c weighs n / (k · n_c) for n samples of
    /// k classes, n_c of them of class c, so that every class weighs as much in all.
    case balanced
    /// The weight of each class by name; a class not named weighs 1.
    case given([String: Double])
  }

  /// The same samples weighted by their class, times any weights they had (as scikit-learn
  /// multiplies `class_weight` and `sample_weight`).
  ///
  /// - Throws: ``BackpropError/invalidArgument(name:detail:)`` for regression data, a name that
  ///   is not a class, or a weight that is not finite and ≥ 0.
  public func weightedByClass(_ weighting: ClassWeighting) throws -> DataSet {
    guard let names = targetKind.classNames, let labels else {
      throw BackpropError.invalidArgument(
        name: "class weights", detail: "the targets are values, not classes")
    }
    let classWeights: [Double]
    switch weighting {
    case .balanced:
      var counts = [Int](repeating: 0, count: names.count)
      for label in labels { counts[label] += 1 }
      classWeights = counts.map {
        $0 == 0 ? 0 : Double(count) / (Double(names.count) * Double($0))
      }
    case .given(let weights):
      if let unknown = weights.keys.sorted().first(where: { !names.contains($0) }) {
        throw BackpropError.invalidArgument(
          name: "class weight of '\(unknown)'",
          detail: "there is no such class; the classes are \(names.joined(separator: ", "))")
      }
      classWeights = names.map { weights[$0] ?? 1 }
    }
    let previous = sampleWeights?.scalars.map { Double($0) }
    return try weighted(
      by: labels.enumerated().map { index, label in
        classWeights[label] * (previous?[index] ?? 1)
      })
  }

  private static func requireFinite(_ tensor: Tensor<Scalar>, what: String, names: [String]) throws
  {
    guard let index = tensor.firstNonFiniteIndex else { return }
    let columns = tensor.shape[1]
    throw BackpropError.invalidArgument(
      name: "\(what) '\(names[index % columns])' of sample \(index / columns)",
      detail: "\(tensor.scalars[index]) is not finite")
  }

  // MARK: Shape

  /// The number of samples.
  public var count: Int { features.shape[0] }

  /// The number of features per sample.
  public var featureCount: Int { features.shape[1] }

  /// The class index of each sample for classification data; `nil` for regression.
  public var labels: [Int]? {
    guard targetKind.classNames != nil else { return nil }
    return try? targets.argmax(alongAxis: -1)
  }

  /// The class index of each sample, into ``TargetKind/classNames``.
  ///
  /// - Throws: ``BackpropError/invalidArgument(name:detail:)`` for regression data.
  public func classIndices() throws -> [Int] {
    guard let labels else {
      throw BackpropError.invalidArgument(
        name: "class indices", detail: "the targets are values, not classes")
    }
    return labels
  }

  // MARK: Selecting samples

  /// The samples at `indices`, in that order (an index may repeat).
  ///
  /// - Throws: ``BackpropError/invalidArgument(name:detail:)`` for an index outside `0..<count`.
  public func subset(_ indices: [Int]) throws -> DataSet {
    if let bad = indices.first(where: { !(0..<count).contains($0) }) {
      throw BackpropError.invalidArgument(
        name: "sample index", detail: "\(bad) is outside 0..<\(count)")
    }
    return DataSet(
      validFeatures: Self.rows(indices, of: features), targets: Self.rows(indices, of: targets),
      like: self, sampleWeights: sampleWeights.map { Self.rows(indices, of: $0) })
  }

  static func rows(_ indices: [Int], of tensor: Tensor<Scalar>) -> Tensor<Scalar> {
    let width = tensor.shape[1]
    return tensor.withUnsafeBufferPointer { source in
      Tensor(validShape: [indices.count, width]) { destination in
        for (row, index) in indices.enumerated() {
          for column in 0..<width {
            destination[row * width + column] = source[index * width + column]
          }
        }
      }
    }
  }

  /// The samples in an order drawn from `generator`.
  public func shuffled(using generator: inout RandomGenerator) -> DataSet {
    // Every index of a permutation is valid.
    (try? subset(generator.permutation(count: count))) ?? self
  }

  /// Splits the samples into training, validation and test parts after shuffling them with
  /// `seed`; the fractions are of the whole, and the training part gets the rest.
  ///
  /// Part sizes are rounded down for validation and test, so a fraction never takes more samples
  /// than asked. The same seed always gives the same split. When nothing is held out, the
  /// training part is the data as they are, unshuffled and not copied.
  ///
  /// - Throws: ``BackpropError/invalidArgument(name:detail:)`` when a fraction is outside [0, 1),
  ///   their sum reaches 1, or the training part would be empty.
  public func split(validationFraction: Double, testFraction: Double = 0, seed: UInt64) throws
    -> DataSplit<Scalar>
  {
    for (name, value) in [
      ("validation fraction", validationFraction), ("test fraction", testFraction),
    ]
    where !(value >= 0 && value < 1) {
      throw BackpropError.invalidArgument(name: name, detail: "\(value) must be in [0, 1)")
    }
    let validationCount = Int((validationFraction * Double(count)).rounded(.down))
    let testCount = Int((testFraction * Double(count)).rounded(.down))
    let trainCount = count - validationCount - testCount
    guard trainCount > 0 else {
      throw BackpropError.invalidArgument(
        name: "split",
        detail:
          "validation \(validationFraction) and test \(testFraction) leave no training samples "
          + "out of \(count)")
    }
    // Nothing held out: the training part is the data themselves, not a shuffled copy (fit
    // shuffles each epoch), so that a large data set is not held twice.
    guard trainCount < count else { return DataSplit(train: self, validation: nil, test: nil) }
    var generator = RandomGenerator(seed: seed)
    let order = generator.permutation(count: count)
    return DataSplit(
      train: try subset(Array(order[0..<trainCount])),
      validation: validationCount > 0
        ? try subset(Array(order[trainCount..<(trainCount + validationCount)])) : nil,
      test: testCount > 0 ? try subset(Array(order[(trainCount + validationCount)...])) : nil)
  }

  /// Splits the samples into a training and a test part, `testFraction` of them (rounded down)
  /// for the test, after shuffling them with `seed`, as scikit-learn's `train_test_split`.
  ///
  /// - Throws: ``BackpropError/invalidArgument(name:detail:)`` when the fraction is outside
  ///   (0, 1) or either part would be empty.
  public func split(testFraction: Double, seed: UInt64) throws -> (
    train: DataSet, test: DataSet
  ) {
    let parts = try split(validationFraction: 0, testFraction: testFraction, seed: seed)
    guard let test = parts.test else {
      throw BackpropError.invalidArgument(
        name: "test fraction",
        detail: "\(testFraction) of \(count) samples leaves no test sample")
    }
    return (parts.train, test)
  }

  /// The data cut into batches of `size` samples (the last may be smaller), shuffled by
  /// `generator` when one is given, in order otherwise.
  ///
  /// - Throws: ``BackpropError/invalidArgument(name:detail:)`` when `size` is not positive.
  public func batches(size: Int, shuffledBy generator: inout RandomGenerator?) throws
    -> [Batch<Scalar>]
  {
    guard size > 0 else {
      throw BackpropError.invalidArgument(name: "batch size", detail: "\(size) must be positive")
    }
    let order = generator?.permutation(count: count) ?? Array(0..<count)
    return stride(from: 0, to: count, by: size).map { start in
      let indices = Array(order[start..<min(start + size, count)])
      return Batch(
        features: Self.rows(indices, of: features), targets: Self.rows(indices, of: targets),
        indices: indices)
    }
  }

  /// Calls `body` with the features, the targets and the sample weights (if any), row-major.
  func withRows<Result>(
    _ body: (UnsafePointer<Scalar>, UnsafePointer<Scalar>, UnsafePointer<Scalar>?) throws -> Result
  ) throws -> Result {
    try features.withUnsafeBufferPointer { features in
      try targets.withUnsafeBufferPointer { targets in
        guard let features = features.baseAddress, let targets = targets.baseAddress else {
          throw BackpropError.invalidArgument(name: "data", detail: "there are no samples")
        }
        guard let sampleWeights else { return try body(features, targets, nil) }
        return try sampleWeights.withUnsafeBufferPointer { weights in
          try body(features, targets, weights.baseAddress)
        }
      }
    }
  }

  /// The same samples with their features mapped through `scaling`.
  ///
  /// - Throws: ``BackpropError/shapeMismatch(operation:shapes:detail:)`` when the scaling was
  ///   fitted to a different number of features.
  public func scaled(by scaling: FeatureScaling) throws -> DataSet {
    DataSet(
      validFeatures: try scaling.apply(to: features), targets: targets, like: self,
      sampleWeights: sampleWeights)
  }

  /// The same samples with their regression targets mapped through `scaling` (fitted to the
  /// targets, as ``FeatureScaling/init(fitting:to:)`` fits it to `targets`).
  ///
  /// - Throws: ``BackpropError/invalidArgument(name:detail:)`` for classification data;
  ///   ``BackpropError/shapeMismatch(operation:shapes:detail:)`` when the scaling has another
  ///   number of columns.
  public func targetsScaled(by scaling: FeatureScaling) throws -> DataSet {
    guard targetKind.classNames == nil else {
      throw BackpropError.invalidArgument(
        name: "target scaling", detail: "classes are not scaled; only regression targets are")
    }
    return DataSet(
      validFeatures: features, targets: try scaling.apply(to: targets), like: self,
      sampleWeights: sampleWeights)
  }
}

/// The parts of a data set made by ``DataSet/split(validationFraction:testFraction:seed:)``.
public struct DataSplit<Scalar: TensorScalar>: Sendable {
  /// The samples to train on.
  public let train: DataSet<Scalar>
  /// The samples to validate on during training, if any were asked for.
  public let validation: DataSet<Scalar>?
  /// The samples held out for the final test, if any were asked for.
  public let test: DataSet<Scalar>?
}

/// One batch of samples: their features, targets and positions in the data set.
public struct Batch<Scalar: TensorScalar>: Sendable {
  /// The batch's features, `[batchSize, featureCount]`.
  public let features: Tensor<Scalar>
  /// The batch's targets, `[batchSize, targetWidth]`.
  public let targets: Tensor<Scalar>
  /// The index of each sample in the data set the batch came from.
  public let indices: [Int]
}

/// The first row of `rows × width` values that is not one-hot (a 1 and otherwise 0s).
private func firstRowNotOneHot<S: TensorScalar>(_ values: UnsafePointer<S>, rows: Int, width: Int)
  -> Int?
{
  for row in 0..<rows {
    var (ones, others) = (0, 0)
    for value in UnsafeBufferPointer(start: values + row * width, count: width) {
      ones += value == 1 ? 1 : 0
      others += value == 0 || value == 1 ? 0 : 1
    }
    if ones != 1 || others != 0 { return row }
  }
  return nil
}
