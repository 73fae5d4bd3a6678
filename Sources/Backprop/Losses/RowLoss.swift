/// A loss defined once, row by row: every row's term, and the derivative of the loss with
/// respect to its input (the fused δ), in one pass.
///
/// The graph records this computation as one operation (its pullback is the incoming gradient
/// times δ), and the fused training step calls it on its own buffers, so the two paths compute
/// the same numbers. The loss of a batch is `scale(rows:width:)` times the sum of the row terms
/// taken in row order.
protocol RowLoss: Loss {
  /// The activation of the model's last layer that the loss takes in as part of itself (the
  /// sigmoid of binary cross-entropy, computed in the stable logit form), or nil.
  var absorbedActivation: ElementwiseActivation? { get }

  /// Whether the loss's input must be logits, with no activation after the last `Linear`.
  var needsLogits: Bool { get }

  /// Checks that the loss can take these targets.
  ///
  /// - Throws: ``BackpropError/invalidArgument(name:detail:)`` naming the first it cannot.
  func checkTargets<Scalar: TensorScalar>(_ targets: Tensor<Scalar>) throws

  /// The factor s of the loss s·Σ terms over `rows` samples of `width` values each.
  func scale(rows: Int, width: Int) -> Double

  /// For `rows × width` inputs of the loss (logits, the net inputs of an absorbed activation, or
  /// predictions) and targets of that shape: `losses[row]` gets the row's term and `delta` gets
  /// `scale` times the derivative of the term with respect to each input. An absorbed
  /// activation is applied to `input` in place, so that it then holds the model's output.
  func rowTerms<Scalar: TensorScalar>(
    input: UnsafeMutablePointer<Scalar>, targets: UnsafePointer<Scalar>,
    delta: UnsafeMutablePointer<Scalar>, losses: UnsafeMutablePointer<Scalar>, rows: Int,
    width: Int, scale: Scalar)
}

extension RowLoss {
  /// No activation is taken in, unless the loss says otherwise.
  var absorbedActivation: ElementwiseActivation? { nil }

  /// Any input, unless the loss says it must be logits.
  var needsLogits: Bool { false }

  /// Checks that the loss can take these targets (any finite values, unless the loss says
  /// otherwise).
  func checkTargets<Scalar: TensorScalar>(_ targets: Tensor<Scalar>) throws {}

  /// The loss of a batch from its row terms: s·Σ terms, summed in row order.
  @inline(__always)
  static func total<Scalar: TensorScalar>(
    _ losses: UnsafePointer<Scalar>, rows: Int, scale: Scalar
  ) -> Scalar {
    var sum: Scalar = 0
    for row in 0..<rows { sum += losses[row] }
    // A perfect prediction's loss is 0, never −0.
    return scale * sum + 0
  }

  /// The loss of `input` against `target` (of the same shape, viewed as `rows` rows), recorded
  /// as one operation of the graph.
  ///
  /// - Throws: ``BackpropError/invalidArgument(name:detail:)`` for an empty batch.
  func recorded<Scalar: TensorScalar>(
    _ input: Variable<Scalar>, target: Tensor<Scalar>, rows: Int, operation: String,
    weighting: RowWeighting<Scalar>? = nil
  ) throws -> Variable<Scalar> {
    let count = input.value.count
    guard count > 0, rows > 0 else {
      throw BackpropError.invalidArgument(
        name: "batch for \(self)", detail: "the batch is empty (0 samples)")
    }
    let width = count / rows
    let scale = Scalar(scale(rows: rows, width: width))
    var (work, delta) = (input.value, input.value)
    var losses = [Scalar](repeating: 0, count: rows)
    let total = work.withUnsafeMutableBufferPointer { work in
      delta.withUnsafeMutableBufferPointer { delta in
        target.withUnsafeBufferPointer { target in
          losses.withUnsafeMutableBufferPointer { losses in
            guard let work = work.baseAddress, let delta = delta.baseAddress,
              let target = target.baseAddress, let losses = losses.baseAddress
            else { return Scalar.nan }
            rowTerms(
              input: work, targets: target, delta: delta, losses: losses, rows: rows,
              width: width, scale: scale)
            weighting?.apply(rows: 0..<rows, delta: delta, losses: losses, width: width)
            return Self.total(losses, rows: rows, scale: scale)
          }
        }
      }
    }
    let gradientOfInput = delta
    return Variable.record(Tensor(total), operation: operation, inputs: [input]) { gradient in
      let factor = gradient.scalar ?? 1
      return [factor == 1 ? gradientOfInput : gradientOfInput.map { $0 * factor }]
    }
  }
}

/// The sample weights of a batch, applied to the row terms and δ that a ``RowLoss`` has
/// computed: row r's term and δ are multiplied by w_r · n / Σw, so that the batch's loss is
/// Σ w_r·ℓ_r / Σ w (for a mean) and equal weights change nothing. Both training paths apply it
/// here, after the loss's own definition.
struct RowWeighting<Scalar: TensorScalar> {
  /// The batch's weights, one a row.
  let weights: UnsafePointer<Scalar>
  /// n / Σw over the batch.
  let factor: Scalar

  /// The weighting of `rows` rows with `weights`; `nil` when the batch's weights sum to 0
  /// (none of its samples counts, so its loss and gradient are 0).
  init(weights: UnsafePointer<Scalar>, rows: Int) {
    var sum = 0.0
    for row in 0..<rows { sum += Double(weights[row]) }
    self.weights = weights
    self.factor = sum > 0 ? Scalar(Double(rows) / sum) : 0
  }

  /// Weighs the terms and δ rows of `rows` (indices into the batch).
  func apply(
    rows: Range<Int>, delta: UnsafeMutablePointer<Scalar>, losses: UnsafeMutablePointer<Scalar>,
    width: Int
  ) {
    for row in rows {
      let weight = weights[row] * factor
      losses[row] *= weight
      for element in (row * width)..<((row + 1) * width) { delta[element] *= weight }
    }
  }
}
