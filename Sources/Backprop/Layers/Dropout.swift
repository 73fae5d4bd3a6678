/// Whether layers run in training mode: ``Dropout`` drops units only while it is on.
///
/// ``Layer/fit(_:validation:loss:optimizer:configuration:callbacks:)`` switches it on for its
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
  private var generator: RandomGenerator

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
    guard TrainingMode.isTraining, rate > 0 else { return input }
    let keep = Scalar(1 / (1 - rate))
    let mask = Tensor<Scalar>(validShape: input.shape) { buffer in
      for index in buffer.indices {
        buffer[index] = generator.nextDouble() < rate ? 0 : keep
      }
    }
    return try input * Variable(mask)
  }

  /// A copy with a fresh generator from the same seed.
  public func converted<Other: TensorScalar>(to type: Other.Type) -> any Layer<Other> {
    // The rate was validated when this layer was made.
    (try? Dropout<Other>(rate: rate, seed: seed)) ?? Identity<Other>()
  }

  /// `Dropout(rate: …)`.
  public var description: String { "Dropout(rate: \(rate))" }
}
