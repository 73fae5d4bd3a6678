import Backprop
import Foundation
import Testing

@Suite("fit: epochs, batches, validation, schedules, early stopping, dropout, callbacks")
struct FitTests {
  func moons() throws -> DataSplit<Double> {
    let data: DataSet<Double> = try ToyData.twoMoons(count: 300, noise: 0.1, seed: 1)
    return try data.split(validationFraction: 0.2, seed: 1)
  }

  func network(seed: UInt64 = 1, dropout: Double = 0) throws -> Sequential<Double> {
    try .perceptron(sizes: [2, 16, 2], activation: .tanh, dropout: dropout, seed: seed)
  }

  @Test func fitLearnsTwoMoonsAndRecordsEveryEpoch() throws {
    let split = try moons()
    let model = try network()
    let optimizer = try Adam(parameters: model.parameters, learningRate: 0.02)
    let history = try model.fit(
      split.train, validation: split.validation, loss: SoftmaxCrossEntropy(), optimizer: optimizer,
      configuration: FitConfiguration(epochs: 40, batchSize: 16, seed: 2))
    #expect(history.columns == ["loss", "accuracy", "val_loss", "val_accuracy", "learning_rate"])
    #expect(history.epochCount == 40 && history.stopReason == .completed)
    let losses = history.values(of: "loss") ?? []
    #expect(losses.last! < losses.first! / 4)
    #expect(history.last("val_accuracy")! >= 0.95)
    // The validation figures are those of evaluate() on the final weights.
    let evaluation = try model.evaluate(on: split.validation!, loss: SoftmaxCrossEntropy())
    #expect(evaluation.loss == history.last("val_loss"))
  }

  @Test func theSameSeedTrainsBitForBitTheSame() throws {
    let split = try moons()
    func train(_ seed: UInt64) throws -> (History, [Tensor<Double>]) {
      let model = try network(dropout: 0.1)
      let history = try model.fit(
        split.train, loss: SoftmaxCrossEntropy(),
        optimizer: try SGD(parameters: model.parameters, learningRate: 0.1, momentum: 0.9),
        configuration: FitConfiguration(epochs: 5, batchSize: 8, seed: seed))
      return (history, model.parameters.map(\.value))
    }
    let (first, firstWeights) = try train(5)
    let (second, secondWeights) = try train(5)
    #expect(first == second && firstWeights == secondWeights)
    let otherWeights = try train(6).1
    #expect(otherWeights != firstWeights)
  }

  @Test func regressionRecordsMSEAndMAE() throws {
    let data: DataSet<Double> = try ToyData.sine(count: 200, noise: 0.05, seed: 3)
    let model = try Sequential<Double>.perceptron(sizes: [1, 16, 1], activation: .tanh, seed: 2)
    let history = try model.fit(
      data, loss: MeanSquaredError(),
      optimizer: try Adam(parameters: model.parameters, learningRate: 0.03),
      configuration: FitConfiguration(epochs: 100, batchSize: 16, seed: 1))
    #expect(history.columns == ["loss", "mse", "mae", "r2", "learning_rate"])
    // With loss = MSE (mean reduction) both columns measure the same thing.
    #expect(
      zip(history.values(of: "loss")!, history.values(of: "mse")!).allSatisfy {
        abs($0 - $1) < 1e-9
      })
    #expect(history.last("mse")! < 0.02)
  }

  @Test func schedulesFollowTheirFormulas() throws {
    let step = LearningRateSchedule.step(every: 3, factor: 0.5)
    #expect(
      (1...7).map { step.learningRate(epoch: $0, initial: 1) } == [1, 1, 1, 0.5, 0.5, 0.5, 0.25])
    let exponential = LearningRateSchedule.exponential(decay: 0.9)
    #expect(abs(exponential.learningRate(epoch: 3, initial: 2) - 2 * 0.81) < 1e-15)
    let cosine = LearningRateSchedule.cosine(epochs: 4, minimum: 0.1)
    #expect(cosine.learningRate(epoch: 1, initial: 1) == 1)
    #expect(abs(cosine.learningRate(epoch: 3, initial: 1) - 0.55) < 1e-15)
    #expect(cosine.learningRate(epoch: 9, initial: 1) == 0.1)
    #expect(
      try LearningRateSchedule(parsing: "step:10:0.5", epochs: 5) == .step(every: 10, factor: 0.5))
    #expect(
      try LearningRateSchedule(parsing: "cosine", epochs: 5) == .cosine(epochs: 5, minimum: 0))
    expectError(containing: "learning-rate schedule 'step:0.5'") {
      _ = try LearningRateSchedule(parsing: "step:0.5", epochs: 5)
    }
    expectError(containing: "exponential schedule") {
      _ = try LearningRateSchedule(parsing: "exponential:-1", epochs: 5)
    }

    let split = try moons()
    let model = try network()
    let optimizer = try SGD(parameters: model.parameters, learningRate: 0.4)
    let history = try model.fit(
      split.train, loss: SoftmaxCrossEntropy(), optimizer: optimizer,
      configuration: FitConfiguration(epochs: 4, schedule: .step(every: 2, factor: 0.1)))
    #expect(
      history.values(of: "learning_rate")!.map { ($0 * 1e6).rounded() / 1e6 } == [
        0.4, 0.4, 0.04, 0.04,
      ])
  }

  @Test func earlyStoppingRestoresTheBestEpochsWeights() throws {
    // A learning rate this high makes the validation loss bounce, so patience runs out.
    let split = try moons()
    let model = try network()
    let optimizer = try SGD(parameters: model.parameters, learningRate: 3)
    let history = try model.fit(
      split.train, validation: split.validation, loss: SoftmaxCrossEntropy(), optimizer: optimizer,
      configuration: FitConfiguration(
        epochs: 200, batchSize: 4, seed: 1, earlyStopping: try EarlyStopping(patience: 3)))
    guard case .earlyStopped(let best) = history.stopReason else {
      Issue.record("expected an early stop, got \(String(describing: history.stopReason))")
      return
    }
    let validationLosses = history.values(of: "val_loss") ?? []
    #expect(history.epochCount == best + 3 + 1)
    #expect(validationLosses[best - 1] == validationLosses.min())
    let restored = try model.evaluate(on: split.validation!, loss: SoftmaxCrossEntropy())
    #expect(restored.loss == validationLosses[best - 1])
    expectError(containing: "early-stopping monitor 'val_accuracy'") {
      _ = try model.fit(
        split.train, loss: SoftmaxCrossEntropy(), optimizer: optimizer,
        configuration: FitConfiguration(
          epochs: 2, earlyStopping: try EarlyStopping(patience: 1, monitor: "val_accuracy")))
    }
  }

  @Test func callbacksSeeEveryBatchAndCanStop() throws {
    let split = try moons()
    let model = try network()
    var batches: [BatchProgress] = []
    var epochs: [Int] = []
    let history = try model.fit(
      split.train, loss: SoftmaxCrossEntropy(),
      optimizer: try Adam(parameters: model.parameters),
      configuration: FitConfiguration(epochs: 10, batchSize: 100),
      callbacks: TrainingCallbacks(
        afterBatch: { batches.append($0) },
        afterEpoch: { summary in
          epochs.append(summary.epoch)
          return summary.epoch == 2 ? .stop : .proceed
        }))
    #expect(epochs == [1, 2] && history.stopReason == .stoppedByCallback(epoch: 2))
    #expect(batches.map(\.batch) == [1, 2, 3, 1, 2, 3])
    #expect(batches.map(\.samplesSeen) == [100, 200, 240, 100, 200, 240])
    #expect(batches.allSatisfy { $0.batchCount == 3 && $0.epochs == 10 })
  }

  @Test func divergenceStopsWithTheLastGoodWeights() throws {
    let data: DataSet<Double> = try ToyData.sine(count: 64, seed: 1)
    let model = try Sequential<Double>.perceptron(sizes: [1, 8, 1], activation: .relu, seed: 1)
    let optimizer = try SGD(parameters: model.parameters, learningRate: 1e6)
    var lastGood: [Tensor<Double>] = model.parameters.map(\.value)
    let history = try model.fit(
      data, loss: MeanSquaredError(), optimizer: optimizer,
      configuration: FitConfiguration(epochs: 50, batchSize: 8),
      callbacks: TrainingCallbacks(afterBatch: { _ in lastGood = model.parameters.map(\.value) }))
    guard case .diverged(let epoch, _, let loss) = history.stopReason else {
      Issue.record("expected divergence, got \(String(describing: history.stopReason))")
      return
    }
    #expect(!loss.isFinite && history.epochCount == epoch - 1)
    #expect(model.parameters.map(\.value) == lastGood)
    #expect(model.parameters.allSatisfy { $0.value.isFinite })
    #expect(
      history.stopReason?.description.contains("kept the weights from before that batch") == true)
  }

  @Test func dataThatDoNotFitTheModelAreRejectedBeforeTraining() throws {
    let data: DataSet<Double> = try ToyData.blobs(count: 30, classes: 3, seed: 1)
    let model = try network()
    let before = model.parameters.map(\.value)
    let optimizer = try Adam(parameters: model.parameters)
    expectError(containing: "gives 2 outputs but the training data have 3 classes") {
      _ = try model.fit(data, loss: SoftmaxCrossEntropy(), optimizer: optimizer)
    }
    expectError(containing: "epochs", "0") {
      _ = try model.fit(
        data, loss: SoftmaxCrossEntropy(), optimizer: optimizer,
        configuration: FitConfiguration(epochs: 0))
    }
    #expect(model.parameters.map(\.value) == before)
  }

  @Test func dropoutDropsOnlyWhileTrainingAndScalesTheSurvivors() throws {
    let dropout = try Dropout<Double>(rate: 0.25, seed: 3)
    let input = Variable(
      try Tensor<Double>(shape: [100, 40], repeating: 1), requiresGradient: true)
    #expect(try dropout(input).value == input.value)
    let output = try TrainingMode.training { try dropout(input) }
    let values = output.value.scalars
    let dropped = values.filter { $0 == 0 }.count
    #expect(values.allSatisfy { $0 == 0 || abs($0 - 4.0 / 3) < 1e-15 })
    #expect(abs(Double(dropped) / 4000 - 0.25) < 0.03)
    try output.sum().backward()
    // The gradient passes through the kept units, scaled like them.
    #expect(input.gradient?.scalars == values)
    expectError(containing: "dropout rate", "[0, 1)") { _ = try Dropout<Double>(rate: 1) }
  }
}
