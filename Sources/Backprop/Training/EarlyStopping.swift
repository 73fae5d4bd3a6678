/// Stops training when a monitored quantity has not improved for `patience` epochs, and puts
/// back the weights of the best epoch.
///
/// The monitored quantity is `val_loss` when there are validation data and `loss` otherwise,
/// unless ``monitor`` names another history column; lower is better for losses and errors,
/// higher for accuracy. An epoch improves on the best when it beats it by more than `minimumDelta`.
public struct EarlyStopping: Sendable, Equatable, Codable {
  /// Epochs without improvement that end training.
  public var patience: Int
  /// The smallest change that counts as an improvement.
  public var minimumDelta: Double
  /// The history column to watch; `nil` picks `val_loss`, or `loss` without validation data.
  public var monitor: String?
  /// Whether to restore the best epoch's weights when training ends, early or not.
  public var restoresBestWeights: Bool

  /// Creates an early-stopping rule.
  ///
  /// - Throws: ``BackpropError/invalidArgument(name:detail:)`` for a negative patience or delta.
  public init(
    patience: Int, minimumDelta: Double = 0, monitor: String? = nil,
    restoresBestWeights: Bool = true
  ) throws {
    guard patience >= 0, minimumDelta.isFinite, minimumDelta >= 0 else {
      throw BackpropError.invalidArgument(
        name: "early stopping",
        detail: "patience \(patience) and minimum delta \(minimumDelta) must be ≥ 0")
    }
    self.patience = patience
    self.minimumDelta = minimumDelta
    self.monitor = monitor
    self.restoresBestWeights = restoresBestWeights
  }

  /// Whether larger values of `metric` are better.
  static func higherIsBetter(_ metric: String) -> Bool { metric.hasSuffix("accuracy") }
}
