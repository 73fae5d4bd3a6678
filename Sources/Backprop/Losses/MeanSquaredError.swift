/// The mean squared error: the average of (y − t)² over all elements.
///
/// With ``Reduction/sum`` it is Σ(y − t)². The gradient with respect to y is 2(y − t)/n for the
/// mean, where n is the number of elements (as in PyTorch's `MSELoss` and `np.mean((y - t)**2)`).
public struct MeanSquaredError: Loss {
  /// Whether the squared errors are averaged (default) or summed.
  public let reduction: Reduction

  /// Creates the loss.
  public init(reduction: Reduction = .mean) { self.reduction = reduction }

  /// The mean (or sum) of (prediction − target)².
  public func callAsFunction<Scalar: TensorScalar>(
    _ prediction: Variable<Scalar>, _ target: Tensor<Scalar>
  ) throws -> Variable<Scalar> {
    try requireSameShape(prediction, target)
    let squares = try (prediction - Variable(target)).squared()
    return reduction == .mean ? squares.mean() : squares.sum()
  }

  /// For example `MeanSquaredError(reduction: mean)`.
  public var description: String { "MeanSquaredError(reduction: \(reduction))" }
}

/// Half the sum of squared errors, E = ½Σ(t − y)², as in Mazur's worked example and most
/// hand-written backprop: its gradient is simply y − t.
///
/// Per sample the squares are summed over the outputs; ``Reduction/sum`` (the default) then sums
/// over the samples, ``Reduction/mean`` averages over them.
public struct HalfSumOfSquares: Loss {
  /// Whether the per-sample errors are summed (default) or averaged.
  public let reduction: Reduction

  /// Creates the loss.
  public init(reduction: Reduction = .sum) { self.reduction = reduction }

  /// ½Σ(target − prediction)², summed or averaged over samples.
  public func callAsFunction<Scalar: TensorScalar>(
    _ prediction: Variable<Scalar>, _ target: Tensor<Scalar>
  ) throws -> Variable<Scalar> {
    try requireSameShape(prediction, target)
    let half = try (prediction - Variable(target)).squared().sum() * 0.5
    return reduction == .sum ? half : half / Scalar(sampleCount(prediction))
  }

  /// For example `HalfSumOfSquares(reduction: sum)`.
  public var description: String { "HalfSumOfSquares(reduction: \(reduction))" }
}
