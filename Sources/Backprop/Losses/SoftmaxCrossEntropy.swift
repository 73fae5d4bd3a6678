/// The cross-entropy of the softmax of logits: −Σ_c t_c · log softmax(z)_c per sample.
///
/// The model ends with logits (a ``Linear`` layer, no ``Softmax``); the loss applies the softmax
/// itself, as (Σt)·log Σ e^(z − max z) − Σ t·(z − max z), so logits of ±1000 give finite losses
/// and gradients. Its gradient with respect to the logits is p·Σt − t per sample (p = softmax(z);
/// p − t for one-hot rows, the form every hand-written softmax classifier ends up with), divided
/// by the batch size for the mean. This is a fused kernel, one definition for the graph and the
/// fused training step; the gradient checks cover it.
///
/// Targets are either one-hot (or probability, or any non-negative) rows of the logits' shape, or
/// class indices: a tensor of shape `[batchSize]` holding whole numbers in `0..<classCount`.
public struct SoftmaxCrossEntropy: Loss, RowLoss {
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
    return try recorded(
      logits, target: oneHot, rows: sampleCount(logits), operation: "softmaxCrossEntropy")
  }

  /// The loss's input is logits.
  var needsLogits: Bool { true }

  /// 1 over the number of samples for the mean, 1 for the sum.
  func scale(rows: Int, width: Int) -> Double { reduction == .mean ? 1 / Double(rows) : 1 }

  /// −Σ t·log softmax(z) a row, δ = s·(p·Σt − t); the logits are left unchanged.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  func rowTerms<Scalar: TensorScalar>(
    input: UnsafeMutablePointer<Scalar>, targets: UnsafePointer<Scalar>,
    delta: UnsafeMutablePointer<Scalar>, losses: UnsafeMutablePointer<Scalar>, rows: Int,
    width: Int, scale: Scalar
  ) {
    if Scalar.self == Float.self {
      Kernels.softmaxCrossEntropy(
        concrete(UnsafePointer(input), as: Float.self), targets: concrete(targets, as: Float.self),
        delta: concrete(delta, as: Float.self), losses: concrete(losses, as: Float.self),
        rows: rows, width: width, scale: Float(scale))
      return
    }
    for row in 0..<rows {
      let (z, t, d) = (input + row * width, targets + row * width, delta + row * width)
      var top = z[0]
      for column in 1..<max(width, 1) { top = max(top, z[column]) }
      // −Σ t·log p = −Σ t·(z − top) + (Σ t)·log Σ exp(z − top), without taking log of a p.
      var (weighted, mass, sum): (Scalar, Scalar, Scalar) = (0, 0, 0)
      for column in 0..<width {
        let shifted = z[column] - top
        weighted += t[column] * shifted
        mass += t[column]
        d[column] = Scalar.exp(shifted)
        sum += d[column]
      }
      losses[row] = mass * Scalar.log(sum) - weighted
      for column in 0..<width { d[column] = (d[column] / sum * mass - t[column]) * scale }
    }
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
