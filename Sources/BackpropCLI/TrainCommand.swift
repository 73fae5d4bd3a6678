import ArgumentParser
import Backprop
import Foundation

extension ActivationFunction: ExpressibleByArgument {}

/// `backprop train`: trains a multilayer perceptron on a data file or toy data set and saves the
/// model, its history and its weights.
struct TrainCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "train",
    abstract: "Train a network on a CSV, .npy or IDX file (or a toy data set) and save the model.",
    discussion: """
      Every setting can come from a spec file (--spec run.yaml, YAML or JSON, keys spelled as \
      the flags: learning-rate, batch-size, …); flags given as well override the file. The \
      resolved settings are stored in the model file, and --save-spec writes them out, so a run \
      can be repeated exactly.

      Classification (--loss cross-entropy) treats each distinct value of the target column as a \
      class; regression (--loss mse) takes one or more numeric target columns (--target a,b). \
      Without --loss, a target column holding text means classification, numbers regression.
      """
  )

  @Option(help: "A YAML or JSON file of settings; flags override it.")
  var spec: String?

  @Option(help: "The data file: .csv with a header, .npy features, or IDX images (MNIST).")
  var data: String?

  @Option(help: "The targets of .npy or IDX data: a .npy array or an IDX labels file.")
  var labels: String?

  @Option(
    help:
      "A toy data set instead of a file: \((ToyData.classificationNames + ["sine"]).joined(separator: ", "))."
  )
  var toy: String?

  @Option(help: "Samples of the toy data set (default 400).")
  var samples: Int?

  @Option(help: "Noise of the toy data set (default 0.1).")
  var noise: Double?

  @Option(help: "The target column of a CSV file (several, comma-separated, for regression).")
  var target: String?

  @Option(help: "The feature columns of a CSV file, comma-separated (default: every other column).")
  var features: String?

  @Option(help: "Hidden layer sizes, comma-separated, such as 64,32 (default 32).")
  var layers: String?

  @Option(
    help:
      "The hidden activation: \(ActivationFunction.allCases.map(\.rawValue).joined(separator: ", ")) (default relu)."
  )
  var activation: ActivationFunction?

  @Option(help: "The loss: \(LossFunction.allCases.map(\.rawValue).joined(separator: ", ")).")
  var loss: String?

  @Option(help: "The optimizer: adam or sgd (default adam).")
  var optimizer: String?

  @Option(
    name: [.customLong("learning-rate"), .customLong("lr")],
    help: "The learning rate (default 0.001 for adam, 0.01 for sgd).")
  var learningRate: Double?

  @Option(help: "SGD momentum (default 0).")
  var momentum: Double?

  @Option(help: "L2 weight decay added to the gradients (default 0).")
  var weightDecay: Double?

  @Option(help: "Dropout rate after each hidden layer (default 0).")
  var dropout: Double?

  @Option(help: "Epochs (default 20).")
  var epochs: Int?

  @Option(help: "Samples per batch (default 32).")
  var batchSize: Int?

  @Option(help: "Fraction of the data held out for validation (default 0).")
  var validationSplit: Double?

  @Option(help: "Fraction of the data held out for a final test (default 0).")
  var testSplit: Double?

  @Option(help: "The seed of everything random: split, initial weights, shuffling, dropout.")
  var seed: UInt64?

  @Option(
    help:
      "Feature scaling stored with the model: standardize, min-max or none (default standardize).")
  var scale: String?

  @Option(
    help: "Learning-rate schedule: constant, step:EVERY:FACTOR, exponential:DECAY, cosine[:MIN].")
  var schedule: String?

  @Option(help: "Stop after this many epochs without improvement, restoring the best weights.")
  var earlyStopping: Int?

  @Option(help: "Where to save the model (JSON).")
  var output: String?

  @Option(help: "Where to write the per-epoch history (.csv or .json).")
  var history: String?

  @Option(help: "Where to write the weights in safetensors format, named as PyTorch names them.")
  var weights: String?

  @Option(
    help: "A directory for the run's pictures (loss, accuracy, network, decision regions or fit).")
  var plots: String?

  @Option(help: "Epochs between the decision-region snapshots of --plots (default: six in all).")
  var snapshotEvery: Int?

  @Option(help: "Write the resolved settings to this YAML file.")
  var saveSpec: String?

  @Flag(help: "Print only the final results, no progress.")
  var quiet = false

  private var flags: RunSpecification {
    get throws {
      var flags = RunSpecification()
      flags.data = data
      flags.labels = labels
      flags.toy = toy
      flags.samples = samples
      flags.noise = noise
      flags.target = target
      flags.features = features.map(RunSpecification.parseNames)
      flags.layers = try layers.map(RunSpecification.parseLayers)
      flags.activation = activation
      flags.loss = loss
      flags.optimizer = optimizer
      flags.learningRate = learningRate
      flags.momentum = momentum
      flags.weightDecay = weightDecay
      flags.dropout = dropout
      flags.epochs = epochs
      flags.batchSize = batchSize
      flags.validationSplit = validationSplit
      flags.testSplit = testSplit
      flags.seed = seed
      flags.scale = scale
      flags.schedule = schedule
      flags.earlyStopping = earlyStopping
      flags.output = output
      flags.history = history
      flags.weights = weights
      flags.plots = plots
      flags.snapshotEvery = snapshotEvery
      return flags
    }
  }

  func run() throws {
    let file = try spec.map(RunSpecification.load(from:)) ?? RunSpecification()
    let run = try TrainingRun(specification: file.overridden(by: flags))
    try run.execute(quiet: quiet, saveSpec: saveSpec)
  }
}
