import Foundation

/// A quantity measured on predictions against targets, besides the loss.
public enum Metric: String, Sendable, Codable, CaseIterable {
  /// The fraction of samples whose predicted class (the largest output) is the target class.
  /// For a single output, the class is 1 when the output is ≥ 0.5.
  case accuracy
  /// The mean over all elements of (prediction − target)².
  case meanSquaredError = "mse"
  /// The mean over all elements of |prediction − target|.
  case meanAbsoluteError = "mae"
  /// The coefficient of determination, as scikit-learn's `r2_score`: per target column
  /// 1 − Σ(prediction − target)² / Σ(target − mean target)², averaged over the columns. A column
  /// whose targets are all equal scores 1 when predicted exactly and 0 otherwise.
  case r2

  /// The metrics that suit a kind of target: accuracy for classes; MSE, MAE and R² for values
  /// (on logits they would measure nothing useful).
  public static func defaults(for kind: TargetKind) -> [Metric] {
    kind.classNames == nil ? [.meanSquaredError, .meanAbsoluteError, .r2] : [.accuracy]
  }

  /// The metric's value on a batch of raw model outputs.
  ///
  /// Accuracy compares the largest output of each row with the target's, so it works on logits,
  /// probabilities and one-hot targets alike.
  ///
  /// - Throws: ``BackpropError/shapeMismatch(operation:shapes:detail:)`` when the shapes differ.
  public func value<Scalar: TensorScalar>(
    prediction: Tensor<Scalar>, target: Tensor<Scalar>
  ) throws -> Double {
    let tally = try MetricTally(prediction: prediction, target: target)
    return tally.value(of: self)
  }
}

/// Running sums from which the metrics of many batches are combined exactly, as if measured on
/// all samples at once.
struct MetricTally {
  var samples = 0
  var elements = 0
  var correct = 0
  var squaredError = 0.0
  var absoluteError = 0.0
  /// Per target column: Σ target, Σ target² and Σ (prediction − target)², for R².
  var columnTargetSums: [Double] = []
  var columnTargetSquares: [Double] = []
  var columnSquaredErrors: [Double] = []

  init() {}

  /// An empty tally of targets `width` columns wide, whose sums have that width even when no
  /// sample is added (a rank with no rows still sums as many values as the others).
  init(width: Int) {
    columnTargetSums = Array(repeating: 0, count: width)
    columnTargetSquares = columnTargetSums
    columnSquaredErrors = columnTargetSums
  }

  /// Replaces every count and sum by its sum over the ranks of `reducer`, in one exchange with
  /// `extra`, whose sums it returns.
  @discardableResult
  mutating func sum(over reducer: any GradientReducer, alongWith extra: [Double] = []) throws
    -> [Double]
  {
    let width = columnTargetSums.count
    var values =
      [Double(samples), Double(elements), Double(correct), squaredError, absoluteError]
      + columnTargetSums + columnTargetSquares + columnSquaredErrors + extra
    try values.withUnsafeMutableBufferPointer { try reducer.sum($0) }
    (samples, elements, correct) = (Int(values[0]), Int(values[1]), Int(values[2]))
    (squaredError, absoluteError) = (values[3], values[4])
    columnTargetSums = Array(values[5..<(5 + width)])
    columnTargetSquares = Array(values[(5 + width)..<(5 + 2 * width)])
    columnSquaredErrors = Array(values[(5 + 2 * width)..<(5 + 3 * width)])
    return Array(values[(5 + 3 * width)...])
  }

  init<Scalar: TensorScalar>(prediction: Tensor<Scalar>, target: Tensor<Scalar>) throws {
    try add(prediction: prediction, target: target)
  }

  mutating func add<Scalar: TensorScalar>(prediction: Tensor<Scalar>, target: Tensor<Scalar>)
    throws
  {
    guard prediction.shape == target.shape, prediction.rank == 2 else {
      throw BackpropError.shapeMismatch(
        operation: "metric", shapes: [prediction.shape, target.shape],
        detail: "predictions and targets must be matrices of the same shape")
    }
    prediction.withUnsafeBufferPointer { predicted in
      target.withUnsafeBufferPointer { expected in
        guard let predicted = predicted.baseAddress, let expected = expected.baseAddress else {
          return
        }
        add(
          predicted: predicted, expected: expected, rows: prediction.shape[0],
          width: prediction.shape[1])
      }
    }
  }

  /// Adds `rows × width` outputs against targets of the same shape.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  mutating func add<Scalar: TensorScalar>(
    predicted: UnsafePointer<Scalar>, expected: UnsafePointer<Scalar>, rows: Int, width: Int
  ) {
    if columnTargetSums.count != width { self = Self(width: width) }
    samples += rows
    elements += rows * width
    // Column by column, so that each running sum is written once a batch.
    for column in 0..<width {
      var (sum, squares, errors, absolute) = (0.0, 0.0, 0.0, 0.0)
      for row in 0..<rows {
        let index = row * width + column
        let target = Double(expected[index])
        let difference = Double(predicted[index]) - target
        sum += target
        squares += target * target
        errors += difference * difference
        absolute += abs(difference)
      }
      columnTargetSums[column] += sum
      columnTargetSquares[column] += squares
      columnSquaredErrors[column] += errors
      squaredError += errors
      absoluteError += absolute
    }
    for row in 0..<rows {
      let start = row * width
      correct +=
        Self.predictedClass(predicted + start, width: width)
          == Self.predictedClass(expected + start, width: width) ? 1 : 0
    }
  }

  /// The index of the largest value (the first on ties), or the 0.5 threshold for one output.
  static func predictedClass<Scalar: TensorScalar>(_ row: UnsafePointer<Scalar>, width: Int) -> Int
  {
    if width == 1 { return row[0] >= 0.5 ? 1 : 0 }
    var best = 0
    for index in 1..<max(width, 1) where row[index] > row[best] { best = index }
    return best
  }

  func value(of metric: Metric) -> Double {
    switch metric {
    case .accuracy: samples > 0 ? Double(correct) / Double(samples) : .nan
    case .meanSquaredError: elements > 0 ? squaredError / Double(elements) : .nan
    case .meanAbsoluteError: elements > 0 ? absoluteError / Double(elements) : .nan
    case .r2: coefficientOfDetermination
    }
  }

  private var coefficientOfDetermination: Double {
    guard samples > 0, !columnSquaredErrors.isEmpty else { return .nan }
    var total = 0.0
    for column in columnSquaredErrors.indices {
      let sum = columnTargetSums[column]
      let spread = max(columnTargetSquares[column] - sum * sum / Double(samples), 0)
      let residual = columnSquaredErrors[column]
      total += spread > 0 ? 1 - residual / spread : residual == 0 ? 1 : 0
    }
    return total / Double(columnSquaredErrors.count)
  }
}

/// Counts of predicted classes against true classes: `counts[actual][predicted]`.
public struct ConfusionMatrix: Sendable, Equatable, Codable, CustomStringConvertible {
  /// The class names, in index order.
  public let classNames: [String]
  /// `counts[actual][predicted]`: how many samples of class `actual` were predicted `predicted`.
  public internal(set) var counts: [[Int]]

  /// An empty matrix over `classNames`.
  public init(classNames: [String]) {
    self.classNames = classNames
    self.counts = Array(
      repeating: Array(repeating: 0, count: classNames.count), count: classNames.count)
  }

  /// Adds a batch of outputs (logits, probabilities) against one-hot targets.
  ///
  /// - Throws: ``BackpropError/shapeMismatch(operation:shapes:detail:)`` unless both are
  ///   `[batch, classCount]` matrices.
  public mutating func add<Scalar: TensorScalar>(
    prediction: Tensor<Scalar>, target: Tensor<Scalar>
  ) throws {
    let width = classNames.count
    guard prediction.shape == target.shape, prediction.rank == 2, prediction.shape[1] == width
    else {
      throw BackpropError.shapeMismatch(
        operation: "ConfusionMatrix", shapes: [prediction.shape, target.shape],
        detail: "needs [batch, \(width)] outputs and one-hot targets")
    }
    prediction.withUnsafeBufferPointer { predicted in
      target.withUnsafeBufferPointer { expected in
        guard let predicted = predicted.baseAddress, let expected = expected.baseAddress else {
          return
        }
        add(predicted: predicted, expected: expected, rows: prediction.shape[0])
      }
    }
  }

  /// Adds `rows` outputs against one-hot targets, both `rows × classCount`.
  mutating func add<Scalar: TensorScalar>(
    predicted: UnsafePointer<Scalar>, expected: UnsafePointer<Scalar>, rows: Int
  ) {
    let width = classNames.count
    for row in 0..<rows {
      counts[MetricTally.predictedClass(expected + row * width, width: width)][
        MetricTally.predictedClass(predicted + row * width, width: width)] += 1
    }
  }

  /// The number of samples counted.
  public var total: Int { counts.joined().reduce(0, +) }

  /// The fraction of samples on the diagonal.
  public var accuracy: Double {
    Double(classNames.indices.reduce(0) { $0 + counts[$1][$1] }) / Double(max(total, 1))
  }

  /// Rows are actual classes, columns predicted ones, aligned for a terminal.
  public var description: String {
    let names = classNames.map { String($0.prefix(12)) }
    let width = max(names.map(\.count).max() ?? 1, String(counts.joined().max() ?? 0).count, 4)
    func pad(_ text: String) -> String { String(repeating: " ", count: width - text.count) + text }
    var lines = ["actual \\ predicted"]
    lines.append(pad("") + "  " + names.map(pad).joined(separator: " "))
    for (row, name) in names.enumerated() {
      lines.append(pad(name) + "  " + counts[row].map { pad(String($0)) }.joined(separator: " "))
    }
    return lines.joined(separator: "\n")
  }
}

/// What ``Layer/evaluate(on:loss:batchSize:reducer:)`` measured: the loss, every metric that applies, and
/// for classification the confusion matrix.
public struct Evaluation: Sendable, Equatable, Codable {
  /// The loss averaged over samples.
  public let loss: Double
  /// Each metric's value by name: `accuracy` for classification, `mse` and `mae` for regression.
  public let metrics: [String: Double]
  /// The confusion matrix, for classification data.
  public let confusionMatrix: ConfusionMatrix?
  /// The number of samples evaluated.
  public let sampleCount: Int
}

extension Layer {
  /// Evaluates the model on `data` in inference mode, in batches of `batchSize`, without
  /// recording gradients.
  ///
  /// With a `reducer` of several ranks (every rank making this same call on the same data),
  /// each rank evaluates its shard of the rows (``GradientReducer/shard(ofRows:)``) and one sum
  /// over the ranks makes the counts and sums those of the whole: every rank gets the same
  /// evaluation, equal to one process's up to the order of the sums.
  ///
  /// - Throws: ``BackpropError`` when the model does not fit the data's shapes.
  public func evaluate(
    on data: DataSet<Scalar>, loss: some Loss, batchSize: Int = 256,
    reducer: (any GradientReducer)? = nil
  ) throws -> Evaluation {
    guard batchSize > 0 else {
      throw BackpropError.invalidArgument(
        name: "batch size", detail: "\(batchSize) must be positive")
    }
    try requireFit(data, role: "data")
    let width = data.targetKind.width
    var tally = MetricTally(width: width)
    var lossSum = 0.0
    var matrix = data.targetKind.classNames.map { ConfusionMatrix(classNames: $0) }
    let engine = fusedStep(for: loss)
    try engine?.loss.checkTargets(data.targets)
    let shard = reducer?.shard(ofRows: data.count) ?? 0..<data.count
    try data.withRows { features, targets, _ in
      for start in stride(from: shard.lowerBound, to: shard.upperBound, by: batchSize) {
        let rows = min(batchSize, shard.upperBound - start)
        let (x, t) = (features + start * data.featureCount, targets + start * width)
        func count(_ predicted: UnsafePointer<Scalar>) {
          tally.add(predicted: predicted, expected: t, rows: rows, width: width)
          matrix?.add(predicted: predicted, expected: t, rows: rows)
        }
        let batchLoss: Scalar
        if let engine {
          batchLoss = try engine.loss(features: x, targets: t, batch: rows)
          count(engine.output)
        } else {
          let target = Tensor(copying: t, shape: [rows, width])
          let (value, output) = try GradientRecording.withoutRecording {
            let output = try self(Variable(Tensor(copying: x, shape: [rows, data.featureCount])))
            return (try loss(output, target).value.scalar ?? .nan, output.value)
          }
          guard output.shape == [rows, width] else {
            throw BackpropError.shapeMismatch(
              operation: "evaluate", shapes: [output.shape, [rows, width]],
              detail: "the model's outputs do not match the targets")
          }
          batchLoss = value
          output.withUnsafeBufferPointer { if let base = $0.baseAddress { count(base) } }
        }
        lossSum += Double(batchLoss) * Double(loss.reduction == .mean ? rows : 1)
      }
    }
    if let reducer, reducer.rankCount > 1 {
      let classes = matrix?.classNames.count ?? 0
      let counts = matrix?.counts.joined().map(Double.init) ?? []
      let summed = try tally.sum(over: reducer, alongWith: [lossSum] + counts)
      lossSum = summed[0]
      matrix?.counts = (0..<classes).map { actual in
        (0..<classes).map { Int(summed[1 + actual * classes + $0]) }
      }
    }
    let metrics = Dictionary(
      uniqueKeysWithValues: Metric.defaults(for: data.targetKind).map {
        ($0.rawValue, tally.value(of: $0))
      })
    return Evaluation(
      loss: lossSum / Double(max(data.count, 1)), metrics: metrics, confusionMatrix: matrix,
      sampleCount: data.count)
  }
}
