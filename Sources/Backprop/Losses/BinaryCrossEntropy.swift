/// The binary cross-entropy: −[t·log p + (1 − t)·log(1 − p)] per element, with p the model's
/// output in (0, 1).
///
/// End the model with ``Sigmoid``: the loss then takes the sigmoid's input z (the logits) and
/// computes max(z, 0) − z·t + log(1 + e^−|z|), as PyTorch's `BCEWithLogitsLoss` does, with the
/// gradient (σ(z) − t)/n with respect to z. That form is exact for any z: a saturated sigmoid
/// still gets the full gradient. The graph, the fused training step and the inspection tools
/// all compute it so.
///
/// A prediction that was not made by a sigmoid is taken as probabilities, as PyTorch's
/// `BCELoss` takes them: each logarithm is bounded below by −100 and the gradient
/// (p − t)/(p(1 − p)) has its denominator bounded below by 10⁻¹². Targets must lie in [0, 1].
public struct BinaryCrossEntropy: Loss, RowLoss {
  /// Whether the terms are averaged over all elements (default) or summed.
  public let reduction: Reduction

  /// Creates the loss.
  public init(reduction: Reduction = .mean) { self.reduction = reduction }

  /// The binary cross-entropy of `prediction` against `target`: in the logit form when the
  /// prediction is a sigmoid's output, of probabilities otherwise.
  public func callAsFunction<Scalar: TensorScalar>(
    _ prediction: Variable<Scalar>, _ target: Tensor<Scalar>
  ) throws -> Variable<Scalar> {
    try requireSameShape(prediction, target)
    try checkTargets(target)
    let rows = sampleCount(prediction)
    if prediction.operation == ElementwiseActivation.sigmoid.operation,
      let logits = prediction.inputs.first
    {
      return try recorded(logits, target: target, rows: rows, operation: "binaryCrossEntropy")
    }
    return try probabilityForm(prediction, target)
  }

  /// Targets must lie in [0, 1].
  func checkTargets<Scalar: TensorScalar>(_ targets: Tensor<Scalar>) throws {
    try targets.withUnsafeBufferPointer { values in
      if let bad = values.firstIndex(where: { !($0 >= 0 && $0 <= 1) }) {
        throw BackpropError.invalidArgument(
          name: "target for \(self)", detail: "element \(bad) is \(values[bad]), not in [0, 1]")
      }
    }
  }

  /// σ, taken into the loss.
  var absorbedActivation: ElementwiseActivation? { .sigmoid }

  /// 1/n for the mean over all n elements, 1 for the sum.
  func scale(rows: Int, width: Int) -> Double {
    reduction == .mean ? 1 / Double(rows * width) : 1
  }

  /// max(z, 0) − z·t + log(1 + e^−|z|) summed over a row, δ = s·(σ(z) − t), and σ(z) in place
  /// of z.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  func rowTerms<Scalar: TensorScalar>(
    input: UnsafeMutablePointer<Scalar>, targets: UnsafePointer<Scalar>,
    delta: UnsafeMutablePointer<Scalar>, losses: UnsafeMutablePointer<Scalar>, rows: Int,
    width: Int, scale: Scalar
  ) {
    let count = rows * width
    for row in 0..<rows {
      var sum: Scalar = 0
      for index in (row * width)..<((row + 1) * width) {
        let (z, t) = (input[index], targets[index])
        sum += max(z, 0) - z * t + Scalar.log1p(Scalar.exp(-abs(z)))
      }
      losses[row] = sum
    }
    ElementwiseActivation.sigmoid.apply(input, rows: 1, width: count, bias: nil)
    for index in 0..<count { delta[index] = scale * (input[index] - targets[index]) }
  }

  /// PyTorch's `BCELoss` of probabilities, for predictions that no sigmoid made.
  private func probabilityForm<Scalar: TensorScalar>(
    _ prediction: Variable<Scalar>, _ targets: Tensor<Scalar>
  ) throws -> Variable<Scalar> {
    let probabilities = prediction.value
    if let bad = probabilities.scalars.firstIndex(where: { !($0 >= 0 && $0 <= 1) }) {
      throw BackpropError.invalidArgument(
        name: "prediction for \(self)",
        detail: "element \(bad) is \(probabilities.scalars[bad]), not a probability in [0, 1] "
          + "(end the model with Sigmoid)")
    }
    guard probabilities.count > 0 else {
      throw BackpropError.invalidArgument(
        name: "batch for \(self)", detail: "the batch is empty (0 samples)")
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
