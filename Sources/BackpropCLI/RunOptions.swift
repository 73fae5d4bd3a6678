import ArgumentParser
import Backprop

/// The settings of a training run as flags, shared by `train` and `doctor`; each overrides the
/// same key of a `--spec` file.
struct RunOptions: ParsableArguments {
  @Option(help: "A YAML or JSON file of settings; flags override it.")
  var spec: String?

  @Option(
    help:
      "The data file: .csv with a header, .npy features, an .npz archive, or IDX images (MNIST).")
  var data: String?

  @Option(
    help:
      "The targets of .npy, .npz or IDX data: a .npy array, an IDX labels file, or an array of the .npz."
  )
  var labels: String?

  @Option(
    help:
      "A toy data set instead of a file: \((ToyData.classificationNames + ToyData.regressionNames).joined(separator: ", "))."
  )
  var toy: String?

  @Option(help: "Samples of the toy data set (default 400).")
  var samples: Int?

  @Option(help: "Noise of the toy data set (default 0.1).")
  var noise: Double?

  @Option(help: "The target column of a CSV file (several, comma-separated, for regression).")
  var target: String?

  @Option(
    help:
      "The feature columns of a CSV file, comma-separated (default: every other column); the features' array of an .npz."
  )
  var features: String?

  @Option(
    help:
      "classify or regress (default: as scikit-learn reads the target: text or whole numbers are classes)."
  )
  var task: TaskKind?

  @Option(
    help:
      "Missing feature values of a CSV file (empty, NA, NaN, null, ?): drop their rows, or fill them with their column's mean or median (stored with the model). Default: an error."
  )
  var missing: MissingValueFill.Strategy?

  @OptionGroup var file: DataFileOptions

  @Option(
    help:
      "Hidden layer sizes, comma-separated, each with an optional activation: 64,32 or 64:relu,32:tanh (default 32)."
  )
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

  @Option(help: "L1 penalty: λ·sign(w) added to the gradients (default 0).")
  var l1Penalty: Double?

  @Option(help: "Dropout rate after each hidden layer (default 0).")
  var dropout: Double?

  @Option(
    help:
      "Epochs, exactly (default: until the training loss stops improving by a relative 1e-4 for 10 epochs, at most 200, as scikit-learn)."
  )
  var epochs: Int?

  @Flag(
    inversion: .prefixedNo,
    help:
      "Stop when the training loss has not improved by a relative 1e-4 for 10 epochs (the default without --epochs)."
  )
  var converge: Bool?

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
    help:
      "Weigh classes in the training loss: balanced (n / (classes × n_class), as scikit-learn) or CLASS:WEIGHT,… (others weigh 1)."
  )
  var classWeight: String?

  @Option(
    help:
      "A CSV column of each sample's weight in the training loss (not a feature), as scikit-learn's sample_weight."
  )
  var sampleWeight: String?

  @Option(
    help:
      "Regression targets: standardize for training (stored with the model; predict answers in the targets' units) or none (default standardize)."
  )
  var targetScale: String?

  @Option(
    help:
      "Learning-rate schedule: constant, step:EVERY:FACTOR, exponential:DECAY, cosine[:MIN], plateau[:PATIENCE[:FACTOR[:MIN]]]."
  )
  var schedule: String?

  @Option(help: "Stop after this many epochs without improvement, restoring the best weights.")
  var earlyStopping: Int?

  /// The settings given as flags.
  var flags: RunSpecification {
    get throws {
      var flags = RunSpecification()
      flags.data = data
      flags.labels = labels
      flags.toy = toy
      flags.samples = samples
      flags.noise = noise
      flags.target = target
      flags.features = features.map(RunSpecification.parseNames)
      flags.task = task
      flags.missing = missing
      flags.format = file.format
      flags.delimiter = file.delimiter
      flags.encoding = file.encoding
      flags.decimalComma = file.decimalComma ? true : nil
      flags.layers = try layers.map(RunSpecification.parseLayers)
      flags.activation = activation
      flags.loss = loss
      flags.optimizer = optimizer
      flags.learningRate = learningRate
      flags.momentum = momentum
      flags.weightDecay = weightDecay
      flags.l1Penalty = l1Penalty
      flags.dropout = dropout
      flags.epochs = epochs
      // Epochs asked for are run exactly, unless --converge says otherwise.
      flags.converge = converge ?? (epochs == nil ? nil : false)
      flags.batchSize = batchSize
      flags.validationSplit = validationSplit
      flags.testSplit = testSplit
      flags.seed = seed
      flags.scale = scale
      flags.schedule = schedule
      flags.targetScale = targetScale
      flags.classWeight = classWeight
      flags.sampleWeight = sampleWeight
      flags.earlyStopping = earlyStopping
      return flags
    }
  }

  /// The spec file's settings overridden by `flags` (which include these options).
  func specification(overriddenBy flags: RunSpecification) throws -> RunSpecification {
    let file = try spec.map(RunSpecification.load(from:)) ?? RunSpecification()
    return file.overridden(by: flags)
  }
}
