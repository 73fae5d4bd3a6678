import Foundation

/// Per-feature scaling, fitted on training data and stored with the model so that prediction
/// applies exactly the same transformation: x′ = (x − offset) / scale.
///
/// - ``Method/standardize``: offset the mean, scale the population standard deviation (as
///   scikit-learn's `StandardScaler`), so each feature has mean 0 and variance 1.
/// - ``Method/minMax``: offset the minimum, scale the range, so each feature lies in [0, 1].
///
/// A constant feature gets scale 1 (it is only shifted), so scaling never divides by zero.
public struct FeatureScaling: Sendable, Equatable, Codable {
  /// How the offsets and scales are chosen.
  public enum Method: String, Sendable, Codable, CaseIterable {
    /// Mean 0 and variance 1 per feature.
    case standardize
    /// Range [0, 1] per feature.
    case minMax
  }

  /// The method the statistics were fitted with.
  public let method: Method
  /// The value subtracted from each feature.
  public let offsets: [Double]
  /// The value each shifted feature is divided by; never zero.
  public let scales: [Double]

  private enum CodingKeys: String, CodingKey {
    case method, offsets, scales
  }

  /// Decodes a stored scaling through ``init(method:offsets:scales:)``, so that a file is held
  /// to the same checks as code.
  public init(from decoder: any Decoder) throws {
    let container = try decoder.container(keyedBy: CodingKeys.self)
    try self.init(
      method: container.decode(Method.self, forKey: .method),
      offsets: container.decode([Double].self, forKey: .offsets),
      scales: container.decode([Double].self, forKey: .scales))
  }

  /// Creates a scaling from stored statistics.
  ///
  /// - Throws: ``BackpropError/invalidArgument(name:detail:)`` when the lists differ in length,
  ///   or a value is not finite, or a scale is zero.
  public init(method: Method, offsets: [Double], scales: [Double]) throws {
    guard offsets.count == scales.count else {
      throw BackpropError.invalidArgument(
        name: "feature scaling",
        detail: "\(offsets.count) offsets and \(scales.count) scales must match")
    }
    guard offsets.allSatisfy(\.isFinite), scales.allSatisfy({ $0.isFinite && $0 != 0 }) else {
      throw BackpropError.invalidArgument(
        name: "feature scaling", detail: "offsets must be finite and scales finite and non-zero")
    }
    self.method = method
    self.offsets = offsets
    self.scales = scales
  }

  /// Fits the statistics of `method` to the columns of `features`, computed in Double.
  ///
  /// - Throws: ``BackpropError/invalidShape(shape:detail:)`` unless `features` is a matrix with
  ///   at least one row.
  public init<Scalar: TensorScalar>(fitting method: Method, to features: Tensor<Scalar>) throws {
    guard features.rank == 2, features.shape[0] > 0 else {
      throw BackpropError.invalidShape(
        shape: features.shape, detail: "scaling is fitted to a matrix with at least one row")
    }
    let (rows, columns) = (features.shape[0], features.shape[1])
    var offsets = [Double](repeating: 0, count: columns)
    var scales = [Double](repeating: 1, count: columns)
    features.withUnsafeBufferPointer { buffer in
      for column in 0..<columns {
        let values = (0..<rows).lazy.map { Double(buffer[$0 * columns + column]) }
        switch method {
        case .standardize:
          let mean = values.reduce(0, +) / Double(rows)
          let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / Double(rows)
          offsets[column] = mean
          scales[column] = variance > 0 ? variance.squareRoot() : 1
        case .minMax:
          let low = values.min() ?? 0
          let high = values.max() ?? 0
          offsets[column] = low
          scales[column] = high > low ? high - low : 1
        }
      }
    }
    try self.init(method: method, offsets: offsets, scales: scales)
  }

  /// The number of features the scaling was fitted to.
  public var featureCount: Int { offsets.count }

  /// Applies (x − offset) / scale to every row of `features`.
  ///
  /// - Throws: ``BackpropError/shapeMismatch(operation:shapes:detail:)`` when `features` is not a
  ///   matrix with ``featureCount`` columns.
  public func apply<Scalar: TensorScalar>(to features: Tensor<Scalar>) throws -> Tensor<Scalar> {
    try mapped(features, operation: "FeatureScaling.apply", columns: "features") {
      value, offset, scale in
      (value - offset) / scale
    }
  }

  /// Undoes ``apply(to:)``: x = x′ · scale + offset, for every row of `scaled` (a network's
  /// outputs in the units of targets it was trained on scaled).
  ///
  /// - Throws: ``BackpropError/shapeMismatch(operation:shapes:detail:)`` when `scaled` is not a
  ///   matrix with ``featureCount`` columns.
  public func invert<Scalar: TensorScalar>(_ scaled: Tensor<Scalar>) throws -> Tensor<Scalar> {
    try mapped(scaled, operation: "FeatureScaling.invert", columns: "columns") {
      value, offset, scale in
      value * scale + offset
    }
  }

  /// `matrix` with `transform(x, offset, scale)` (in Double) applied to each element, by its
  /// column's statistics; `columns` names the columns in an error.
  private func mapped<Scalar: TensorScalar>(
    _ matrix: Tensor<Scalar>, operation: String, columns: String,
    _ transform: (Double, Double, Double) -> Double
  ) throws -> Tensor<Scalar> {
    guard matrix.rank == 2, matrix.shape[1] == featureCount else {
      throw BackpropError.shapeMismatch(
        operation: operation, shapes: [matrix.shape, [featureCount]],
        detail: "the scaling was fitted to \(featureCount) \(columns)")
    }
    var result = matrix
    result.withUnsafeMutableBufferPointer { buffer in
      for index in buffer.indices {
        let column = index % featureCount
        buffer[index] = Scalar(transform(Double(buffer[index]), offsets[column], scales[column]))
      }
    }
    return result
  }
}
