/// The mean squared error: the average of (y − t)² over all elements.
///
/// With ``Reduction/sum`` it is Σ(y − t)². The gradient with respect to y is 2(y − t)/n for the
/// mean, where n is the number of elements (as in PyTorch's `MSELoss` and `np.mean((y - t)**2)`).
public struct MeanSquaredError: Loss, SquaredErrorLoss {
  /// Whether the squared errors are averaged (default) or summed.
  public let reduction: Reduction

  /// Creates the loss.
  public init(reduction: Reduction = .mean) { self.reduction = reduction }

  /// The mean (or sum) of (prediction − target)².
  public func callAsFunction<Scalar: TensorScalar>(
    _ prediction: Variable<Scalar>, _ target: Tensor<Scalar>
  ) throws -> Variable<Scalar> {
    try requireSameShape(prediction, target)
    return try recorded(
      prediction, target: target, rows: sampleCount(prediction), operation: "meanSquaredError")
  }

  /// 1/n for the mean over all n elements, 1 for the sum.
  func scale(rows: Int, width: Int) -> Double {
    reduction == .mean ? 1 / Double(rows * width) : 1
  }

  /// For example `MeanSquaredError(reduction: mean)`.
  public var description: String { "MeanSquaredError(reduction: \(reduction))" }
}

/// Half the sum of squared errors, E = ½Σ(t − y)², as in Mazur's worked example and most
/// hand-written backprop: its gradient is simply y − t.
///
/// Per sample the squares are summed over the outputs; ``Reduction/sum`` (the default) then sums
/// over the samples, ``Reduction/mean`` averages over them.
public struct HalfSumOfSquares: Loss, SquaredErrorLoss {
  /// Whether the per-sample errors are summed (default) or averaged.
  public let reduction: Reduction

  /// Creates the loss.
  public init(reduction: Reduction = .sum) { self.reduction = reduction }

  /// ½Σ(target − prediction)², summed or averaged over samples.
  public func callAsFunction<Scalar: TensorScalar>(
    _ prediction: Variable<Scalar>, _ target: Tensor<Scalar>
  ) throws -> Variable<Scalar> {
    try requireSameShape(prediction, target)
    return try recorded(
      prediction, target: target, rows: sampleCount(prediction), operation: "halfSumOfSquares")
  }

  /// ½ for the sum, ½ over the number of samples for the mean.
  func scale(rows: Int, width: Int) -> Double {
    reduction == .sum ? 0.5 : 0.5 / Double(rows)
  }

  /// For example `HalfSumOfSquares(reduction: sum)`.
  public var description: String { "HalfSumOfSquares(reduction: \(reduction))" }
}

/// A loss whose row term is Σ(y − t)² over the row: its δ is 2s(y − t) for the scale s.
protocol SquaredErrorLoss: RowLoss {}

extension SquaredErrorLoss {
  /// Σ(y − t)² a row, δ = 2s(y − t).
  func rowTerms<Scalar: TensorScalar>(
    input: UnsafeMutablePointer<Scalar>, targets: UnsafePointer<Scalar>,
    delta: UnsafeMutablePointer<Scalar>, losses: UnsafeMutablePointer<Scalar>, rows: Int,
    width: Int, scale: Scalar
  ) {
    squaredErrorTerms(
      input: input, targets: targets, delta: delta, losses: losses, rows: rows, width: width,
      scale: scale)
  }
}

/// The row terms of a ``SquaredErrorLoss``.
@_specialize(where Scalar == Float)
@_specialize(where Scalar == Double)
private func squaredErrorTerms<Scalar: TensorScalar>(
  input: UnsafeMutablePointer<Scalar>, targets: UnsafePointer<Scalar>,
  delta: UnsafeMutablePointer<Scalar>, losses: UnsafeMutablePointer<Scalar>, rows: Int,
  width: Int, scale: Scalar
) {
  let factor = 2 * scale
  for row in 0..<rows {
    var sum: Scalar = 0
    for index in (row * width)..<((row + 1) * width) {
      let difference = input[index] - targets[index]
      delta[index] = factor * difference
      sum += difference * difference
    }
    losses[row] = sum
  }
}
