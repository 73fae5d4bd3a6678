import Foundation

/// How the learning rate changes from epoch to epoch, starting from the optimizer's rate η₀.
/// Epochs count from 1; epoch 1 always uses η₀.
public enum LearningRateSchedule: Sendable, Equatable, Codable, CustomStringConvertible {
  /// η₀ throughout.
  case constant
  /// η₀ · factor^⌊(epoch − 1) / every⌋: multiplied by `factor` every `every` epochs.
  case step(every: Int, factor: Double)
  /// η₀ · decay^(epoch − 1).
  case exponential(decay: Double)
  /// Cosine annealing from η₀ down to `minimum` over `epochs` epochs, then `minimum`:
  /// minimum + (η₀ − minimum) · (1 + cos(π · (epoch − 1) / epochs)) / 2.
  case cosine(epochs: Int, minimum: Double)

  /// Checks the schedule's parameters.
  ///
  /// - Throws: ``BackpropError/invalidArgument(name:detail:)`` naming the bad parameter.
  public func validate() throws {
    switch self {
    case .constant: return
    case .step(let every, let factor):
      guard every > 0, factor.isFinite, factor > 0 else {
        throw BackpropError.invalidArgument(
          name: "step schedule", detail: "every \(every) must be > 0 and factor \(factor) > 0")
      }
    case .exponential(let decay):
      guard decay.isFinite, decay > 0 else {
        throw BackpropError.invalidArgument(
          name: "exponential schedule", detail: "decay \(decay) must be > 0")
      }
    case .cosine(let epochs, let minimum):
      guard epochs > 0, minimum.isFinite, minimum >= 0 else {
        throw BackpropError.invalidArgument(
          name: "cosine schedule", detail: "epochs \(epochs) must be > 0 and minimum \(minimum) ≥ 0"
        )
      }
    }
  }

  /// The learning rate for `epoch` (from 1) given the initial rate.
  public func learningRate(epoch: Int, initial: Double) -> Double {
    let elapsed = Double(max(epoch - 1, 0))
    switch self {
    case .constant: return initial
    case .step(let every, let factor):
      return initial * pow(factor, (elapsed / Double(every)).rounded(.down))
    case .exponential(let decay): return initial * pow(decay, elapsed)
    case .cosine(let epochs, let minimum):
      let progress = min(elapsed / Double(epochs), 1)
      return minimum + (initial - minimum) * (1 + cos(Double.pi * progress)) / 2
    }
  }

  /// Parses `constant`, `step:EVERY:FACTOR`, `exponential:DECAY` or `cosine[:MINIMUM]` (the
  /// cosine runs over `epochs`), as the command line writes them.
  ///
  /// - Throws: ``BackpropError/invalidArgument(name:detail:)`` for any other text.
  public init(parsing text: String, epochs: Int) throws {
    let parts = text.split(separator: ":").map(String.init)
    let numbers = parts.dropFirst().map { Double($0) }
    switch (parts.first, numbers.count) {
    case ("constant", 0): self = .constant
    case ("step", 2):
      guard let every = numbers[0], let factor = numbers[1], every == every.rounded(),
        abs(every) < 1e9
      else {
        throw Self.parseError(text)
      }
      self = .step(every: Int(every), factor: factor)
    case ("exponential", 1):
      guard let decay = numbers[0] else { throw Self.parseError(text) }
      self = .exponential(decay: decay)
    case ("cosine", 0): self = .cosine(epochs: epochs, minimum: 0)
    case ("cosine", 1):
      guard let minimum = numbers[0] else { throw Self.parseError(text) }
      self = .cosine(epochs: epochs, minimum: minimum)
    default: throw Self.parseError(text)
    }
    try validate()
  }

  private static func parseError(_ text: String) -> BackpropError {
    .invalidArgument(
      name: "learning-rate schedule '\(text)'",
      detail: "write constant, step:EVERY:FACTOR, exponential:DECAY or cosine[:MINIMUM]")
  }

  /// The schedule as ``init(parsing:epochs:)`` reads it.
  public var description: String {
    switch self {
    case .constant: "constant"
    case .step(let every, let factor): "step:\(every):\(factor)"
    case .exponential(let decay): "exponential:\(decay)"
    case .cosine(_, let minimum): minimum == 0 ? "cosine" : "cosine:\(minimum)"
    }
  }
}
