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
  /// Reduce on plateau, as PyTorch's `ReduceLROnPlateau`: whenever the monitored metric (the
  /// validation loss, or the training loss without validation data) has gone `patience` epochs
  /// without a relative improvement of 10⁻⁴ on its best, the rate is multiplied by `factor`, down
  /// to `minimum`, and the count starts again.
  case plateau(patience: Int, factor: Double, minimum: Double)

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
    case .plateau(let patience, let factor, let minimum):
      guard patience > 0, factor.isFinite, factor > 0, factor < 1, minimum.isFinite, minimum >= 0
      else {
        throw BackpropError.invalidArgument(
          name: "plateau schedule",
          detail:
            "patience \(patience) must be > 0, factor \(factor) in (0, 1) and minimum \(minimum) ≥ 0"
        )
      }
    }
  }

  /// The learning rate for `epoch` (from 1) given the initial rate and the monitored metric of
  /// the epochs before it (which only ``plateau(patience:factor:minimum:)`` reads). A function
  /// of the history, so that a resumed run continues the schedule where it stood.
  public func learningRate(epoch: Int, initial: Double, monitored: [Double] = []) -> Double {
    let elapsed = Double(max(epoch - 1, 0))
    switch self {
    case .constant: return initial
    case .step(let every, let factor):
      return initial * pow(factor, (elapsed / Double(every)).rounded(.down))
    case .exponential(let decay): return initial * pow(decay, elapsed)
    case .cosine(let epochs, let minimum):
      let progress = min(elapsed / Double(epochs), 1)
      return minimum + (initial - minimum) * (1 + cos(Double.pi * progress)) / 2
    case .plateau(let patience, let factor, let minimum):
      var (rate, best, waited) = (initial, Double.infinity, 0)
      for value in monitored.prefix(max(epoch - 1, 0)) {
        if value < best - 1e-4 * abs(best) || (best.isInfinite && value.isFinite) {
          (best, waited) = (value, 0)
        } else {
          waited += 1
        }
        if waited >= patience {
          (rate, waited) = (max(rate * factor, min(minimum, rate)), 0)
        }
      }
      return rate
    }
  }

  /// Whether the rate depends on the monitored metric's history (so that `fit` gathers it).
  var readsMonitoredMetric: Bool {
    if case .plateau = self { return true }
    return false
  }

  /// Parses `constant`, `step:EVERY:FACTOR`, `exponential:DECAY`, `cosine[:MINIMUM]` (the
  /// cosine runs over `epochs`) or `plateau[:PATIENCE[:FACTOR[:MINIMUM]]]` (PyTorch's defaults
  /// 10, 0.1 and 0), as the command line writes them.
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
    case ("plateau", 0...3):
      let values = numbers.compactMap { $0 }
      guard values.count == numbers.count,
        values.first.map({ $0 == $0.rounded() && $0 < 1e9 }) ?? true
      else {
        throw Self.parseError(text)
      }
      self = .plateau(
        patience: values.first.map { Int($0) } ?? 10, factor: values.count > 1 ? values[1] : 0.1,
        minimum: values.count > 2 ? values[2] : 0)
    default: throw Self.parseError(text)
    }
    try validate()
  }

  private static func parseError(_ text: String) -> BackpropError {
    .invalidArgument(
      name: "learning-rate schedule '\(text)'",
      detail:
        "write constant, step:EVERY:FACTOR, exponential:DECAY, cosine[:MINIMUM] or "
        + "plateau[:PATIENCE[:FACTOR[:MINIMUM]]]")
  }

  /// The schedule as ``init(parsing:epochs:)`` reads it.
  public var description: String {
    switch self {
    case .constant: "constant"
    case .step(let every, let factor): "step:\(every):\(factor)"
    case .exponential(let decay): "exponential:\(decay)"
    case .cosine(_, let minimum): minimum == 0 ? "cosine" : "cosine:\(minimum)"
    case .plateau(let patience, let factor, let minimum): "plateau:\(patience):\(factor):\(minimum)"
    }
  }
}
