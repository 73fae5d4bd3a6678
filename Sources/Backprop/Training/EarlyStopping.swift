/// Stops training when a monitored quantity has not improved for `patience` epochs, and puts
/// back the weights of the best epoch.
///
/// The monitored quantity is `val_loss` when there are validation data and `loss` otherwise,
/// unless ``monitor`` names another history column; lower is better for losses and errors,
/// higher for accuracy and R². An epoch improves on the best when it beats it by more than
/// `minimumDelta` and by more than `minimumRelativeDelta` times the best's magnitude.
///
/// ``convergence`` is scikit-learn's rule for its MLPs (`n_iter_no_change=10`, `tol=1e-4`, on
/// the training loss, keeping the last weights), taken relative to the loss.
public struct EarlyStopping: Sendable, Equatable, Codable {
  /// Epochs without improvement that end training.
  public var patience: Int
  /// The smallest change that counts as an improvement.
  public var minimumDelta: Double
  /// The smallest change, as a fraction of the best value's magnitude, that counts as an
  /// improvement.
  public var minimumRelativeDelta: Double
  /// The history column to watch; `nil` picks `val_loss`, or `loss` without validation data.
  public var monitor: String?
  /// Whether to restore the best epoch's weights when training ends, early or not.
  public var restoresBestWeights: Bool

  /// Creates an early-stopping rule.
  ///
  /// - Throws: ``BackpropError/invalidArgument(name:detail:)`` for a negative patience or delta.
  public init(
    patience: Int, minimumDelta: Double = 0, minimumRelativeDelta: Double = 0,
    monitor: String? = nil, restoresBestWeights: Bool = true
  ) throws {
    guard patience >= 0, minimumDelta.isFinite, minimumDelta >= 0,
      minimumRelativeDelta.isFinite, minimumRelativeDelta >= 0
    else {
      throw BackpropError.invalidArgument(
        name: "early stopping",
        detail:
          "patience \(patience), minimum delta \(minimumDelta) and minimum relative delta "
          + "\(minimumRelativeDelta) must be ≥ 0")
    }
    self.patience = patience
    self.minimumDelta = minimumDelta
    self.minimumRelativeDelta = minimumRelativeDelta
    self.monitor = monitor
    self.restoresBestWeights = restoresBestWeights
  }

  /// Training until the training loss has not improved by a relative 10⁻⁴ for 10 epochs, keeping
  /// the last weights: scikit-learn's default stopping rule for its MLPs.
  public static let convergence = EarlyStopping(
    validPatience: 10, minimumRelativeDelta: 1e-4, monitor: "loss", restoresBestWeights: false)

  /// The most epochs that training under ``convergence`` runs when no epoch count is given, as
  /// scikit-learn's `max_iter=200`.
  public static let convergenceEpochLimit = 200

  /// No patience needed: only what counts as the best epoch, any improvement at all.
  static let exact = EarlyStopping(
    validPatience: 0, minimumRelativeDelta: 0, monitor: "loss", restoresBestWeights: false)

  private init(
    validPatience patience: Int, minimumRelativeDelta: Double, monitor: String,
    restoresBestWeights: Bool
  ) {
    self.patience = patience
    self.minimumDelta = 0
    self.minimumRelativeDelta = minimumRelativeDelta
    self.monitor = monitor
    self.restoresBestWeights = restoresBestWeights
  }

  /// Whether `value` improves on `best`, by this rule's margins, for a metric where
  /// `higherIsBetter`.
  func improves(_ value: Double, on best: Double, higherIsBetter: Bool) -> Bool {
    let margin = max(minimumDelta, minimumRelativeDelta * abs(best))
    return higherIsBetter ? value > best + margin : value < best - margin
  }

  /// Whether larger values of `metric` are better.
  static func higherIsBetter(_ metric: String) -> Bool {
    metric.hasSuffix("accuracy") || metric.hasSuffix("r2")
  }
}
