import Foundation

/// The settings of ``Layer/fit(_:validation:loss:optimizer:configuration:callbacks:reducer:)`` besides
/// the data, loss and optimizer.
public struct FitConfiguration: Sendable, Equatable {
  /// The number of passes over the training data (in all, for a resumed run).
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
  /// Whether this epoch is the best so far by the monitored metric (early stopping's, or the
  /// validation loss, or the training loss without validation data).
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
  /// Called after each epoch, after ``afterEpoch``, with a function that gives the state that
  /// resumes the run from there (the optimizer's moments are copied only when it is called):
  /// where checkpoints are written. An error it throws ends training.
  public var checkpoint: ((EpochSummary, () -> TrainingState) throws -> Void)?

  /// Creates callbacks; any may be `nil`.
  public init(
    afterBatch: ((BatchProgress) -> Void)? = nil,
    afterEpoch: ((EpochSummary) -> CallbackDecision)? = nil,
    checkpoint: ((EpochSummary, () -> TrainingState) throws -> Void)? = nil
  ) {
    self.afterBatch = afterBatch
    self.afterEpoch = afterEpoch
    self.checkpoint = checkpoint
  }
}

extension Layer {
  /// Trains the model on `data` by mini-batch gradient descent, as Keras' `fit`.
  ///
  /// Each epoch sets the scheduled learning rate, visits the batches (shuffled by the
  /// configuration's seed) in training mode (``Dropout`` active), then records in the history
  /// the mean training loss and metrics measured on the batches as they were trained, the
  /// validation loss and metrics in inference mode, and the learning rate. Metrics are accuracy
  /// for classification data and MSE, MAE and R² for regression data.
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
  /// With a `reducer` of more than one rank (an ``MPIReducer`` under `mpirun`), training is
  /// data-parallel, as Horovod trains: every rank runs this same call on the same data, rank 0's
  /// initial weights are broadcast, each global batch (of the configuration's batch size) is
  /// split into contiguous shards in rank order (``GradientReducer/shard(ofRows:)``), each rank
  /// computes its shard's share of the batch's mean gradient and loss, one sum over the ranks
  /// makes them the batch's, and every rank takes the same step. The training metrics are summed
  /// too, and each rank evaluates its shard of the validation data, whose sums are summed the
  /// same way (``evaluate(on:loss:batchSize:reducer:)``). The weights then equal a
  /// single-process run's up to the order of the sums (within 1e-6 relative in `Float` over a
  /// few epochs, tested); ``Dropout``'s masks are drawn per shard and differ. This needs the
  /// fused step, no sample weights, and at least one row per rank in every batch.
  ///
  /// - Throws: ``BackpropError`` when the configuration is invalid, the data are empty or the
  ///   model does not fit the data's shapes, before any update.
  public func fit(
    _ data: DataSet<Scalar>, validation: DataSet<Scalar>? = nil, loss: some Loss,
    optimizer: some Optimizer<Scalar>, configuration: FitConfiguration = FitConfiguration(),
    callbacks: TrainingCallbacks = TrainingCallbacks(), reducer: (any GradientReducer)? = nil
  ) throws -> History {
    var state = TrainingState()
    return try train(
      data, validation: validation, loss: loss, optimizer: optimizer,
      configuration: configuration, callbacks: callbacks, state: &state, keepsState: false,
      reducer: reducer)
  }

  /// Trains as ``fit(_:validation:loss:optimizer:configuration:callbacks:reducer:)`` from where `state`
  /// stands, up to the configuration's ``FitConfiguration/epochs`` in all, and leaves `state`
  /// where the run ends: a run saved after 10 epochs and continued to 20 gives the weights and
  /// history of 20 epochs in one go, bit for bit.
  ///
  /// A state that has run puts back the optimizer's moments, every ``Dropout`` layer's
  /// generator, the shuffling generator, the history, the schedule's position and early
  /// stopping's best epoch. The returned history is the whole run's, ``TrainingState/history``.
  ///
  /// - Throws: as ``fit(_:validation:loss:optimizer:configuration:callbacks:reducer:)``, and
  ///   ``BackpropError/invalidArgument(name:detail:)`` when the state does not fit the
  ///   optimizer, the network or the data's metrics.
  public func fit(
    _ data: DataSet<Scalar>, validation: DataSet<Scalar>? = nil, loss: some Loss,
    optimizer: some Optimizer<Scalar>, configuration: FitConfiguration = FitConfiguration(),
    callbacks: TrainingCallbacks = TrainingCallbacks(), continuing state: inout TrainingState,
    reducer: (any GradientReducer)? = nil
  ) throws -> History {
    try train(
      data, validation: validation, loss: loss, optimizer: optimizer,
      configuration: configuration, callbacks: callbacks, state: &state, keepsState: true,
      reducer: reducer)
  }

  /// The training loop of both `fit`s; `keepsState` says whether the optimizer's state and the
  /// dropout generators are copied into `state` at the end (a copy of every moment, which a
  /// caller that drops the state does not pay for).
  private func train(
    _ data: DataSet<Scalar>, validation: DataSet<Scalar>?, loss: some Loss,
    optimizer: some Optimizer<Scalar>, configuration: FitConfiguration,
    callbacks: TrainingCallbacks, state: inout TrainingState, keepsState: Bool,
    reducer: (any GradientReducer)?
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
    let rule = configuration.earlyStopping
    let monitorName = rule?.monitor ?? (validation == nil ? "loss" : "val_loss")
    guard let monitorColumn = columns.firstIndex(of: monitorName) else {
      throw BackpropError.invalidArgument(
        name: "early-stopping monitor '\(monitorName)'",
        detail: "the history has \(columns.joined(separator: ", "))")
    }
    let higherIsBetter = EarlyStopping.higherIsBetter(monitorName)
    try resume(from: state, optimizer: optimizer, columns: columns)
    let initialRate = state.initialLearningRate ?? optimizer.learningRate
    state.initialLearningRate = initialRate
    var generator =
      configuration.shuffle
      ? state.shuffleGenerator ?? RandomGenerator(seed: configuration.seed) : nil
    let epochs = configuration.epochs
    let engine = fusedStep(for: loss)
    let shards = try reducer.flatMap {
      try dataParallel(by: $0, engine: engine, data: data, batchSize: configuration.batchSize)
    }
    // Data-parallel steps need the gradients themselves, to sum them.
    let descent = engine == nil || shards != nil ? nil : FusedStep.plainDescent(of: optimizer)
    // The graph checks a batch's targets as it meets them; the fused step takes them checked.
    try engine?.loss.checkTargets(data.targets)
    if let validation { try engine?.loss.checkTargets(validation.targets) }
    let (inputs, width) = (data.featureCount, data.targetKind.width)
    let size = min(configuration.batchSize, data.count)
    let batchCount = (data.count + size - 1) / size
    let weighted = data.sampleWeights != nil
    let gathered =
      generator == nil
      ? nil : BatchBuffer<Scalar>(rows: size, inputs: inputs, width: width, weighted: weighted)
    state.history.stopReason = nil
    defer { if keepsState { capture(into: &state, optimizer: optimizer) } }

    try data.withRows { features, targets, weights in
      for epoch in (state.epochsCompleted + 1)..<max(epochs + 1, state.epochsCompleted + 1) {
        // Only a plateau schedule reads the history, whose column is a copy of every epoch.
        let rate = configuration.schedule.learningRate(
          epoch: epoch, initial: initialRate,
          monitored: configuration.schedule.readsMonitoredMetric
            ? state.history.values(of: monitorName) ?? [] : [])
        try optimizer.setLearningRate(rate)
        let order = generator?.permutation(count: data.count)
        var tally = MetricTally()
        var lossSum = 0.0
        var batchNumber = 0
        var samplesSeen = 0
        do {
          try TrainingMode.training {
            for batch in 0..<batchCount {
              batchNumber = batch + 1
              let start = batch * size
              let rows = min(size, data.count - start)
              // Plain assignments: a tuple or an Optional.map of generic pointers would look up
              // their type's metadata every batch, a third of xor's tiny steps.
              var x = features + start * inputs
              var t = targets + start * width
              var w: UnsafePointer<Scalar>? = nil
              if let weights { w = weights + start }
              if let order, let gathered {
                let batch = gathered.gather(
                  order[start..<(start + rows)], features, targets, weights)
                x = batch.features
                t = batch.targets
                w = batch.weights
              }
              let batchLoss: Double
              if let engine {
                let next = start + size
                let upcoming =
                  order == nil && next < data.count && shards == nil
                  ? UnsafeRawBufferPointer(
                    start: features + next * inputs,
                    count: min(size, data.count - next) * inputs * MemoryLayout<Scalar>.stride)
                  : nil
                var stepRows = rows
                if let shards {
                  let shard = shards.reducer.shard(ofRows: rows)
                  shards.globalRows = rows
                  x += shard.lowerBound * inputs
                  t += shard.lowerBound * width
                  stepRows = shard.count
                }
                batchLoss = try engine.fitStep(
                  features: x, targets: t, batch: stepRows, optimizer: optimizer,
                  descent: descent, upcomingFeatures: upcoming, weights: w, shards: shards,
                  tally: &tally)
              } else {
                let target = Tensor(copying: t, shape: [rows, width])
                let result = try graphStep(
                  input: Tensor(copying: x, shape: [rows, inputs]), target: target, loss: loss,
                  optimizer: optimizer, weights: w)
                batchLoss = Double(result.loss)
                try tally.add(prediction: result.output, target: target)
              }
              lossSum += batchLoss * Double(loss.reduction == .mean ? rows : 1)
              samplesSeen += rows
              callbacks.afterBatch?(
                BatchProgress(
                  epoch: epoch, epochs: epochs, batch: batchNumber, batchCount: batchCount,
                  samplesSeen: samplesSeen, loss: batchLoss,
                  epochLoss: lossSum / Double(samplesSeen)))
            }
          }
        } catch BackpropError.nonFiniteLoss(let value, _) {
          state.history.stopReason = .diverged(epoch: epoch, batch: batchNumber, loss: value)
          return
        }

        if let shards { try tally.sum(over: shards.reducer) }
        var record = [lossSum / Double(data.count)]
        record.reserveCapacity(columns.count)
        for metric in metrics { record.append(tally.value(of: metric)) }
        if let validation {
          let evaluation = try evaluate(on: validation, loss: loss, reducer: shards?.reducer)
          record.append(evaluation.loss)
          for metric in metrics { record.append(evaluation.metrics[metric.rawValue] ?? .nan) }
        }
        record.append(rate)
        state.history.append(row: record, columns: columns)
        state.epochsCompleted = epoch
        state.shuffleGenerator = generator

        let value = record[monitorColumn]
        let isBest =
          state.best.map {
            (rule ?? EarlyStopping.exact).improves(
              value, on: $0.value, higherIsBetter: higherIsBetter)
          } ?? value.isFinite
        if isBest {
          state.best = .init(value: value, epoch: epoch)
          if rule?.restoresBestWeights == true {
            state.bestWeights = parameters.map(\.value.doubles)
          }
        }
        let outOfPatience = rule.map { epoch - (state.best?.epoch ?? 0) > $0.patience } ?? false
        // The summary (an array of named metrics) is made only for a callback that reads it.
        let summary =
          callbacks.afterEpoch == nil && callbacks.checkpoint == nil
          ? nil
          : EpochSummary(
            epoch: epoch, epochs: epochs, metrics: Array(zip(columns, record)), isBest: isBest)
        let decision = summary.flatMap { callbacks.afterEpoch?($0) } ?? .proceed
        if let checkpoint = callbacks.checkpoint, let summary {
          try checkpoint(summary) {
            var snapshot = state
            capture(into: &snapshot, optimizer: optimizer)
            return snapshot
          }
        }
        if outOfPatience, let best = state.best {
          state.history.stopReason =
            rule?.restoresBestWeights == true
            ? .earlyStopped(bestEpoch: best.epoch) : .converged(bestEpoch: best.epoch)
          return
        }
        if decision == .stop {
          state.history.stopReason = .stoppedByCallback(epoch: epoch)
          return
        }
      }
    }
    state.history.stopReason = state.history.stopReason ?? .completed
    if case .earlyStopped = state.history.stopReason, rule?.restoresBestWeights == true,
      let weights = state.bestWeights
    {
      for (parameter, values) in zip(parameters, weights) {
        parameter.value = Tensor(doubles: values, shape: parameter.value.shape)
      }
    }
    return state.history
  }

  /// The data-parallel part of the steps for `reducer`, after broadcasting rank 0's weights;
  /// nil for a reducer of one rank.
  ///
  /// - Throws: ``BackpropError/invalidArgument(name:detail:)`` when the run cannot be
  ///   data-parallel: a model the fused step does not cover, sample weights, or a batch with
  ///   fewer rows than ranks.
  private func dataParallel(
    by reducer: any GradientReducer, engine: FusedStep<Scalar>?, data: DataSet<Scalar>,
    batchSize: Int
  ) throws -> ShardReduction<Scalar>? {
    let ranks = reducer.rankCount
    guard ranks > 1 else { return nil }
    guard engine != nil else {
      throw BackpropError.invalidArgument(
        name: "data-parallel training",
        detail: "needs a Sequential of Linear layers, element-wise activations and Dropout "
          + "with a built-in loss (the fused step)")
    }
    guard data.sampleWeights == nil else {
      throw BackpropError.invalidArgument(
        name: "data-parallel training", detail: "does not take sample or class weights")
    }
    let size = min(batchSize, data.count)
    let last = data.count % size == 0 ? size : data.count % size
    guard min(size, last) >= ranks else {
      throw BackpropError.invalidArgument(
        name: "data-parallel training on \(ranks) ranks",
        detail: "every batch needs a row for each rank, but batches of \(size) of "
          + "\(data.count) samples leave a last batch of \(last); choose another batch size")
    }
    for parameter in parameters {
      try parameter.value.withUnsafeMutableBufferPointer {
        try reducer.broadcast(scalars: $0, from: 0)
      }
    }
    return ShardReduction(reducer: reducer, parameters: parameters)
  }

  /// The ``Dropout`` layers of this model, in order.
  private var dropoutLayers: [Dropout<Scalar>] {
    if let dropout = self as? Dropout<Scalar> { return [dropout] }
    guard let sequential = self as? Sequential<Scalar> else { return [] }
    return sequential.layers.flatMap { layer in
      (layer as? Sequential<Scalar>)?.dropoutLayers ?? [layer as? Dropout<Scalar>].compactMap { $0 }
    }
  }

  /// Puts back the optimizer's state and the dropout generators of a run that has started.
  private func resume(
    from state: TrainingState, optimizer: some Optimizer<Scalar>, columns: [String]
  ) throws {
    guard state.epochsCompleted > 0 else { return }
    guard state.history.columns == columns, state.history.epochCount == state.epochsCompleted
    else {
      throw BackpropError.invalidArgument(
        name: "training state",
        detail:
          "its history (\(state.history.columns.joined(separator: ", ")), "
          + "\(state.history.epochCount) epochs) is not that of a run of \(state.epochsCompleted) "
          + "epochs on these data (\(columns.joined(separator: ", ")))")
    }
    let dropouts = dropoutLayers
    guard state.dropoutGenerators.count == dropouts.count else {
      throw BackpropError.invalidArgument(
        name: "training state",
        detail:
          "it has \(state.dropoutGenerators.count) dropout generators; the model has "
          + "\(dropouts.count) dropout layers")
    }
    if let weights = state.bestWeights {
      guard weights.count == parameters.count,
        zip(weights, parameters).allSatisfy({ $0.count == $1.value.count })
      else {
        throw BackpropError.invalidArgument(
          name: "training state", detail: "its best weights do not fit the model's parameters")
      }
    }
    if let saved = state.optimizer { try optimizer.restore(saved) }
    for (layer, generator) in zip(dropouts, state.dropoutGenerators) { layer.generator = generator }
  }

  /// Copies into `state` what lives outside it while training runs: the optimizer's state and
  /// the dropout generators.
  private func capture(into state: inout TrainingState, optimizer: some Optimizer<Scalar>) {
    state.optimizer = optimizer.state
    state.dropoutGenerators = dropoutLayers.map(\.generator)
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
  private let weights: UnsafeMutablePointer<Scalar>?
  private let inputs: Int
  private let width: Int

  /// Buffers for up to `rows` samples of `inputs` features and `width` targets, and their
  /// weights when `weighted`.
  init(rows: Int, inputs: Int, width: Int, weighted: Bool = false) {
    features = .allocate(capacity: max(rows * inputs, 1))
    targets = .allocate(capacity: max(rows * width, 1))
    weights = weighted ? .allocate(capacity: max(rows, 1)) : nil
    (self.inputs, self.width) = (inputs, width)
  }

  deinit {
    features.deallocate()
    targets.deallocate()
    weights?.deallocate()
  }

  /// Copies the samples at `indices` of row-major `allFeatures`, `allTargets` and
  /// `allWeights` into the buffers, in order, and returns them.
  func gather(
    _ indices: ArraySlice<Int>, _ allFeatures: UnsafePointer<Scalar>,
    _ allTargets: UnsafePointer<Scalar>, _ allWeights: UnsafePointer<Scalar>? = nil
  ) -> (
    features: UnsafePointer<Scalar>, targets: UnsafePointer<Scalar>,
    weights: UnsafePointer<Scalar>?
  ) {
    if let weights, let allWeights {
      for (row, index) in indices.enumerated() { weights[row] = allWeights[index] }
    }
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
    return (UnsafePointer(features), UnsafePointer(targets), weights.map { UnsafePointer($0) })
  }
}
