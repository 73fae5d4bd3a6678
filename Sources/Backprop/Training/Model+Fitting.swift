/// A model as Keras makes one: built for a data set, it fits its scaling to the data and trains,
/// evaluates, predicts, saves and prints itself in the data's own units.
///
/// ```swift
/// let data = try DataTable.dataSet(csvFile: url, targetColumns: ["species"], as: Float.self)
/// let (train, test) = try data.split(testFraction: 0.25, seed: 1)
/// var model = try Model(perceptronFor: train, hiddenLayers: [32], seed: 1)
/// try model.fit(train)                     // until the loss stops improving, ≤ 200 epochs
/// print(model)                             // a table of layers, shapes and parameters
/// print(try model.evaluate(on: test).metrics["accuracy"] ?? 0)
/// try model.save(to: URL(fileURLWithPath: "iris.json"))
/// let classes = try Model<Float>(contentsOf: url).predictedClassNames([[5.1, 3.5, 1.4, 0.2]])
/// ```
extension Model {
  /// A multilayer perceptron for data like `data`: `hiddenLayers` of `activation` between the
  /// data's features and its targets, with the scaling of `scaling` fitted to its features and,
  /// for regression with `standardizesTargets`, its targets standardized.
  ///
  /// The loss is cross-entropy for classes and MSE for values unless `loss` says otherwise.
  ///
  /// - Throws: ``BackpropError`` for sizes, rates or a loss that do not fit the data.
  public init(
    perceptronFor data: DataSet<Scalar>, hiddenLayers: [Int] = [32],
    activation: ActivationFunction = .relu, loss: LossFunction? = nil,
    scaling: FeatureScaling.Method? = .standardize, standardizesTargets: Bool = true,
    dropout: Double = 0, seed: UInt64 = 0
  ) throws {
    let isClassification = data.targetKind.classNames != nil
    let loss = loss ?? .suited(to: data.targetKind)
    guard loss.isClassification == isClassification else {
      throw BackpropError.invalidArgument(
        name: "loss \(loss.rawValue)",
        detail: "it is for \(loss.isClassification ? "classes" : "values"), and the data have "
          + (isClassification ? "classes" : "values"))
    }
    let network = try Sequential<Scalar>.perceptron(
      sizes: [data.featureCount] + hiddenLayers + [data.targetKind.width], activation: activation,
      dropout: dropout, seed: seed, loss: loss)
    try self.init(
      network: network, featureNames: data.featureNames, targetKind: data.targetKind,
      scaling: try scaling.map { try FeatureScaling(fitting: $0, to: data.features) },
      targetScaling: standardizesTargets && !isClassification
        ? try FeatureScaling(fitting: .standardize, to: data.targets) : nil,
      loss: loss)
  }

  /// Trains the network on `data` (and measures `validation` after each epoch), both in their
  /// own units: the model scales them as it was built to. Without `epochs`, training runs until
  /// the training loss stops improving (``EarlyStopping/convergence``), at most 200 epochs; with
  /// it, exactly `epochs` more. A second `fit` continues the first, with the optimizer's
  /// moments, the shuffling and the history kept in ``trainingState``. A `reducer` of several
  /// ranks (an ``MPIReducer`` under `mpirun`) trains data-parallel, as
  /// ``Layer/fit(_:validation:loss:optimizer:configuration:callbacks:reducer:)`` describes.
  ///
  /// - Throws: ``BackpropError`` when the data do not fit the model or a setting is invalid.
  @discardableResult
  public mutating func fit(
    _ data: DataSet<Scalar>, validation: DataSet<Scalar>? = nil, epochs: Int? = nil,
    batchSize: Int = 32, optimizer: OptimizerKind = .adam, learningRate: Double? = nil,
    weightDecay: Double = 0, schedule: LearningRateSchedule = .constant,
    earlyStopping: EarlyStopping? = nil, seed: UInt64 = 0,
    callbacks: TrainingCallbacks = TrainingCallbacks(), reducer: (any GradientReducer)? = nil
  ) throws -> History {
    var state = trainingState ?? TrainingState()
    let made = try optimizer.make(
      parameters: network.parameters,
      learningRate: learningRate ?? optimizer.defaultLearningRate, weightDecay: weightDecay)
    let configuration = FitConfiguration(
      epochs: state.epochsCompleted + (epochs ?? EarlyStopping.convergenceEpochLimit),
      batchSize: batchSize, seed: seed,
      schedule: schedule, earlyStopping: earlyStopping ?? (epochs == nil ? .convergence : nil))
    let history = try network.fit(
      try prepared(data), validation: try validation.map(prepared), loss: loss, optimizer: made,
      configuration: configuration, callbacks: callbacks, continuing: &state, reducer: reducer)
    trainingState = state
    return history
  }

  /// ``predict(_:)->Tensor<Scalar>`` of rows of features in the order of ``featureNames``: a row of class
  /// probabilities per sample for a classifier, of values in the targets' units for regression.
  ///
  /// - Throws: ``BackpropError`` when a row's length is not the number of features.
  public func predict(_ rows: [[Scalar]]) throws -> [[Scalar]] {
    let output = try predict(try Tensor(rows))
    let width = output.shape[1]
    let values = output.scalars
    return (0..<output.shape[0]).map { Array(values[($0 * width)..<(($0 + 1) * width)]) }
  }

  /// The predicted class name of each row of features, for a classifier.
  ///
  /// - Throws: ``BackpropError/invalidArgument(name:detail:)`` for a regression model; as
  ///   ``predict(_:)->[[Scalar]]`` otherwise.
  public func predictedClassNames(_ rows: [[Scalar]]) throws -> [String] {
    guard let names = targetKind.classNames else {
      throw BackpropError.invalidArgument(
        name: "predictedClassNames", detail: "the model regresses values; use predict")
    }
    return try Self.predictedClasses(try predict(try Tensor(rows))).map { names[$0] }
  }
}

extension Model: CustomStringConvertible {
  /// The layer table (``Sequential/summaryTable``) and what the model takes and gives.
  public var description: String { summary(includingMetadata: false) }
}
