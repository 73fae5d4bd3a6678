import Foundation

/// An input of the playground's network computed from the data's one or two features, as
/// TensorFlow Playground offers them: the features themselves, their squares, their product and
/// their sines.
public enum PlaygroundFeature: String, Sendable, Codable, CaseIterable {
  /// The first feature.
  case x1
  /// The second feature.
  case x2
  /// The first feature squared.
  case x1Squared = "x1sq"
  /// The second feature squared.
  case x2Squared = "x2sq"
  /// The product of the two features.
  case product = "x1x2"
  /// The sine of the first feature.
  case sine1 = "sinx1"
  /// The sine of the second feature.
  case sine2 = "sinx2"

  /// The name in pictures: `x₁`, `x₁²`, `x₁x₂`, `sin x₁`.
  public var label: String {
    switch self {
    case .x1: "x₁"
    case .x2: "x₂"
    case .x1Squared: "x₁²"
    case .x2Squared: "x₂²"
    case .product: "x₁x₂"
    case .sine1: "sin x₁"
    case .sine2: "sin x₂"
    }
  }

  /// The name of the column it makes from features named `featureNames` (`x0`, `x0^2`,
  /// `x0*x1`, `sin(x0)`), as a model file's feature names hold it.
  func columnName(featureNames: [String]) -> String {
    let first = featureNames.first ?? "x1"
    let second = featureNames.count > 1 ? featureNames[1] : "x2"
    return switch self {
    case .x1: first
    case .x2: second
    case .x1Squared: first + "^2"
    case .x2Squared: second + "^2"
    case .product: first + "*" + second
    case .sine1: "sin(\(first))"
    case .sine2: "sin(\(second))"
    }
  }

  /// Whether it reads the second feature, which 1-D data lack.
  var needsSecondFeature: Bool { [.x2, .x2Squared, .product, .sine2].contains(self) }

  /// Its value at the point (x₁, x₂).
  func value(_ x1: Double, _ x2: Double) -> Double {
    switch self {
    case .x1: x1
    case .x2: x2
    case .x1Squared: x1 * x1
    case .x2Squared: x2 * x2
    case .product: x1 * x2
    case .sine1: sin(x1)
    case .sine2: sin(x2)
    }
  }

  /// The features of `rows` (`[n, 1]` or `[n, 2]`) as the columns of `features`, in order.
  static func expand(_ rows: [Double], width: Int, into features: [PlaygroundFeature]) -> [Double] {
    var output: [Double] = []
    output.reserveCapacity(rows.count / max(width, 1) * features.count)
    for start in stride(from: 0, to: rows.count, by: max(width, 1)) {
      let x1 = rows[start]
      let x2 = width > 1 ? rows[start + 1] : 0
      for feature in features { output.append(feature.value(x1, x2)) }
    }
    return output
  }
}
