/// The cross-entropy of the softmax of logits: −Σ_c t_c · log softmax(z)_c per sample.
///
/// The model ends with logits (a ``Linear`` layer, no ``Softmax``); the loss applies the softmax
/// itself through the stable log-softmax, so logits of ±1000 give finite losses and gradients. Its
/// gradient with respect to the logits is softmax(z) − t per sample (divided by the batch size for
/// the mean), the form every hand-written softmax classifier ends up with.
///
/// Targets are either one-hot (or probability) rows of the logits' shape, or class indices: a
/// tensor of shape `[batchSize]` holding whole numbers in `0..<classCount`.
public struct SoftmaxCrossEntropy: Loss {
  /// Whether the per-sample losses are averaged (default) or summed.
  public let reduction: Reduction

  /// Creates the loss.
  public init(reduction: Reduction = .mean) { self.reduction = reduction }

  /// The cross-entropy of `logits` (shape `[batchSize, classCount]` or `[classCount]`) against
  /// one-hot rows or class indices.
  public func callAsFunction<Scalar: TensorScalar>(
    _ logits: Variable<Scalar>, _ target: Tensor<Scalar>
  ) throws -> Variable<Scalar> {
    guard (1...2).contains(logits.value.rank), let classCount = logits.shape.last, classCount > 0
    else {
      throw BackpropError.shapeMismatch(
        operation: "\(self)", shapes: [logits.shape, target.shape],
        detail: "the logits must have shape [batchSize, classCount] or [classCount]")
    }
    let oneHot: Tensor<Scalar>
    if target.shape == logits.shape {
      oneHot = target
    } else if logits.value.rank == 2, target.shape == [logits.shape[0]] {
      oneHot = try Tensor.oneHot(
        classIndices: try classIndices(target, classCount: classCount), classCount: classCount)
    } else {
      throw BackpropError.shapeMismatch(
        operation: "\(self)", shapes: [logits.shape, target.shape],
        detail: "the target must be one-hot rows of the logits' shape or [batchSize] class indices")
    }
    let perSample = -(try logits.logSoftmax(alongAxis: -1) * Variable(oneHot)).sum()
    return reduction == .sum ? perSample : perSample / Scalar(sampleCount(logits))
  }

  /// The class indices held in a tensor, checked to be whole numbers in range.
  private func classIndices<Scalar: TensorScalar>(_ target: Tensor<Scalar>, classCount: Int) throws
    -> [Int]
  {
    try target.scalars.enumerated().map { row, value in
      guard value == value.rounded(), value >= 0, value < Scalar(classCount) else {
        throw BackpropError.invalidArgument(
          name: "class index \(value) in row \(row) for \(self)",
          detail: "class indices are whole numbers in 0..<\(classCount)")
      }
      return Int(value)
    }
  }

  /// For example `SoftmaxCrossEntropy(reduction: mean)`.
  public var description: String { "SoftmaxCrossEntropy(reduction: \(reduction))" }
}
