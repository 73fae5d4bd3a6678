import Backprop
import Foundation
import Testing

@Suite("Training state: a run stopped after any epoch resumes bit for bit")
struct TrainingStateTests {
  func moons() throws -> DataSplit<Double> {
    let data: DataSet<Double> = try ToyData.twoMoons(count: 200, noise: 0.2, seed: 4)
    return try data.split(validationFraction: 0.25, seed: 4)
  }

  /// Trains a fresh network with dropout to `epochs` in all, in legs of the given lengths, each
  /// leg with a new optimizer (as a new process would make) and the state saved as JSON.
  func train(
    legs: [Int], optimizer kind: OptimizerKind, schedule: LearningRateSchedule,
    earlyStopping: EarlyStopping? = nil
  ) throws -> (History, [Tensor<Double>], TrainingState) {
    let split = try moons()
    let network = try Sequential<Double>.perceptron(
      sizes: [2, 12, 12, 2], activation: .tanh, dropout: 0.2, seed: 3)
    var state = TrainingState()
    var total = 0
    var history = History()
    for leg in legs {
      total += leg
      let optimizer = try kind.make(
        parameters: network.parameters, learningRate: 0.05, momentum: 0.9, weightDecay: 1e-3)
      let saved = try JSONEncoder().encode(state)
      state = try JSONDecoder().decode(TrainingState.self, from: saved)
      history = try network.fit(
        split.train, validation: split.validation, loss: SoftmaxCrossEntropy(),
        optimizer: optimizer,
        configuration: FitConfiguration(
          epochs: total, batchSize: 16, seed: 8, schedule: schedule, earlyStopping: earlyStopping),
        continuing: &state)
    }
    return (history, network.parameters.map(\.value), state)
  }

  @Test(arguments: [OptimizerKind.adam, .sgd])
  func tenEpochsResumedForTenMoreAreTwentyEpochs(optimizer: OptimizerKind) throws {
    let schedules: [LearningRateSchedule] = [
      .step(every: 3, factor: 0.7), .plateau(patience: 2, factor: 0.5, minimum: 0),
    ]
    for schedule in schedules {
      let (whole, wholeWeights, wholeState) = try train(
        legs: [20], optimizer: optimizer, schedule: schedule)
      let (resumed, resumedWeights, resumedState) = try train(
        legs: [10, 10], optimizer: optimizer, schedule: schedule)
      #expect(whole == resumed, "\(schedule)")
      #expect(wholeWeights == resumedWeights, "\(schedule)")
      #expect(wholeState == resumedState, "\(schedule)")
      #expect(resumed.epochCount == 20 && resumedState.epochsCompleted == 20)
      let three = try train(legs: [7, 6, 7], optimizer: optimizer, schedule: schedule)
      #expect(three.1 == wholeWeights, "\(schedule)")
    }
  }

  @Test func earlyStoppingResumesWithItsBestEpochAndWeights() throws {
    let rule = try EarlyStopping(patience: 3)
    let (whole, wholeWeights, _) = try train(
      legs: [60], optimizer: .adam, schedule: .constant, earlyStopping: rule)
    guard case .earlyStopped(let best) = whole.stopReason else {
      Issue.record(
        "expected an early stop within 60 epochs, got \(String(describing: whole.stopReason))")
      return
    }
    let cut = max(best - 1, 1)
    let (resumed, resumedWeights, _) = try train(
      legs: [cut, 60 - cut], optimizer: .adam, schedule: .constant, earlyStopping: rule)
    #expect(resumed == whole && resumedWeights == wholeWeights)
  }

  @Test func aStateThatDoesNotFitIsRefused() throws {
    let split = try moons()
    let network = try Sequential<Double>.perceptron(sizes: [2, 4, 2], activation: .tanh, seed: 1)
    var state = TrainingState()
    _ = try network.fit(
      split.train, loss: SoftmaxCrossEntropy(),
      optimizer: try Adam(parameters: network.parameters),
      configuration: FitConfiguration(epochs: 2), continuing: &state)
    // Another optimizer's state, and a history of other columns.
    #expect(throws: BackpropError.self) {
      var copy = state
      _ = try network.fit(
        split.train, loss: SoftmaxCrossEntropy(),
        optimizer: try SGD(parameters: network.parameters, learningRate: 0.1),
        configuration: FitConfiguration(epochs: 3), continuing: &copy)
    }
    #expect(throws: BackpropError.self) {
      var copy = state
      _ = try network.fit(
        split.train, validation: split.validation, loss: SoftmaxCrossEntropy(),
        optimizer: try Adam(parameters: network.parameters),
        configuration: FitConfiguration(epochs: 3), continuing: &copy)
    }
    let other = try Sequential<Double>.perceptron(sizes: [2, 5, 2], activation: .tanh, seed: 1)
    #expect(throws: BackpropError.self) {
      var copy = state
      _ = try other.fit(
        split.train, loss: SoftmaxCrossEntropy(), optimizer: try Adam(parameters: other.parameters),
        configuration: FitConfiguration(epochs: 3), continuing: &copy)
    }
  }

  @Test func aGeneratorStateRoundTripsAndBadTextIsRefused() throws {
    var generator = RandomGenerator(seed: 77)
    _ = generator.next()
    let copy = try JSONDecoder().decode(
      RandomGenerator.self, from: try JSONEncoder().encode(generator))
    var original = generator
    var decoded = copy
    #expect((0..<5).map { _ in original.next() } == (0..<5).map { _ in decoded.next() })
    for bad in [
      "\"00\"", "\"0000000000000000:0000000000000000:0000000000000000:0000000000000000\"", "12",
    ] {
      #expect(throws: DecodingError.self) {
        _ = try JSONDecoder().decode(RandomGenerator.self, from: Data(bad.utf8))
      }
    }
  }

  @Test func thePlateauScheduleCutsTheRateAfterPatienceEpochsWithoutImprovement() throws {
    let schedule = try LearningRateSchedule(parsing: "plateau:2:0.5:0.1", epochs: 1)
    #expect(schedule == .plateau(patience: 2, factor: 0.5, minimum: 0.1))
    let losses = [1.0, 0.8, 0.8, 0.81, 0.7, 0.7, 0.7, 0.7, 0.7, 0.7]
    let rates = (1...11).map { schedule.learningRate(epoch: $0, initial: 1, monitored: losses) }
    // No improvement after epochs 3 and 4: halved from epoch 5; again after 6–7 and 8–9, down
    // to the minimum.
    #expect(rates == [1, 1, 1, 1, 0.5, 0.5, 0.5, 0.25, 0.25, 0.125, 0.125])
    #expect(
      try LearningRateSchedule(parsing: "plateau", epochs: 1)
        == .plateau(patience: 10, factor: 0.1, minimum: 0))
    for bad in ["plateau:0", "plateau:2:1.5", "plateau:x", "plateau:1.5"] {
      #expect(throws: BackpropError.self) { _ = try LearningRateSchedule(parsing: bad, epochs: 1) }
    }
  }

  @Test func convergenceStopsWhenTheLossStopsImprovingAndKeepsTheLastWeights() throws {
    // Noisy values: the loss levels off at the noise.
    let data: DataSet<Double> = try ToyData.sine(count: 100, noise: 0.3, seed: 2)
    let network = try Sequential<Double>.perceptron(sizes: [1, 8, 1], activation: .tanh, seed: 2)
    let history = try network.fit(
      data, loss: MeanSquaredError(),
      optimizer: try SGD(parameters: network.parameters, learningRate: 0.1),
      configuration: FitConfiguration(epochs: 5000, batchSize: 100, earlyStopping: .convergence))
    guard case .converged(let best) = history.stopReason else {
      Issue.record("expected convergence, got \(String(describing: history.stopReason))")
      return
    }
    let losses = history.values(of: "loss") ?? []
    #expect(losses.count == best + 11)
    // No loss after the best beat it by a relative 1e-4.
    #expect(losses[best...].allSatisfy { $0 >= losses[best - 1] * (1 - 1e-4) })
  }
}
