/// The losses by the names that model files, spec files and the command line use.
///
/// A `LossFunction` is itself a ``Loss``, the one it names, so the same value serves
/// ``Layer/fit(_:validation:loss:optimizer:configuration:callbacks:reducer:)`` and ``Model``:
/// `fit(data, loss: LossFunction.crossEntropy, …)`.
public enum LossFunction: String, Sendable, Codable, CaseIterable, Loss {
  /// ``SoftmaxCrossEntropy`` on logits, mean over samples.
  case crossEntropy = "cross-entropy"
  /// ``BinaryCrossEntropy`` on probabilities, mean over elements.
  case binaryCrossEntropy = "binary-cross-entropy"
  /// ``MeanSquaredError``, mean over elements.
  case meanSquaredError = "mse"
  /// ``HalfSumOfSquares``, summed over the batch (the loss of the worked examples).
  case halfSumOfSquares = "half-sum-of-squares"

  /// The loss for a kind of target when none is named: cross-entropy for classes, MSE for
  /// values. The CLI, the playground and ``Model``'s perceptron all choose by it.
  public static func suited(to kind: TargetKind) -> LossFunction {
    kind.classNames == nil ? .meanSquaredError : .crossEntropy
  }

  /// Whether the loss compares classes (so the targets are classes and accuracy applies).
  public var isClassification: Bool { self == .crossEntropy || self == .binaryCrossEntropy }

  /// The loss itself.
  public var loss: any Loss {
    switch self {
    case .crossEntropy: SoftmaxCrossEntropy()
    case .binaryCrossEntropy: BinaryCrossEntropy()
    case .meanSquaredError: MeanSquaredError()
    case .halfSumOfSquares: HalfSumOfSquares()
    }
  }

  /// Reads a name, accepting the common aliases `ce`, `bce`, `mean-squared-error`.
  ///
  /// - Throws: ``BackpropError/invalidArgument(name:detail:)`` listing the names for any other.
  public init(named name: String) throws {
    let aliases: [String: LossFunction] = [
      "ce": .crossEntropy, "softmax-cross-entropy": .crossEntropy, "bce": .binaryCrossEntropy,
      "mean-squared-error": .meanSquaredError,
    ]
    guard let loss = LossFunction(rawValue: name.lowercased()) ?? aliases[name.lowercased()] else {
      throw BackpropError.invalidArgument(
        name: "loss '\(name)'",
        detail: "choose one of \(Self.allCases.map(\.rawValue).joined(separator: ", "))")
    }
    self = loss
  }

  /// The named loss's reduction.
  public var reduction: Reduction { loss.reduction }

  /// The named loss of `prediction` against `target`.
  public func callAsFunction<Scalar: TensorScalar>(
    _ prediction: Variable<Scalar>, _ target: Tensor<Scalar>
  ) throws -> Variable<Scalar> {
    try loss(prediction, target)
  }

  /// The named loss's description, such as `SoftmaxCrossEntropy(reduction: mean)`.
  public var description: String { loss.description }
}
