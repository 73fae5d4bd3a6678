import Foundation

/// The settings of ``Layer/fit(_:validation:loss:optimizer:configuration:callbacks:)`` besides
/// the data, loss and optimizer.
public struct FitConfiguration: Sendable, Equatable {
  /// The number of passes over the training data.
  public var epochs: Int
  /// Samples per gradient step (the last batch of an epoch may be smaller).
  public var batchSize: Int
  /// Whether each epoch visits the samples in a new order drawn from ``seed``.
  public var shuffle: Bool
  /// The seed of the shuffling order.
  public var seed: UInt64
  /// How the learning rate changes from epoch to epoch.
  public var schedule: LearningRateSchedule
  /// When to stop before ``epochs``, and whether to restore the best weights.
  public var earlyStopping: EarlyStopping?

  /// Creates a configuration; the defaults are Keras': 32 samples a batch, shuffled.
  public init(
    epochs: Int = 10, batchSize: Int = 32, shuffle: Bool = true, seed: UInt64 = 0,
    schedule: LearningRateSchedule = .constant, earlyStopping: EarlyStopping? = nil
  ) {
    self.epochs = epochs
    self.batchSize = batchSize
    self.shuffle = shuffle
    self.seed = seed
    self.schedule = schedule
    self.earlyStopping = earlyStopping
  }

  func validate() throws {
    guard (1...10_000_000).contains(epochs) else {
      throw BackpropError.invalidArgument(
        name: "epochs", detail: "\(epochs) must be in 1...10000000")
    }
    guard batchSize > 0 else {
      throw BackpropError.invalidArgument(
        name: "batch size", detail: "\(batchSize) must be positive")
    }
    try schedule.validate()
  }
}

/// Where training stands after a batch, for a progress display.
public struct BatchProgress: Sendable {
  /// The epoch, from 1.
  public let epoch: Int
  /// The number of epochs asked for.
  public let epochs: Int
  /// The batch within the epoch, from 1.
  public let batch: Int
  /// The number of batches per epoch.
  public let batchCount: Int
  /// Samples trained on so far in this epoch.
  public let samplesSeen: Int
  /// This batch's loss.
  public let loss: Double
  /// The mean loss of this epoch's batches so far.
  public let epochLoss: Double
}

/// An epoch's results, as appended to the history.
public struct EpochSummary: Sendable {
  /// The epoch, from 1.
  public let epoch: Int
  /// The number of epochs asked for.
  public let epochs: Int
  /// The metrics in history-column order (`loss`, …, `val_loss`, …, `learning_rate`).
  public let metrics: [(name: String, value: Double)]
  /// Whether this epoch is the best so far for early stopping.
  public let isBest: Bool
}

/// What a callback wants next.
public enum CallbackDecision: Sendable {
  /// Go on training.
  case proceed
  /// Stop after this epoch.
  case stop
}

/// Code that runs during training: after every batch and after every epoch.
public struct TrainingCallbacks {
  /// Called after each batch's update.
  public var afterBatch: ((BatchProgress) -> Void)?
  /// Called after each epoch's metrics are recorded; return ``CallbackDecision/stop`` to end.
  public var afterEpoch: ((EpochSummary) -> CallbackDecision)?

  /// Creates callbacks; either may be `nil`.
  public init(
    afterBatch: ((BatchProgress) -> Void)? = nil,
    afterEpoch: ((EpochSummary) -> CallbackDecision)? = nil
  ) {
    self.afterBatch = afterBatch
    self.afterEpoch = afterEpoch
  }
}

extension Layer {
  /// Trains the model on `data` by mini-batch gradient descent, as Keras' `fit`.
  ///
  /// Each epoch sets the scheduled learning rate, visits the batches (shuffled by the
  /// configuration's seed) in training mode (``Dropout`` active), then records in the history
  /// the mean training loss and metrics measured on the batches as they were trained, the
  /// validation loss and metrics in inference mode, and the learning rate. Metrics are accuracy
  /// for classification data and MSE and MAE for regression data.
  ///
  /// Training ends after the last epoch, when early stopping runs out of patience (restoring
  /// the best weights if asked), when a callback says stop, or when a batch's loss is NaN or
  /// infinite: then the update is skipped, the weights are the last good ones, and the history's
  /// ``History/stopReason`` says where it happened. The same seed gives the same history and
  /// weights, bit for bit.
  ///
  /// - Throws: ``BackpropError`` when the configuration is invalid or the model does not fit
  ///   the data's shapes, before any update.
  public func fit(
    _ data: DataSet<Scalar>, validation: DataSet<Scalar>? = nil, loss: some Loss,
    optimizer: some Optimizer<Scalar>, configuration: FitConfiguration = FitConfiguration(),
    callbacks: TrainingCallbacks = TrainingCallbacks()
  ) throws -> History {
    try configuration.validate()
    try requireFit(data, role: "training data")
    if let validation { try requireFit(validation, role: "validation data") }
    let metrics = Metric.defaults(for: data.targetKind)
    let monitor = configuration.earlyStopping.map {
      $0.monitor ?? (validation == nil ? "loss" : "val_loss")
    }
    var best: (value: Double, epoch: Int, weights: [Tensor<Scalar>])?
    let initialRate = optimizer.learningRate
    var generator = configuration.shuffle ? RandomGenerator(seed: configuration.seed) : nil
    var history = History()
    let epochs = configuration.epochs

    for epoch in 1...epochs {
      let rate = configuration.schedule.learningRate(epoch: epoch, initial: initialRate)
      try optimizer.setLearningRate(rate)
      let batches = try data.batches(size: configuration.batchSize, shuffledBy: &generator)
      var tally = MetricTally()
      var lossSum = 0.0
      for (index, batch) in batches.enumerated() {
        let result: (loss: Scalar, output: Tensor<Scalar>)
        do {
          result = try TrainingMode.training {
            try step(input: batch.features, target: batch.targets, loss: loss, optimizer: optimizer)
          }
        } catch BackpropError.nonFiniteLoss(let value, _) {
          history.stopReason = .diverged(epoch: epoch, batch: index + 1, loss: value)
          return history
        }
        let samples = batch.indices.count
        lossSum += Double(result.loss) * Double(loss.reduction == .mean ? samples : 1)
        try tally.add(prediction: result.output, target: batch.targets)
        callbacks.afterBatch?(
          BatchProgress(
            epoch: epoch, epochs: epochs, batch: index + 1, batchCount: batches.count,
            samplesSeen: tally.samples, loss: Double(result.loss),
            epochLoss: lossSum / Double(tally.samples)))
      }

      var record: [(key: String, value: Double)] = [("loss", lossSum / Double(data.count))]
      record += metrics.map { ($0.rawValue, tally.value(of: $0)) }
      if let validation {
        let evaluation = try evaluate(on: validation, loss: loss)
        record.append(("val_loss", evaluation.loss))
        record += metrics.map { ("val_" + $0.rawValue, evaluation.metrics[$0.rawValue] ?? .nan) }
      }
      record.append(("learning_rate", rate))
      history.append(record)

      var isBest = false
      var outOfPatience = false
      if let rule = configuration.earlyStopping, let monitor {
        guard let value = record.first(where: { $0.key == monitor })?.value else {
          throw BackpropError.invalidArgument(
            name: "early-stopping monitor '\(monitor)'",
            detail: "the history has \(record.map(\.key).joined(separator: ", "))")
        }
        let higher = EarlyStopping.higherIsBetter(monitor)
        if let current = best {
          isBest =
            higher
            ? value > current.value + rule.minimumDelta : value < current.value - rule.minimumDelta
        } else {
          isBest = value.isFinite
        }
        if isBest {
          best = (value, epoch, rule.restoresBestWeights ? parameters.map(\.value) : [])
        }
        outOfPatience = epoch - (best?.epoch ?? 0) > rule.patience
      }
      let decision =
        callbacks.afterEpoch?(
          EpochSummary(
            epoch: epoch, epochs: epochs, metrics: record.map { ($0.key, $0.value) }, isBest: isBest
          ))
        ?? .proceed
      if outOfPatience, let best {
        history.stopReason = .earlyStopped(bestEpoch: best.epoch)
        break
      }
      if decision == .stop {
        history.stopReason = .stoppedByCallback(epoch: epoch)
        break
      }
    }
    history.stopReason = history.stopReason ?? .completed
    if let best, !best.weights.isEmpty {
      for (parameter, value) in zip(parameters, best.weights) { parameter.value = value }
    }
    return history
  }

  /// Checks, before training, that the model's input and output sizes match the data.
  func requireFit(_ data: DataSet<Scalar>, role: String) throws {
    if let inputs = inputSize, inputs != data.featureCount {
      throw BackpropError.shapeMismatch(
        operation: "fit", shapes: [[inputs], [data.featureCount]],
        detail:
          "the model takes \(inputs) inputs but the \(role) have \(data.featureCount) features")
    }
    if let outputs = outputSize, outputs != data.targetKind.width {
      let what =
        data.targetKind.classNames.map { "\($0.count) classes" }
        ?? "\(data.targetKind.width) target columns"
      throw BackpropError.shapeMismatch(
        operation: "fit", shapes: [[outputs], [data.targetKind.width]],
        detail: "the model gives \(outputs) outputs but the \(role) have \(what)")
    }
  }
}
