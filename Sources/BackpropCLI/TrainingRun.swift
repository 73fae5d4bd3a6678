import Backprop
import Foundation

/// A training run with every default filled in: loads the data, builds the network, trains it
/// and writes what was asked for.
struct TrainingRun {
  /// The resolved settings; every field the run reads is set.
  let specification: RunSpecification

  init(specification given: RunSpecification) throws {
    var spec = given
    guard (spec.data == nil) != (spec.toy == nil) else {
      throw CLIError("give the training data with --data FILE or --toy NAME (one of them)")
    }
    if spec.toy != nil {
      spec.samples = spec.samples ?? 400
      spec.noise = spec.noise ?? 0.1
    }
    spec.layers = spec.layers ?? [32]
    spec.activation = spec.activation ?? .relu
    guard let optimizer = OptimizerKind(rawValue: (spec.optimizer ?? "adam").lowercased()) else {
      throw CLIError("--optimizer must be adam or sgd (got '\(spec.optimizer ?? "")')")
    }
    spec.optimizer = optimizer.rawValue
    spec.learningRate = spec.learningRate ?? optimizer.defaultLearningRate
    spec.momentum = spec.momentum ?? 0
    spec.weightDecay = spec.weightDecay ?? 0
    spec.dropout = spec.dropout ?? 0
    spec.epochs = spec.epochs ?? 20
    spec.batchSize = spec.batchSize ?? 32
    spec.validationSplit = spec.validationSplit ?? 0
    spec.testSplit = spec.testSplit ?? 0
    spec.seed = spec.seed ?? 1
    spec.scale = spec.scale ?? "standardize"
    spec.schedule = spec.schedule ?? "constant"
    try Self.check(spec)
    specification = spec
  }

  private static func check(_ spec: RunSpecification) throws {
    if let loss = spec.loss { _ = try LossFunction(named: loss) }
    _ = try scaling(spec.scale)
    if let epochs = spec.epochs, !(1...10_000_000).contains(epochs) {
      throw CLIError("--epochs must be in 1...10000000 (got \(epochs))")
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
    if (spec.layers ?? []).contains(where: { $0 > 100_000 }) {
      throw CLIError("--layers: a layer of more than 100000 units is not supported")
    }
    // Each real-valued option is checked here, where the flag can be named: a NaN would
    // otherwise pass every comparison and surface only when the spec is written at the end.
    let ranges: [(flag: String, value: Double?, range: String, holds: (Double) -> Bool)] = [
      ("--learning-rate", spec.learningRate, "at least 0", { $0 >= 0 }),
      ("--momentum", spec.momentum, "in [0, 1)", { $0 >= 0 && $0 < 1 }),
      ("--weight-decay", spec.weightDecay, "at least 0", { $0 >= 0 }),
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
    var scaling: FeatureScaling?
    /// The fill of the data file's missing values, when `--missing` was given.
    var missingValues: MissingValueFill?
    var loss: LossFunction
    /// The training part, scaled as the network sees it.
    var train: DataSet<Float>
    /// The test part, scaled, if one was held out.
    var test: DataSet<Float>?
    /// Decision-region snapshots, when pictures were asked for.
    var snapshots: [(title: String, picture: SVGCanvas)]
  }

  /// Loads the data, builds the network and trains it, showing progress unless `quiet`.
  func train(quiet: Bool) throws -> Outcome {
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
    func prepare(_ part: DataSet<Float>?) throws -> DataSet<Float>? {
      guard let part else { return nil }
      return try scaling.map { try part.scaled(by: $0) } ?? part
    }
    let train = try scaling.map { try split.train.scaled(by: $0) } ?? split.train
    let validation = try prepare(split.validation)
    let test = try prepare(split.test)

    let sizes = [data.featureCount] + (spec.layers ?? []) + [data.targetKind.width]
    try Self.checkMemory(sizes: sizes)
    let network = try Sequential<Float>.perceptron(
      sizes: sizes,
      activation: spec.activation ?? .relu, dropout: spec.dropout ?? 0, seed: seed, loss: loss)
    let kind = try OptimizerKind(named: spec.optimizer ?? "adam")
    let optimizer: any Optimizer<Float> = try kind.make(
      parameters: network.parameters, learningRate: spec.learningRate ?? kind.defaultLearningRate,
      momentum: spec.momentum ?? 0, weightDecay: spec.weightDecay ?? 0)
    let epochs = spec.epochs ?? 20
    let configuration = FitConfiguration(
      epochs: epochs, batchSize: spec.batchSize ?? 32, seed: seed,
      schedule: try LearningRateSchedule(parsing: spec.schedule ?? "constant", epochs: epochs),
      earlyStopping: try spec.earlyStopping.map { try EarlyStopping(patience: $0) })

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
      print("\(network)\noptimizer: \(optimizer)\n")
    }
    let display = ProgressDisplay(quiet: quiet, sampleCount: train.count)
    var callbacks = display.callbacks
    var snapshots: [(title: String, picture: SVGCanvas)] = []
    if spec.plots != nil, data.featureCount == 2, data.targetKind.classNames != nil {
      // Decision regions every few epochs and at the end, as seed 003 plots them.
      let every = spec.snapshotEvery ?? max(1, (epochs - 1) / 5)
      let marks = Set(Array(stride(from: 1, through: epochs, by: every)) + [epochs])
      let showProgress = callbacks.afterEpoch
      callbacks.afterEpoch = { summary in
        if marks.contains(summary.epoch) {
          let snapshot = try? Model(
            network: network, featureNames: data.featureNames, targetKind: data.targetKind,
            scaling: scaling, loss: loss)
          if let picture = try? snapshot?.decisionRegions(on: split.train, title: "") {
            snapshots.append(("epoch \(summary.epoch)", picture))
          }
        }
        return showProgress?(summary) ?? .proceed
      }
    }
    let history = try network.fit(
      train, validation: validation, loss: loss.loss, optimizer: optimizer,
      configuration: configuration, callbacks: callbacks)

    return Outcome(
      network: network, history: history, data: data, split: split, scaling: scaling,
      missingValues: missing?.fill, loss: loss, train: train, test: test, snapshots: snapshots)
  }

  func execute(quiet: Bool, saveSpec: String?) throws {
    let spec = specification
    for path in [spec.output, spec.history, spec.weights, saveSpec].compactMap({ $0 }) {
      try AtomicFile.replaceableTarget(of: URL(fileURLWithPath: path))
    }
    let outcome = try train(quiet: quiet)
    let (network, history, data, loss) = (
      outcome.network, outcome.history, outcome.data, outcome.loss
    )
    let (train, test, scaling, snapshots) = (
      outcome.train, outcome.test, outcome.scaling, outcome.snapshots
    )
    var results: [(String, Double)] = []
    for (name, value) in zip(history.columns, history.rows.last ?? []) where name != "learning_rate"
    {
      results.append((name, value))
    }
    let stop = history.stopReason ?? .completed
    if let test {
      let evaluation = try network.evaluate(on: test, loss: loss.loss)
      results.append(("test_loss", evaluation.loss))
      for name in evaluation.metrics.keys.sorted() {
        results.append(("test_" + name, evaluation.metrics[name] ?? .nan))
      }
    }
    var metadata = [
      "backprop-version": backpropVersion, "epochs-run": String(history.epochCount),
      "stop-reason": stop.description, "training-samples": String(train.count),
      "specification": try specificationJSON(),
    ]
    for (name, value) in results { metadata["final-" + name] = String(value) }

    let model = try Model(
      network: network, featureNames: data.featureNames, targetKind: data.targetKind,
      scaling: scaling, missingValues: outcome.missingValues, loss: loss, metadata: metadata)
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
        model: model, history: history, data: data, snapshots: snapshots)
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
    let data: DataSet<Float>
    var missing: (fill: MissingValueFill, changed: Int)?
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
      do {
        if let strategy = spec.missing {
          let loaded = try DataInput.load(
            path: spec.data ?? "", target: spec.target, features: spec.features,
            encoding: encoding, missing: strategy, reading: reading)
          data = loaded.data
          missing = (loaded.fill, loaded.changed)
        } else {
          data = try DataInput.load(
            path: spec.data ?? "", target: spec.target, features: spec.features,
            labels: spec.labels, encoding: encoding, reading: reading)
        }
      } catch let error as BackpropError
        where spec.features == nil && "\(error)".contains("not a number")
        && !"\(error)".contains("target")
      {
        throw CLIError(
          "\(error) (every column but the target is a feature; choose them with --features)")
      }
    }
    let isClassification = data.targetKind.classNames != nil
    let loss = named ?? (isClassification ? .crossEntropy : .meanSquaredError)
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
      return "the target holds numbers with fractions; --task classify takes them as classes"
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
