/// Whether layers run in training mode: ``Dropout`` drops units only while it is on.
///
/// ``Layer/fit(_:validation:loss:optimizer:configuration:callbacks:reducer:)`` switches it on for its
/// training passes and off for validation; everything else (prediction, evaluation, gradient
/// checks) runs in inference mode, the default. The setting is task-local.
public enum TrainingMode {
  /// Whether the current task is training.
  @TaskLocal public static var isTraining = false

  /// Runs `body` in training mode.
  public static func training<Result>(_ body: () throws -> Result) rethrows -> Result {
    try $isTraining.withValue(true, operation: body)
  }
}

/// Inverted dropout: in training mode each input is zeroed with probability `rate` and the
/// survivors are scaled by 1 / (1 − rate), so that inference (which passes inputs through
/// unchanged) sees the same expected values.
///
/// The masks come from the layer's own generator, seeded at creation, so a seeded run drops
/// the same units every time. The gradient flows through the kept units only, scaled the same way.
public final class Dropout<Scalar: TensorScalar>: Layer {
  /// The probability of dropping each input, in [0, 1).
  public let rate: Double
  /// The seed the mask generator started from.
  public let seed: UInt64
  /// The generator of the masks, where it stands; a resumed run puts it back.
  var generator: RandomGenerator

  /// Creates a dropout layer.
  ///
  /// - Throws: ``BackpropError/invalidArgument(name:detail:)`` unless 0 ≤ `rate` < 1.
  public init(rate: Double, seed: UInt64 = 0) throws {
    guard rate >= 0, rate < 1 else {
      throw BackpropError.invalidArgument(name: "dropout rate", detail: "\(rate) must be in [0, 1)")
    }
    self.rate = rate
    self.seed = seed
    self.generator = RandomGenerator(seed: seed)
  }

  /// Drops inputs in training mode; passes them through otherwise.
  public func callAsFunction(_ input: Variable<Scalar>) throws -> Variable<Scalar> {
    guard isActive else { return input }
    let mask = Tensor<Scalar>(validShape: input.shape) { buffer in
      guard let base = buffer.baseAddress else { return }
      drawMask(into: base, count: buffer.count)
    }
    return try input * Variable(mask)
  }

  /// Whether the layer drops anything now: in training mode, with a rate above 0.
  var isActive: Bool { TrainingMode.isTraining && rate > 0 }

  /// The next `count` mask values, in order: 0 with probability `rate`, 1/(1 − rate) otherwise.
  /// The graph and the fused training step both draw their masks here, so a seed drops the same
  /// units on either path.
  func drawMask(into mask: UnsafeMutablePointer<Scalar>, count: Int) {
    let keep = Scalar(1 / (1 - rate))
    for index in 0..<count { mask[index] = generator.nextDouble() < rate ? 0 : keep }
  }

  /// A copy with a fresh generator from the same seed.
  public func converted<Other: TensorScalar>(to type: Other.Type) -> any Layer<Other> {
    // The rate was validated when this layer was made.
    (try? Dropout<Other>(rate: rate, seed: seed)) ?? Identity<Other>()
  }

  /// `Dropout(rate: …)`.
  public var description: String { "Dropout(rate: \(rate))" }
}
