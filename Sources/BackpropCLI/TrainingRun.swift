import Backprop
import Foundation

/// A training run with every default filled in: loads the data, builds the network, trains it
/// and writes what was asked for.
struct TrainingRun {
  /// The resolved settings; every field the run reads is set.
  let specification: RunSpecification
  /// The model of the run this one continues, with its training state.
  let resumed: Model<Float>?
  /// The epochs of the whole run, those of a resumed run included.
  let totalEpochs: Int

  /// A new run of `given`'s settings.
  init(specification given: RunSpecification) throws {
    try self.init(specification: given, resuming: nil)
  }

  /// A run that continues the run saved in the model file at `path` (a `--output` or a
  /// checkpoint): its stored settings overridden by `flags`, where `--epochs N` asks for N
  /// epochs more and no `--epochs` finishes the epochs the saved run asked for.
  init(resuming path: String, flags: RunSpecification) throws {
    let model = try Model<Float>(contentsOf: URL(fileURLWithPath: path))
    guard let state = model.trainingState, let stored = model.metadata["specification"] else {
      throw CLIError(
        "\(path) holds no training state to resume (a model saved by `backprop train` of this "
          + "version, or a checkpoint, has one)")
    }
    let saved: RunSpecification
    do {
      saved = try JSONDecoder().decode(RunSpecification.self, from: Data(stored.utf8))
    } catch {
      throw CLIError("\(path): the stored specification cannot be read (\(error))")
    }
    var spec = saved.overridden(by: flags)
    for (name, changed) in [
      ("--data", flags.data != nil && flags.data != saved.data),
      ("--toy", flags.toy != nil && flags.toy != saved.toy),
      ("--layers", flags.layers != nil && flags.layers != saved.layers),
      ("--activation", flags.activation != nil && flags.activation != saved.activation),
      ("--optimizer", flags.optimizer != nil && flags.optimizer != saved.optimizer),
      ("--seed", flags.seed != nil && flags.seed != saved.seed),
      (
        "--validation-split",
        flags.validationSplit != nil && flags.validationSplit != saved.validationSplit
      ),
    ] where changed {
      throw CLIError(
        "\(name) differs from the run in \(path); a resumed run keeps its data, network, "
          + "optimizer and seed")
    }
    let done = state.epochsCompleted
    let more = flags.epochs ?? ((saved.epochs ?? done) - done)
    guard more >= 1 || flags.epochs != nil else {
      throw CLIError(
        "the run in \(path) has finished its \(done) epochs; --epochs N trains N epochs more")
    }
    spec.epochs = more
    try self.init(specification: spec, resuming: model)
  }

  private init(specification given: RunSpecification, resuming: Model<Float>?) throws {
    var spec = given
    guard (spec.data == nil) != (spec.toy == nil) else {
      throw CLIError("give the training data with --data FILE or --toy NAME (one of them)")
    }
    if spec.toy != nil {
      spec.samples = spec.samples ?? 400
      spec.noise = spec.noise ?? 0.1
    }
    spec.layers = spec.layers ?? [HiddenLayer(size: 32)]
    spec.activation = spec.activation ?? .relu
    guard let optimizer = OptimizerKind(rawValue: (spec.optimizer ?? "adam").lowercased()) else {
      throw CLIError("--optimizer must be adam or sgd (got '\(spec.optimizer ?? "")')")
    }
    spec.optimizer = optimizer.rawValue
    spec.learningRate = spec.learningRate ?? optimizer.defaultLearningRate
    spec.momentum = spec.momentum ?? 0
    spec.weightDecay = spec.weightDecay ?? 0
    spec.dropout = spec.dropout ?? 0
    spec.converge = spec.converge ?? (spec.epochs == nil)
    spec.epochs = spec.epochs ?? EarlyStopping.convergenceEpochLimit
    spec.batchSize = spec.batchSize ?? 32
    spec.validationSplit = spec.validationSplit ?? 0
    spec.testSplit = spec.testSplit ?? 0
    spec.seed = spec.seed ?? 1
    spec.scale = spec.scale ?? "standardize"
    spec.schedule = spec.schedule ?? "constant"
    spec.targetScale = spec.targetScale ?? "standardize"
    try Self.check(spec)
    let done = resuming?.trainingState?.epochsCompleted ?? 0
    resumed = resuming
    totalEpochs = done + (spec.epochs ?? 0)
    // A resumed run's stored spec counts the epochs of the whole run.
    if resuming != nil { spec.epochs = totalEpochs }
    specification = spec
  }

  private static func check(_ spec: RunSpecification) throws {
    if let loss = spec.loss { _ = try LossFunction(named: loss) }
    _ = try scaling(spec.scale)
    _ = try targetScaling(spec.targetScale)
    _ = try classWeighting(spec.classWeight)
    if let epochs = spec.epochs, !(1...10_000_000).contains(epochs) {
      throw CLIError("--epochs must be in 1...10000000 (got \(epochs))")
    }
    for (flag, value) in [
      ("--checkpoint-every", spec.checkpointEvery), ("--log-every", spec.logEvery),
    ] {
      if let value, !(1...10_000_000).contains(value) {
        throw CLIError("\(flag) must be in 1...10000000 (got \(value))")
      }
    }
    if let size = spec.batchSize, size < 1 {
      throw CLIError("--batch-size must be at least 1 (got \(size))")
    }
    if let samples = spec.samples, !(1...10_000_000).contains(samples) {
      throw CLIError("--samples must be in 1...10000000 (got \(samples))")
    }
    if let every = spec.snapshotEvery,
      !(1...10_000_000).contains(every) || (spec.epochs ?? 20) / every > 24
    {
      throw CLIError(
        "--snapshot-every must be at least 1 and leave at most 24 snapshots (got \(every))")
    }
    if let patience = spec.earlyStopping, patience < 0 {
      throw CLIError("--early-stopping must be 0 or more epochs (got \(patience))")
    }
    if (spec.layers ?? []).contains(where: { $0.size > 100_000 }) {
      throw CLIError("--layers: a layer of more than 100000 units is not supported")
    }
    // Each real-valued option is checked here, where the flag can be named: a NaN would
    // otherwise pass every comparison and surface only when the spec is written at the end.
    let ranges: [(flag: String, value: Double?, range: String, holds: (Double) -> Bool)] = [
      ("--learning-rate", spec.learningRate, "at least 0", { $0 >= 0 }),
      ("--momentum", spec.momentum, "in [0, 1)", { $0 >= 0 && $0 < 1 }),
      ("--weight-decay", spec.weightDecay, "at least 0", { $0 >= 0 }),
      ("--l1-penalty", spec.l1Penalty, "at least 0", { $0 >= 0 }),
      ("--dropout", spec.dropout, "in [0, 1)", { $0 >= 0 && $0 < 1 }),
      ("--noise", spec.noise, "at least 0", { $0 >= 0 }),
      ("--validation-split", spec.validationSplit, "in [0, 1)", { $0 >= 0 && $0 < 1 }),
      ("--test-split", spec.testSplit, "in [0, 1)", { $0 >= 0 && $0 < 1 }),
    ]
    for (flag, value, range, holds) in ranges {
      if let value, !(value.isFinite && holds(value)) {
        throw CLIError("\(flag) must be a finite number \(range) (got \(value))")
      }
    }
    _ = try LearningRateSchedule(parsing: spec.schedule ?? "constant", epochs: spec.epochs ?? 1)
  }

  /// Refuses a network whose training state would not fit in half of the physical memory,
  /// before anything is allocated: each Float parameter with its gradient and an optimizer's
  /// state (Adam's two moments), 16 bytes.
  private static func checkMemory(sizes: [Int]) throws {
    var parameters = 0
    for (inputs, outputs) in zip(sizes, sizes.dropFirst()) {
      let (weights, overflow) = inputs.multipliedReportingOverflow(by: outputs)
      guard !overflow else { throw CLIError("--layers: \(sizes) has too many parameters") }
      parameters = parameters.addingReportingOverflow(weights + outputs).partialValue
    }
    let bytes = Double(parameters) * 16
    let available = Double(ProcessInfo.processInfo.physicalMemory) / 2
    guard bytes <= available else {
      let gigabytes = { (value: Double) in String(format: "%.1f GB", value / 1e9) }
      throw CLIError(
        "--layers: the network \(sizes.map(String.init).joined(separator: "-")) has \(parameters) "
          + "parameters, whose training takes about \(gigabytes(bytes)); this machine has "
          + "\(gigabytes(available * 2)) of memory (at most half is used)")
    }
  }

  /// `balanced` or `name:weight,…`, as `--class-weight` takes it.
  private static func classWeighting(_ text: String?) throws -> DataSet<Float>.ClassWeighting? {
    guard let text else { return nil }
    if text.lowercased() == "balanced" { return .balanced }
    var weights: [String: Double] = [:]
    for part in RunSpecification.parseNames(text) {
      guard let colon = part.lastIndex(of: ":"),
        let weight = Double(part[part.index(after: colon)...]),
        weight.isFinite, weight >= 0, colon != part.startIndex
      else {
        throw CLIError(
          "--class-weight takes balanced or CLASS:WEIGHT,… with weights ≥ 0, such as "
            + "spam:5,ham:1 (got '\(part)')")
      }
      weights[String(part[..<colon])] = weight
    }
    return .given(weights)
  }

  /// Whether regression targets are standardized for training (`standardize`, the default) or
  /// not (`none`).
  private static func targetScaling(_ name: String?) throws -> Bool {
    switch name?.lowercased() {
    case "standardize", "standard", nil: return true
    case "none": return false
    default: throw CLIError("--target-scale must be standardize or none (got '\(name ?? "")')")
    }
  }

  private static func scaling(_ name: String?) throws -> FeatureScaling.Method? {
    switch name?.lowercased() {
    case "standardize", "standard": return .standardize
    case "min-max", "minmax": return .minMax
    case "none", nil: return nil
    default: throw CLIError("--scale must be standardize, min-max or none (got '\(name ?? "")')")
    }
  }

  // MARK: Running

  /// What a finished training run holds.
  struct Outcome {
    var network: Sequential<Float>
    var history: History
    var data: DataSet<Float>
    var split: DataSplit<Float>
    /// The trained model with its scaling, fill, loss and training state (no metadata yet).
    var model: Model<Float>
    var loss: LossFunction
    /// The training part, scaled as the network sees it.
    var train: DataSet<Float>
    /// Decision-region snapshots, when pictures were asked for.
    var snapshots: [(title: String, picture: SVGCanvas)]
  }

  /// Loads the data, builds the network (or takes the resumed one) and trains it, showing
  /// progress unless `quiet`; with `reducer`, data-parallel, rank 0 alone keeping checkpoints.
  func train(quiet: Bool, reducer: (any GradientReducer)? = nil) throws -> Outcome {
    let spec = specification
    let seed = spec.seed ?? 1
    let (data, loss, missing) = try loadData()
    if let names = data.targetKind.classNames, names.count < 2 {
      throw CLIError(
        "the target '\(data.targetKind.columnNames.joined())' has \(names.count) class"
          + "\(names.count == 1 ? " ('\(names[0])')" : "es"): a classifier needs at least 2")
    }
    let split = try data.split(
      validationFraction: spec.validationSplit ?? 0, testFraction: spec.testSplit ?? 0, seed: seed)
    let scaling = try Self.scaling(spec.scale).map {
      try FeatureScaling(fitting: $0, to: split.train.features)
    }
    let targetScaling =
      try Self.targetScaling(spec.targetScale) && data.targetKind.classNames == nil
      ? FeatureScaling(fitting: .standardize, to: split.train.targets) : nil
    let sizes = [data.featureCount] + (spec.layers ?? []).map(\.size) + [data.targetKind.width]
    try Self.checkMemory(sizes: sizes)
    let activation = spec.activation ?? .relu
    let layers = spec.layers ?? []
    // One activation throughout builds the network as before per-layer activations existed
    // (its output layer initialized for that activation), so that older specs repeat exactly.
    let network =
      try resumed?.network
      ?? (layers.allSatisfy { $0.activation == nil }
        ? Sequential<Float>.perceptron(
          sizes: sizes, activation: activation, dropout: spec.dropout ?? 0, seed: seed, loss: loss)
        : Sequential<Float>.perceptron(
          sizes: sizes, activations: layers.map { $0.activation ?? activation },
          dropout: spec.dropout ?? 0, seed: seed, loss: loss))
    let untrained = try Model(
      network: network, featureNames: data.featureNames, targetKind: data.targetKind,
      scaling: scaling, targetScaling: targetScaling, missingValues: missing?.fill, loss: loss)
    if let resumed {
      guard resumed.featureNames == untrained.featureNames,
        resumed.targetKind == untrained.targetKind, resumed.scaling == untrained.scaling,
        resumed.targetScaling == untrained.targetScaling
      else {
        throw CLIError(
          "the data differ from those of the run being resumed (its features, target, classes "
            + "or scaling); a resumed run trains on the same data")
      }
    }
    let train =
      try Self.classWeighting(spec.classWeight).map {
        try untrained.prepared(split.train).weightedByClass($0)
      } ?? untrained.prepared(split.train)
    let validation = try split.validation.map { try untrained.prepared($0) }

    let kind = try OptimizerKind(named: spec.optimizer ?? "adam")
    let optimizer: any Optimizer<Float> = try kind.make(
      parameters: network.parameters, learningRate: spec.learningRate ?? kind.defaultLearningRate,
      momentum: spec.momentum ?? 0, weightDecay: spec.weightDecay ?? 0,
      l1Penalty: spec.l1Penalty ?? 0)
    let epochs = totalEpochs
    let configuration = FitConfiguration(
      epochs: epochs, batchSize: spec.batchSize ?? 32, seed: seed,
      schedule: try LearningRateSchedule(parsing: spec.schedule ?? "constant", epochs: epochs),
      earlyStopping: try spec.earlyStopping.map { try EarlyStopping(patience: $0) }
        ?? (spec.converge == true ? .convergence : nil))

    if !quiet {
      print(describe(data: data, split: split, loss: loss))
      if let path = specification.data {
        for note in DataInput.notes(on: path, reading: try readingOfSpecification()) {
          print("note: \(note)")
        }
      }
      if let (fill, changed) = missing {
        print(
          "note: "
            + (fill.strategy == .drop
              ? "\(changed) row(s) with a missing feature value left out (--missing drop)"
              : "\(changed) missing feature value(s) filled with their column's "
                + "\(fill.strategy.rawValue) (--missing \(fill.strategy.rawValue), stored with the model)")
        )
      }
      if targetScaling != nil {
        print(
          "note: the targets are standardized for training (stored with the model; "
            + "--target-scale none does not): the loss is of the standardized targets, and mse, "
            + "mae and r2 are in the targets' units")
      }
      if spec.classWeight != nil || spec.sampleWeight != nil {
        let by = [
          spec.classWeight.map { "class (\($0))" }, spec.sampleWeight.map { "column '\($0)'" },
        ].compactMap { $0 }.joined(separator: " and ")
        print(
          "note: the training loss weighs each sample by its \(by): Σ w·loss / Σ w a batch; "
            + "the metrics are not weighted")
      }
      if spec.converge == true, spec.earlyStopping == nil {
        print(
          "note: training stops when the loss has not improved by a relative 1e-4 for 10 epochs "
            + "(at most \(epochs) epochs); --epochs N runs exactly N")
      }
      if let state = resumed?.trainingState {
        print("resuming after epoch \(state.epochsCompleted), up to epoch \(epochs)")
      }
      print("\(untrained.summary(includingMetadata: false))\noptimizer: \(optimizer)\n")
    }
    let display = ProgressDisplay(
      quiet: quiet, sampleCount: train.count, every: spec.logEvery ?? 1)
    var callbacks = display.callbacks
    var snapshots: [(title: String, picture: SVGCanvas)] = []
    if spec.plots != nil, data.featureCount == 2, data.targetKind.classNames != nil {
      // Decision regions every few epochs and at the end, as seed 003 plots them.
      let every = spec.snapshotEvery ?? max(1, (epochs - 1) / 5)
      let marks = Set(Array(stride(from: 1, through: epochs, by: every)) + [epochs])
      let showProgress = callbacks.afterEpoch
      callbacks.afterEpoch = { summary in
        if marks.contains(summary.epoch),
          let picture = try? untrained.decisionRegions(on: split.train, title: "")
        {
          snapshots.append(("epoch \(summary.epoch)", picture))
        }
        return showProgress?(summary) ?? .proceed
      }
    }
    if let directory = spec.checkpoint, (reducer?.rank ?? 0) == 0 {
      callbacks.checkpoint = try checkpoints(
        in: directory, every: spec.checkpointEvery ?? 1, of: untrained, last: epochs)
    }
    var state = resumed?.trainingState ?? TrainingState()
    let history = try network.fit(
      train, validation: validation, loss: loss.loss, optimizer: optimizer,
      configuration: configuration, callbacks: callbacks, continuing: &state, reducer: reducer)
    var model = untrained
    model.trainingState = state
    return Outcome(
      network: network, history: history, data: data, split: split, model: model, loss: loss,
      train: train, snapshots: snapshots)
  }

  /// The callback that keeps, in `directory`, `last.json` (a model that resumes the run) every
  /// `every` epochs and at epoch `last`, and `best.json` (the best epoch's model by the
  /// monitored metric) whenever the best has changed since it was written. Both are written
  /// atomically, so a killed run leaves the previous ones whole.
  private func checkpoints(
    in directory: String, every: Int, of model: Model<Float>, last: Int
  ) throws -> (EpochSummary, () -> TrainingState) throws -> Void {
    do {
      try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    } catch {
      throw CLIError("--checkpoint \(directory): the directory cannot be made (\(error))")
    }
    let folder = URL(fileURLWithPath: directory)
    let metadata = try runMetadata()
    var best: (epoch: Int, weights: [Tensor<Float>])?
    var bestWritten = 0
    return { summary, state in
      if summary.isBest {
        best = (summary.epoch, model.network.parameters.map(\.value))
      }
      guard summary.epoch % every == 0 || summary.epoch == last else { return }
      var current = model
      current.trainingState = state()
      current.metadata = metadata.merging(["epochs-run": String(summary.epoch)]) { $1 }
      try current.save(to: folder.appendingPathComponent("last.json"))
      if let best, best.epoch != bestWritten {
        // The best weights go into the network just for the writing, then back.
        let parameters = model.network.parameters
        let current = parameters.map(\.value)
        for (parameter, value) in zip(parameters, best.weights) { parameter.value = value }
        defer { for (parameter, value) in zip(parameters, current) { parameter.value = value } }
        var kept = model
        kept.metadata = metadata.merging(["epochs-run": String(best.epoch)]) { $1 }
        try kept.save(to: folder.appendingPathComponent("best.json"))
        bestWritten = best.epoch
      }
    }
  }

  /// The metadata every model file of this run carries: version and resolved settings.
  private func runMetadata() throws -> [String: String] {
    ["backprop-version": backpropVersion, "specification": try specificationJSON()]
  }

  /// Trains and writes what the settings ask for. Under `mpirun` (``MPIReducer/launchedRanks``
  /// above 1) the run is data-parallel: every rank trains, rank 0 alone prints and writes, and
  /// an error on any rank stops them all (`MPI_Abort`), before any file is written.
  func execute(quiet: Bool, saveSpec: String?) throws {
    let parallel = try Self.joinRanks()
    guard let parallel else { return try write(quiet: quiet, saveSpec: saveSpec, reducer: nil) }
    do {
      try write(quiet: quiet || parallel.rank > 0, saveSpec: saveSpec, reducer: parallel)
      parallel.finish()
    } catch {
      FileHandle.standardError.write(
        Data("error on rank \(parallel.rank) of \(parallel.rankCount): \(error)\n".utf8))
      parallel.abort(code: 1)
      throw error
    }
  }

  /// The ranks of a run started by `mpirun` on more than one process; nil otherwise.
  ///
  /// - Throws: ``CLIError`` when `mpirun` started the process but libmpi cannot be loaded.
  private static func joinRanks() throws -> MPIReducer? {
    guard let ranks = MPIReducer.launchedRanks(), ranks > 1 else { return nil }
    do {
      return try MPIReducer()
    } catch {
      throw CLIError(
        "this process was started by mpirun as one of \(ranks) ranks, but \(error); install "
          + "Open MPI (apt install openmpi-bin) or set BACKPROP_MPI_LIBRARY to libmpi's path")
    }
  }

  private func write(quiet: Bool, saveSpec: String?, reducer: MPIReducer?) throws {
    let spec = specification
    let isPrimary = (reducer?.rank ?? 0) == 0
    if let reducer, isPrimary {
      print(
        "data-parallel on \(reducer.rankCount) ranks (MPI): each trains a shard of every batch "
          + "of \(spec.batchSize ?? 32); rank 0 writes")
    }
    for path in [spec.output, spec.history, spec.weights, saveSpec].compactMap({ $0 })
    where isPrimary {
      try AtomicFile.replaceableTarget(of: URL(fileURLWithPath: path))
    }
    let outcome = try train(quiet: quiet, reducer: reducer)
    guard isPrimary else { return }
    let (history, data, split) = (outcome.history, outcome.data, outcome.split)
    let stop = history.stopReason ?? .completed
    // Measured on the weights the model keeps (the best epoch's, when early stopping restored
    // them), in the targets' units, on each part of the data; a diverged run's last good
    // weights may give no finite output, so it reports none.
    var results: [(String, Double)] = []
    let measured =
      stop.diverged ? [] : [("", split.train), ("val_", split.validation), ("test_", split.test)]
    for (prefix, part) in measured {
      guard let part else { continue }
      let evaluation = try outcome.model.evaluate(on: part)
      results.append((prefix + "loss", evaluation.loss))
      for metric in Metric.defaults(for: data.targetKind) {
        results.append((prefix + metric.rawValue, evaluation.metrics[metric.rawValue] ?? .nan))
      }
    }
    var metadata = try runMetadata()
    metadata["epochs-run"] = String(history.epochCount)
    metadata["stop-reason"] = stop.description
    metadata["training-samples"] = String(outcome.train.count)
    if let reducer { metadata["ranks"] = String(reducer.rankCount) }
    for (name, value) in results { metadata["final-" + name] = String(value) }
    var model = outcome.model
    model.metadata = metadata
    // One transaction: every file is written before any replaces its target, and the model
    // goes in place last, so that a present model implies the rest of its set.
    let transaction = FileTransaction()
    var written: [String] = []
    if let path = spec.output { written.append("model \(path)") }
    if let path = spec.history {
      let url = URL(fileURLWithPath: path)
      try transaction.stage(try history.fileData(for: url), to: url)
      written.append("history \(path)")
    }
    if let path = spec.weights {
      try transaction.stage(try model.safeTensors().encoded(), to: URL(fileURLWithPath: path))
      written.append("weights \(path)")
    }
    if let directory = spec.plots {
      let pictures = try Self.pictures(
        model: model, history: history, data: data, snapshots: outcome.snapshots)
      try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
      for (name, picture) in pictures {
        let url = URL(fileURLWithPath: directory).appendingPathComponent(name + ".svg")
        try transaction.stage(try picture.fileData(for: url), to: url)
      }
      written.append(
        "pictures \(pictures.map { $0.name + ".svg" }.joined(separator: ", ")) in \(directory)")
    }
    if let path = saveSpec {
      try transaction.stage(Data(try spec.yaml().utf8), to: URL(fileURLWithPath: path))
      written.append("spec \(path)")
    }
    if let path = spec.output {
      try transaction.stage(try model.jsonData(), to: URL(fileURLWithPath: path))
    }
    try transaction.commit()

    if stop != .completed { print(stop) }
    for (name, value) in results { print("\(name): \(ProgressDisplay.format(value))") }
    if !written.isEmpty { print("wrote " + written.joined(separator: ", ")) }
    if case .diverged(let epoch, let batch, let value) = stop {
      throw CLIError(
        "training diverged: the loss became \(value) in epoch \(epoch), batch \(batch); the weights "
          + "saved are the last good ones. Lower the learning rate (now \(spec.learningRate ?? 0)) "
          + "or scale the inputs.")
    }
  }

  /// The pictures of a finished run, by file name without extension.
  static func pictures(
    model: Model<Float>, history: History, data: DataSet<Float>,
    snapshots: [(title: String, picture: SVGCanvas)]
  ) throws -> [(name: String, picture: SVGCanvas)] {
    let positive = history.values(of: "loss")?.allSatisfy { $0 > 0 } ?? false
    var pictures = [
      ("loss", try Plot.metricCurves(history, logScale: positive, title: "Loss")),
      (
        "network",
        try Plot.network(
          model.network, inputNames: model.featureNames,
          outputNames: model.targetKind.classNames ?? model.targetKind.columnNames)
      ),
    ]
    if history.columns.contains("accuracy") {
      pictures.append(
        ("accuracy", try Plot.metricCurves(history, metrics: ["accuracy"], title: "Accuracy")))
    }
    if data.featureCount == 2, data.targetKind.classNames != nil {
      pictures.append(("boundary", try model.decisionRegions(on: data)))
      if !snapshots.isEmpty {
        pictures.append(
          ("boundary-snapshots", Plot.grid(snapshots, title: "Decision regions during training")))
      }
    }
    if data.featureCount == 1, data.targetKind.width == 1, data.targetKind.classNames == nil {
      pictures.append(("fit", try model.regressionFit(on: data)))
    }
    return pictures
  }

  /// The data set and the loss: the loss decides whether targets are classes, and without a loss
  /// the data decide it.
  private func loadData() throws -> (
    DataSet<Float>, LossFunction, (fill: MissingValueFill, changed: Int)?
  ) {
    let spec = specification
    let named = try spec.loss.map(LossFunction.init(named:))
    var data: DataSet<Float>
    var missing: (fill: MissingValueFill, changed: Int)?
    if spec.sampleWeight != nil, spec.toy != nil {
      throw CLIError("--sample-weight names a column of the data file; a toy data set has none")
    }
    if let toy = spec.toy {
      data = try ToyData.named(
        toy, count: spec.samples ?? 400, noise: spec.noise ?? 0.1, seed: spec.seed ?? 1)
    } else {
      if let task = spec.task, let named, named.isClassification != (task == .classify) {
        throw CLIError(
          "--task \(task.rawValue) and the loss \(named.rawValue) disagree: that loss is for "
            + (named.isClassification ? "classes" : "numbers"))
      }
      let encoding: DataTable.TargetEncoding =
        spec.task.map { $0 == .classify ? .classes : .values }
        ?? named.map { $0.isClassification ? .classes : .values } ?? .automatic
      let reading = try readingOfSpecification()
      let weightColumn = spec.sampleWeight
      if weightColumn != nil, spec.missing == .drop {
        throw CLIError("--sample-weight and --missing drop cannot be used together")
      }
      let features =
        try spec.features
        ?? weightColumn.map { column in
          try DataInput.csvColumns(of: spec.data ?? "", reading: reading).filter {
            $0 != column && !RunSpecification.parseNames(spec.target ?? "").contains($0)
          }
        }
      do {
        if let strategy = spec.missing {
          let loaded = try DataInput.load(
            path: spec.data ?? "", target: spec.target, features: features,
            encoding: encoding, missing: strategy, reading: reading)
          data = loaded.data
          missing = (loaded.fill, loaded.changed)
        } else {
          data = try DataInput.load(
            path: spec.data ?? "", target: spec.target, features: features,
            labels: spec.labels, encoding: encoding, reading: reading)
        }
      } catch let error as BackpropError
        where spec.features == nil && "\(error)".contains("not a number")
        && !"\(error)".contains("target")
      {
        throw CLIError(
          "\(error) (every column but the target is a feature; choose them with --features)")
      }
      if let weightColumn {
        let weights = try DataInput.csvColumn(weightColumn, of: spec.data ?? "", reading: reading)
        do {
          data = try data.weighted(by: weights)
        } catch {
          throw CLIError("--sample-weight \(weightColumn): \(error)")
        }
      }
    }
    let isClassification = data.targetKind.classNames != nil
    let loss = named ?? .suited(to: data.targetKind)
    if loss.isClassification != isClassification {
      throw CLIError(
        "the loss \(loss.rawValue) needs \(loss.isClassification ? "classes" : "numeric targets"), "
          + "but the data have \(isClassification ? "classes" : "numeric targets")")
    }
    return (data, loss, missing)
  }

  /// How the spec says to read the data file.
  private func readingOfSpecification() throws -> DataReading {
    let spec = specification
    return try DataReading(
      format: spec.format, delimiter: spec.delimiter, encoding: spec.encoding,
      decimalComma: spec.decimalComma ?? false)
  }

  /// Why the run classifies or regresses, for its first line.
  private func taskReason(_ data: DataSet<Float>) -> String {
    let spec = specification
    if let task = spec.task { return "--task \(task.rawValue)" }
    if let loss = spec.loss { return "the loss \(loss)" }
    if spec.toy != nil { return "the toy data set" }
    guard let names = data.targetKind.classNames else {
      return "the target holds numbers with fractions, or more than 10 whole numbers with fewer "
        + "than 5 samples each; --task classify takes them as classes"
    }
    guard names.allSatisfy({ DataInput.isWholeNumber($0) }) else {
      return "the target holds text, read as classes"
    }
    return "the target holds whole numbers, read as classes as scikit-learn reads them; "
      + "--task regress fits them as numbers"
  }

  private func describe(data: DataSet<Float>, split: DataSplit<Float>, loss: LossFunction) -> String
  {
    let target: String
    switch data.targetKind {
    case .classification(let column, let names):
      target =
        "target '\(column)': \(names.count) classes (\(names.prefix(10).joined(separator: ", "))\(names.count > 10 ? ", …" : ""))"
        + " (\(taskReason(data)))"
    case .regression(let columns):
      target =
        "target \(columns.map { "'\($0)'" }.joined(separator: ", ")): regression (\(taskReason(data)))"
    }
    let parts = [
      "\(split.train.count) training", split.validation.map { "\($0.count) validation" },
      split.test.map { "\($0.count) test" },
    ].compactMap { $0 }
    return
      "data: \(data.count) samples × \(data.featureCount) features (\(parts.joined(separator: ", "))); "
      + "\(target); loss \(loss.rawValue)"
  }

  private func specificationJSON() throws -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    return String(decoding: try encoder.encode(specification.withoutOutputs), as: UTF8.self)
  }
}
