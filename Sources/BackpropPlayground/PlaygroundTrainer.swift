import Backprop
import BackpropCSV
import Foundation

/// One session's training, step by step: the data split, the network, the optimizer and what
/// the page shows of them.
///
/// Not thread-safe; a ``PlaygroundSession`` owns it and calls it from one task at a time.
final class PlaygroundTrainer {
  /// The settings it was built from, with the weights set by hand since.
  private(set) var settings: PlaygroundSettings
  /// The training part, as generated or uploaded.
  let train: DataSet<Float>
  /// The test part, as generated or uploaded.
  let test: DataSet<Float>?
  /// The network's inputs, computed from the data's features.
  let inputs: [PlaygroundFeature]
  /// The network's view of the training part: its inputs, scaled when the data were uploaded.
  private let networkTrain: DataSet<Float>
  private let networkTest: DataSet<Float>?
  /// Uploaded data's inputs are standardized (fitted on the training part); toy data's are used
  /// as computed, so that the trace shows the coordinates of the picture.
  let scaling: FeatureScaling?
  let loss: LossFunction
  let network: Sequential<Float>
  private let optimizer: any Optimizer<Float>
  private var generator: RandomGenerator?
  /// The batches of the current epoch not yet trained on.
  private var pending: [Batch<Float>] = []

  /// Neurons per layer, inputs first.
  let layerSizes: [Int]
  /// The neurons' names, layer by layer, as ``StepTrace/neuronNames(layerSizes:)`` gives them.
  let neuronNames: [[String]]

  /// Gradient steps taken.
  private(set) var step = 0
  /// Epochs completed.
  private(set) var epoch = 0
  /// The losses after each epoch (thinned to at most ``curveCapacity`` points), for the curve.
  private(set) var curve: [(epoch: Int, train: Double, test: Double?)] = []
  /// Why training stopped for good, when the loss stopped being finite.
  private(set) var divergence: String?
  /// The last step's forward and backward pass, neuron by neuron.
  private(set) var trace: StepTrace?
  /// ``Doctor``'s findings and the step they were made at.
  private var diagnosed: (step: Int, found: [Diagnosis])?

  /// The most points the loss curve keeps; beyond, every other one is dropped. A 600-pixel
  /// curve needs no more, and each point costs a frame about 15 bytes a series.
  static let curveCapacity = 100
  /// The most samples of a batch that the trace follows.
  static let traceSamples = 32

  /// Builds the data and the network of `settings`; `upload` is the session's CSV file.
  ///
  /// - Throws: ``PlaygroundError`` (400) when the settings do not fit the data.
  init(settings: PlaygroundSettings, upload: DataTable?, limits: PlaygroundLimits) throws {
    self.settings = settings
    let data: DataSet<Float>
    do {
      if settings.data == "upload" {
        guard let upload else {
          throw PlaygroundError("upload a CSV file before choosing the data set 'upload'")
        }
        data = try Self.dataSet(upload, loss: settings.loss, limits: limits)
      } else {
        data = try ToyData.named(
          settings.data, count: settings.samples, noise: settings.noise, seed: settings.seed)
      }
      let isClassification = data.targetKind.classNames != nil
      loss = settings.loss ?? .suited(to: data.targetKind)
      guard loss.isClassification == isClassification else {
        throw PlaygroundError(
          "the loss \(loss.rawValue) needs \(loss.isClassification ? "classes" : "numeric targets"), "
            + "but the data have \(isClassification ? "classes" : "numeric targets")")
      }
      let inputs =
        settings.features.isEmpty
        ? Array([PlaygroundFeature.x1, .x2].prefix(data.featureCount)) : settings.features
      self.inputs = inputs
      if data.featureCount == 1, let needing = inputs.first(where: \.needsSecondFeature) {
        throw PlaygroundError(
          "the input \(needing.rawValue) needs a second feature, and the data have one; choose "
            + "from x1, x1sq, sinx1")
      }
      let split = try data.split(
        validationFraction: 0, testFraction: 1 - settings.trainFraction, seed: settings.seed)
      train = split.train
      test = split.test
      let inputNames = inputs.map { $0.columnName(featureNames: data.featureNames) }
      func withInputs(_ part: DataSet<Float>) throws -> DataSet<Float> {
        try DataSet(
          features: Self.inputs(inputs, of: part.features), targets: part.targets,
          featureNames: inputNames, targetKind: part.targetKind)
      }
      let trainInputs = try withInputs(split.train)
      let scaling =
        settings.data == "upload"
        ? try FeatureScaling(fitting: .standardize, to: trainInputs.features) : nil
      func scaled(_ part: DataSet<Float>) throws -> DataSet<Float> {
        try scaling.map { try part.scaled(by: $0) } ?? part
      }
      self.scaling = scaling
      networkTrain = try scaled(trainInputs)
      networkTest = try split.test.map { try scaled(withInputs($0)) }
      layerSizes = [inputs.count] + settings.layerSizes + [data.targetKind.width]
      neuronNames = StepTrace.neuronNames(layerSizes: layerSizes)
      network = try Sequential.perceptron(
        sizes: layerSizes, activations: settings.layerActivations, dropout: settings.dropout,
        seed: settings.seed, loss: loss)
      optimizer = try settings.optimizer.make(
        parameters: network.parameters, learningRate: settings.learningRate,
        weightDecay: settings.weightDecay, l1Penalty: settings.l1Penalty)
    } catch let error as BackpropError {
      throw PlaygroundError("\(error)")
    }
    generator = RandomGenerator(seed: settings.seed &+ 1)
    for weight in settings.weights { try setWeight(weight.edge, to: weight.value) }
  }

  /// The network's inputs of raw feature rows (`[n, 1]` or `[n, 2]`).
  private static func inputs(_ inputs: [PlaygroundFeature], of features: Tensor<Float>) throws
    -> Tensor<Float>
  {
    let values = PlaygroundFeature.expand(
      features.scalars.map(Double.init), width: features.shape[1], into: inputs)
    return try Tensor(shape: [features.shape[0], inputs.count], scalars: values.map(Float.init))
  }

  /// What the network takes for raw feature rows: its inputs, scaled as in training.
  func networkInput(_ features: Tensor<Float>) throws -> Tensor<Float> {
    let computed = try Self.inputs(inputs, of: features)
    return try scaling?.apply(to: computed) ?? computed
  }

  /// The uploaded table as a data set: the last column is the target, the others (one or two)
  /// the features.
  static func dataSet(_ table: DataTable, loss: LossFunction?, limits: PlaygroundLimits) throws
    -> DataSet<Float>
  {
    guard (2...3).contains(table.columnNames.count) else {
      throw PlaygroundError(
        "the playground draws one or two features and a target (the last column); "
          + "\(table.source) has \(table.columnNames.count) columns")
    }
    guard (4...limits.samples).contains(table.rows.count) else {
      throw PlaygroundError(
        "\(table.source) has \(table.rows.count) rows; the playground takes 4...\(limits.samples)")
    }
    let encoding: DataTable.TargetEncoding =
      loss.map { $0.isClassification ? .classes : .values } ?? .automatic
    let data: DataSet<Float> = try table.dataSet(
      targetColumns: [table.columnNames[table.columnNames.count - 1]], encoding: encoding)
    if let classes = data.targetKind.classNames {
      guard (2...8).contains(classes.count), data.featureCount == 2 else {
        throw PlaygroundError(
          "classes are drawn over two features, 2 to 8 classes; \(table.source) has "
            + "\(data.featureCount) feature(s) and \(classes.count) class(es)")
      }
    }
    return data
  }

  // MARK: Weights set by hand

  /// Where an edge's weight is: the `Linear` layer, its place among the network's `Linear`s,
  /// and the weight's index in the layer's row-major `[inputs, outputs]` weights.
  struct Edge {
    let linear: Linear<Float>
    let layer: Int
    let index: Int
  }

  /// The edge `from-to` (`i1-h1_2`).
  ///
  /// - Throws: ``PlaygroundError`` for an edge this network does not have.
  func edge(_ name: String) throws -> Edge {
    let parts = name.split(separator: "-", omittingEmptySubsequences: false).map(String.init)
    let linears = network.layers.compactMap { $0 as? Linear<Float> }
    for (layer, linear) in linears.enumerated() where parts.count == 2 {
      if let row = neuronNames[layer].firstIndex(of: parts[0]),
        let column = neuronNames[layer + 1].firstIndex(of: parts[1])
      {
        return Edge(linear: linear, layer: layer, index: row * (linear.outputSize ?? 0) + column)
      }
    }
    throw PlaygroundError(
      "there is no edge '\(name)' in this network (an edge is FROM-TO, such as "
        + "\(neuronNames[0][0])-\(neuronNames[1][0]))")
  }

  /// Sets the weight of the edge `name` in the running network and keeps it in the settings,
  /// so that the page's link sets it again.
  ///
  /// - Throws: ``PlaygroundError`` for an unknown edge, a value that is not finite or beyond
  ///   ``PlaygroundLimits/largestSetWeight``, or more set weights than a link carries.
  func setWeight(_ name: String, to value: Double) throws {
    try PlaygroundLimits.checkSetWeight(value, of: "a weight")
    let edge = try edge(name)
    var kept = settings.weights.filter { $0.edge != name }
    kept.append(PlaygroundSettings.SetWeight(edge: name, value: value))
    guard kept.count <= PlaygroundLimits.weightsInLink else {
      throw PlaygroundError(
        "a link carries at most \(PlaygroundLimits.weightsInLink) set weights; reset to set others")
    }
    var weights = edge.linear.weight.value
    weights.withUnsafeMutableBufferPointer { $0[edge.index] = Float(value) }
    edge.linear.weight.value = weights
    settings.weights = kept
  }

  // MARK: Training

  /// Takes up to `steps` gradient steps, stopping early after `budget` or when the loss is no
  /// longer finite (the weights are then the last good ones). The last step is traced first.
  /// Returns the steps taken.
  @discardableResult
  func advance(steps: Int, budget: Duration = .milliseconds(60)) -> Int {
    guard divergence == nil else { return 0 }
    let clock = ContinuousClock()
    let deadline = clock.now + budget
    var taken = 0
    while taken < steps {
      if pending.isEmpty {
        pending =
          (try? networkTrain.batches(size: settings.batchSize, shuffledBy: &generator)) ?? []
        pending.reverse()
      }
      guard let batch = pending.popLast() else { break }
      let isLast = taken == steps - 1 || clock.now >= deadline
      if isLast { traceStep(on: batch) }
      do {
        _ = try TrainingMode.training {
          try network.trainingStep(
            input: batch.features, target: batch.targets, loss: loss.loss, optimizer: optimizer)
        }
      } catch BackpropError.nonFiniteLoss(let value, _) {
        divergence =
          "the loss became \(value) at step \(step + 1) (epoch \(epoch + 1)); the weights are the "
          + "last good ones. Lower the learning rate (now \(settings.learningRate)) and reset."
        return taken
      } catch {
        divergence = "training stopped: \(error)"
        return taken
      }
      step += 1
      taken += 1
      if pending.isEmpty { finishEpoch() }
      if isLast { break }
    }
    return taken
  }

  private func finishEpoch() {
    epoch += 1
    let measures = measure()
    curve.append((epoch, measures.trainLoss, measures.testLoss))
    if curve.count > Self.curveCapacity {
      // Keep the first and last points and every other one between.
      curve = curve.enumerated().filter { $0.offset % 2 == 0 || $0.offset == curve.count - 1 }
        .map(\.element)
    }
  }

  /// Traces the step about to be taken on (the first samples of) `batch`.
  private func traceStep(on batch: Batch<Float>) {
    let count = min(batch.indices.count, Self.traceSamples)
    let rows = { (tensor: Tensor<Float>) -> Tensor<Float> in
      let width = tensor.shape[1]
      return
        (try? Tensor(shape: [count, width], scalars: Array(tensor.scalars[0..<(count * width)])))
        ?? tensor
    }
    trace = try? StepTrace(
      network: network, input: rows(batch.features), target: rows(batch.targets), loss: loss,
      learningRate: optimizer.learningRate)
  }

  // MARK: Reading

  /// Loss and accuracy on the training and test parts.
  struct Measures {
    var trainLoss: Double
    var testLoss: Double?
    var trainAccuracy: Double?
    var testAccuracy: Double?
  }

  func measure() -> Measures {
    let trainEvaluation = try? network.evaluate(on: networkTrain, loss: loss.loss)
    let testEvaluation = networkTest.flatMap { try? network.evaluate(on: $0, loss: loss.loss) }
    return Measures(
      trainLoss: trainEvaluation?.loss ?? .nan, testLoss: testEvaluation?.loss,
      trainAccuracy: trainEvaluation?.metrics["accuracy"],
      testAccuracy: testEvaluation?.metrics["accuracy"])
  }

  /// ``Doctor``'s diagnoses of the network on the training inputs as it is now, with the loss
  /// curve's last 50 epochs once it has 10; made again only after a step.
  func diagnoses() -> [Diagnosis] {
    if let diagnosed, diagnosed.step == step { return diagnosed.found }
    let history =
      curve.count >= 10
      ? try? History(
        columns: ["epoch", "loss"], rows: curve.suffix(50).map { [Double($0.epoch), $0.train] })
      : nil
    let found =
      (try? Doctor.examine(network: network, data: networkTrain, loss: loss, history: history))
      ?? []
    diagnosed = (step, found)
    return found
  }

  /// The trained network as a model file's contents, ready for `backprop predict`.
  func model() throws -> Model<Float> {
    try Model(
      network: network, featureNames: networkTrain.featureNames, targetKind: train.targetKind,
      scaling: scaling, loss: loss,
      metadata: [
        "backprop-version": backpropVersion, "playground-settings": settings.query,
        "steps": String(step), "epochs-run": String(epoch),
      ])
  }
}
