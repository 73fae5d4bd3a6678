import Backprop
import BackpropCSV
import Foundation

/// One session's training, step by step: the data split, the network, the optimizer and what
/// the page shows of them.
///
/// Not thread-safe; a ``PlaygroundSession`` owns it and calls it from one task at a time.
final class PlaygroundTrainer {
  /// The settings it was built from.
  let settings: PlaygroundSettings
  /// The training part, as generated or uploaded.
  let train: DataSet<Float>
  /// The test part, as generated or uploaded.
  let test: DataSet<Float>?
  /// The network's view of the training part (scaled when the data were uploaded).
  private let scaledTrain: DataSet<Float>
  private let scaledTest: DataSet<Float>?
  /// Uploaded features are standardized (fitted on the training part); toy data are used as
  /// generated, so that the trace shows the coordinates of the picture.
  let scaling: FeatureScaling?
  let loss: LossFunction
  let network: Sequential<Float>
  private let optimizer: any Optimizer<Float>
  private var generator: RandomGenerator?
  /// The batches of the current epoch not yet trained on.
  private var pending: [Batch<Float>] = []

  /// Neurons per layer, inputs first.
  let layerSizes: [Int]

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

  /// The most points the loss curve keeps; beyond, every other one is dropped.
  static let curveCapacity = 600
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
      let split = try data.split(
        validationFraction: 0, testFraction: 1 - settings.trainFraction, seed: settings.seed)
      train = split.train
      test = split.test
      let scaling =
        settings.data == "upload"
        ? try FeatureScaling(fitting: .standardize, to: split.train.features) : nil
      func scaled(_ part: DataSet<Float>) throws -> DataSet<Float> {
        try scaling.map { try part.scaled(by: $0) } ?? part
      }
      self.scaling = scaling
      scaledTrain = try scaled(split.train)
      scaledTest = try split.test.map(scaled)
      layerSizes = [data.featureCount] + settings.layers + [data.targetKind.width]
      network = try Sequential.perceptron(
        sizes: layerSizes,
        activation: settings.activation, seed: settings.seed, loss: loss)
      optimizer = try settings.optimizer.make(
        parameters: network.parameters, learningRate: settings.learningRate,
        weightDecay: settings.weightDecay)
    } catch let error as BackpropError {
      throw PlaygroundError("\(error)")
    }
    generator = RandomGenerator(seed: settings.seed &+ 1)
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
    } else if data.featureCount != 1 {
      throw PlaygroundError(
        "numeric targets are drawn over one feature; \(table.source) has \(data.featureCount) "
          + "(for classes, make the target column text, or choose a classification loss)")
    }
    return data
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
          (try? scaledTrain.batches(size: settings.batchSize, shuffledBy: &generator)) ?? []
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
    let trainEvaluation = try? network.evaluate(on: scaledTrain, loss: loss.loss)
    let testEvaluation = scaledTest.flatMap { try? network.evaluate(on: $0, loss: loss.loss) }
    return Measures(
      trainLoss: trainEvaluation?.loss ?? .nan, testLoss: testEvaluation?.loss,
      trainAccuracy: trainEvaluation?.metrics["accuracy"],
      testAccuracy: testEvaluation?.metrics["accuracy"])
  }

  /// The trained network as a model file's contents, ready for `backprop predict`.
  func model() throws -> Model<Float> {
    try Model(
      network: network, featureNames: train.featureNames, targetKind: train.targetKind,
      scaling: scaling, loss: loss,
      metadata: [
        "backprop-version": backpropVersion, "playground-settings": settings.query,
        "steps": String(step), "epochs-run": String(epoch),
      ])
  }
}
