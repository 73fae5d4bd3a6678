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
  /// A `Sequential` of `Linear` layers, element-wise activations and `Dropout` trained with a
  /// built-in loss runs the fused step (see ``trainingStep(input:target:loss:optimizer:)``);
  /// each batch is gathered into a buffer allocated once, and an unshuffled batch is read where
  /// it lies. Other models train through the graph, with the same numbers.
  ///
  /// Training ends after the last epoch, when early stopping runs out of patience (restoring
  /// the best weights if asked), when a callback says stop, or when a batch's loss is NaN or
  /// infinite: then the update is skipped, the weights are the last good ones, and the history's
  /// ``History/stopReason`` says where it happened. The same seed gives the same history and
  /// weights, bit for bit, on any number of threads.
  ///
  /// - Throws: ``BackpropError`` when the configuration is invalid, the data are empty or the
  ///   model does not fit the data's shapes, before any update.
  public func fit(
    _ data: DataSet<Scalar>, validation: DataSet<Scalar>? = nil, loss: some Loss,
    optimizer: some Optimizer<Scalar>, configuration: FitConfiguration = FitConfiguration(),
    callbacks: TrainingCallbacks = TrainingCallbacks()
  ) throws -> History {
    try configuration.validate()
    try requireFit(data, role: "training data")
    if let validation { try requireFit(validation, role: "validation data") }
    guard data.count > 0 else {
      throw BackpropError.invalidArgument(name: "training data", detail: "there are no samples")
    }
    let metrics = Metric.defaults(for: data.targetKind)
    var columns = ["loss"] + metrics.map(\.rawValue)
    if validation != nil { columns += ["val_loss"] + metrics.map { "val_" + $0.rawValue } }
    columns.append("learning_rate")
    let monitor = try configuration.earlyStopping.map { rule in
      let name = rule.monitor ?? (validation == nil ? "loss" : "val_loss")
      guard let column = columns.firstIndex(of: name) else {
        throw BackpropError.invalidArgument(
          name: "early-stopping monitor '\(name)'",
          detail: "the history has \(columns.joined(separator: ", "))")
      }
      return (rule: rule, column: column, higherIsBetter: EarlyStopping.higherIsBetter(name))
    }
    var best: (value: Double, epoch: Int, weights: [Tensor<Scalar>])?
    let initialRate = optimizer.learningRate
    var generator = configuration.shuffle ? RandomGenerator(seed: configuration.seed) : nil
    var history = History()
    let epochs = configuration.epochs
    let engine = fusedStep(for: loss)
    let descent = engine == nil ? nil : FusedStep.plainDescent(of: optimizer)
    // The graph checks a batch's targets as it meets them; the fused step takes them checked.
    try engine?.loss.checkTargets(data.targets)
    if let validation { try engine?.loss.checkTargets(validation.targets) }
    let (inputs, width) = (data.featureCount, data.targetKind.width)
    let size = min(configuration.batchSize, data.count)
    let batchCount = (data.count + size - 1) / size
    let gathered =
      generator == nil ? nil : BatchBuffer<Scalar>(rows: size, inputs: inputs, width: width)

    try data.withRows { features, targets in
      for epoch in 1...epochs {
        let rate = configuration.schedule.learningRate(epoch: epoch, initial: initialRate)
        try optimizer.setLearningRate(rate)
        let order = generator?.permutation(count: data.count)
        var tally = MetricTally()
        var lossSum = 0.0
        var batchNumber = 0
        do {
          try TrainingMode.training {
            for batch in 0..<batchCount {
              batchNumber = batch + 1
              let start = batch * size
              let rows = min(size, data.count - start)
              var (x, t) = (features + start * inputs, targets + start * width)
              if let order, let gathered {
                (x, t) = gathered.gather(order[start..<(start + rows)], features, targets)
              }
              let batchLoss: Double
              if let engine {
                let next = start + size
                let upcoming =
                  order == nil && next < data.count
                  ? UnsafeRawBufferPointer(
                    start: features + next * inputs,
                    count: min(size, data.count - next) * inputs * MemoryLayout<Scalar>.stride)
                  : nil
                batchLoss = try engine.fitStep(
                  features: x, targets: t, batch: rows, optimizer: optimizer, descent: descent,
                  upcomingFeatures: upcoming, tally: &tally)
              } else {
                let target = Tensor(copying: t, shape: [rows, width])
                let result = try graphStep(
                  input: Tensor(copying: x, shape: [rows, inputs]), target: target, loss: loss,
                  optimizer: optimizer)
                batchLoss = Double(result.loss)
                try tally.add(prediction: result.output, target: target)
              }
              lossSum += batchLoss * Double(loss.reduction == .mean ? rows : 1)
              callbacks.afterBatch?(
                BatchProgress(
                  epoch: epoch, epochs: epochs, batch: batchNumber, batchCount: batchCount,
                  samplesSeen: tally.samples, loss: batchLoss,
                  epochLoss: lossSum / Double(tally.samples)))
            }
          }
        } catch BackpropError.nonFiniteLoss(let value, _) {
          history.stopReason = .diverged(epoch: epoch, batch: batchNumber, loss: value)
          return
        }

        var record = [lossSum / Double(data.count)]
        record.reserveCapacity(columns.count)
        for metric in metrics { record.append(tally.value(of: metric)) }
        if let validation {
          let evaluation = try evaluate(on: validation, loss: loss)
          record.append(evaluation.loss)
          for metric in metrics { record.append(evaluation.metrics[metric.rawValue] ?? .nan) }
        }
        record.append(rate)
        history.append(row: record, columns: columns)

        var isBest = false
        var outOfPatience = false
        if let monitor {
          let value = record[monitor.column]
          if let current = best {
            let margin = monitor.rule.minimumDelta
            isBest =
              monitor.higherIsBetter
              ? value > current.value + margin : value < current.value - margin
          } else {
            isBest = value.isFinite
          }
          if isBest {
            best = (value, epoch, monitor.rule.restoresBestWeights ? parameters.map(\.value) : [])
          }
          outOfPatience = epoch - (best?.epoch ?? 0) > monitor.rule.patience
        }
        let decision =
          callbacks.afterEpoch?(
            EpochSummary(
              epoch: epoch, epochs: epochs, metrics: Array(zip(columns, record)), isBest: isBest))
          ?? .proceed
        if outOfPatience, let best {
          history.stopReason = .earlyStopped(bestEpoch: best.epoch)
          return
        }
        if decision == .stop {
          history.stopReason = .stoppedByCallback(epoch: epoch)
          return
        }
      }
    }
    history.stopReason = history.stopReason ?? .completed
    if let best, !best.weights.isEmpty, case .earlyStopped = history.stopReason {
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

/// Buffers for one batch of shuffled samples, allocated once for a whole training run.
final class BatchBuffer<Scalar: TensorScalar> {
  private let features: UnsafeMutablePointer<Scalar>
  private let targets: UnsafeMutablePointer<Scalar>
  private let inputs: Int
  private let width: Int

  /// Buffers for up to `rows` samples of `inputs` features and `width` targets.
  init(rows: Int, inputs: Int, width: Int) {
    features = .allocate(capacity: max(rows * inputs, 1))
    targets = .allocate(capacity: max(rows * width, 1))
    (self.inputs, self.width) = (inputs, width)
  }

  deinit {
    features.deallocate()
    targets.deallocate()
  }

  /// Copies the samples at `indices` of row-major `allFeatures` and `allTargets` into the
  /// buffers, in order, and returns them.
  func gather(
    _ indices: ArraySlice<Int>, _ allFeatures: UnsafePointer<Scalar>,
    _ allTargets: UnsafePointer<Scalar>
  ) -> (UnsafePointer<Scalar>, UnsafePointer<Scalar>) {
    let (featureBytes, targetBytes) = (
      inputs * MemoryLayout<Scalar>.stride, width * MemoryLayout<Scalar>.stride
    )
    // A batch of rows scattered over a large data set is bound by memory latency: a second
    // thread copying half of them overlaps the waits. Each row is copied whole by one thread.
    let first = indices.startIndex
    let parts = indices.count * featureBytes >= 1 << 16 ? Kernels.threadCount : 1
    Kernels.forEachRange(count: indices.count, parts: parts, block: 8) { start, end in
      for row in start..<end {
        let index = indices[first + row]
        UnsafeMutableRawPointer(features + row * inputs).copyMemory(
          from: allFeatures + index * inputs, byteCount: featureBytes)
        UnsafeMutableRawPointer(targets + row * width).copyMemory(
          from: allTargets + index * width, byteCount: targetBytes)
      }
    }
    return (UnsafePointer(features), UnsafePointer(targets))
  }
}
