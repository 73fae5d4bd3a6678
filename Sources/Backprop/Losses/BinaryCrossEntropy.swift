/// The binary cross-entropy of probabilities: −[t·log p + (1 − t)·log(1 − p)] per element.
///
/// The prediction must be probabilities (end the model with ``Sigmoid``); targets must lie in
/// [0, 1]. As in PyTorch's `BCELoss`, each logarithm is bounded below by −100, so a prediction of
/// exactly 0 or 1 gives a large but finite loss, and the gradient (p − t) / (p(1 − p)) is computed
/// with the denominator bounded below by 10⁻¹², so it never divides by zero. This is a fused
/// kernel: its pullback sits beside its forward pass and the gradient checks cover it.
public struct BinaryCrossEntropy: Loss {
  /// Whether the terms are averaged over all elements (default) or summed.
  public let reduction: Reduction

  /// Creates the loss.
  public init(reduction: Reduction = .mean) { self.reduction = reduction }

  /// The binary cross-entropy of `prediction` (probabilities) against `target`.
  public func callAsFunction<Scalar: TensorScalar>(
    _ prediction: Variable<Scalar>, _ target: Tensor<Scalar>
  ) throws -> Variable<Scalar> {
    try requireSameShape(prediction, target)
    let (probabilities, targets) = (prediction.value, target)
    if let bad = probabilities.scalars.firstIndex(where: { !($0 >= 0 && $0 <= 1) }) {
      throw BackpropError.invalidArgument(
        name: "prediction for \(self)",
        detail: "element \(bad) is \(probabilities.scalars[bad]), not a probability in [0, 1] "
          + "(end the model with Sigmoid)")
    }
    if let bad = targets.scalars.firstIndex(where: { !($0 >= 0 && $0 <= 1) }) {
      throw BackpropError.invalidArgument(
        name: "target for \(self)",
        detail: "element \(bad) is \(targets.scalars[bad]), not in [0, 1]")
    }
    let terms = Tensor.zipElements(probabilities, targets) { p, t in
      -(t * Swift.max(Scalar.log(p), -100) + (1 - t) * Swift.max(Scalar.log(1 - p), -100))
    }
    let elementwise = Variable.record(
      terms, operation: "binaryCrossEntropy", inputs: [prediction]
    ) { gradient in
      let local = Tensor.zipElements(probabilities, targets) { p, t in
        (p - t) / Swift.max(p * (1 - p), 1e-12)
      }
      return [Tensor.zipElements(gradient, local, *)]
    }
    return reduction == .mean ? elementwise.mean() : elementwise.sum()
  }

  /// For example `BinaryCrossEntropy(reduction: mean)`.
  public var description: String { "BinaryCrossEntropy(reduction: \(reduction))" }
}
