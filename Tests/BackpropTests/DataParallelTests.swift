import Foundation
import Testing

@testable import Backprop

/// Ranks as threads of one process, summing through a barrier in rank order: the reducer of
/// these tests, which need no MPI.
final class ThreadRanks: @unchecked Sendable {
  let count: Int
  private let condition = NSCondition()
  private var contributions: [[Double]]
  private var arrived = 0
  private var generation = 0
  private var result: [Double] = []

  init(count: Int) {
    self.count = count
    contributions = Array(repeating: [], count: count)
  }

  /// Waits for every rank's `values`; returns what `combine` makes of them, in rank order.
  func exchange(rank: Int, _ values: [Double], _ combine: ([[Double]]) -> [Double]) -> [Double] {
    condition.lock()
    defer { condition.unlock() }
    contributions[rank] = values
    arrived += 1
    let round = generation
    if arrived == count {
      result = combine(contributions)
      arrived = 0
      generation += 1
      condition.broadcast()
    } else {
      while generation == round { condition.wait() }
    }
    return result
  }
}

/// One thread's rank of a ``ThreadRanks`` group; Float sums are made in Float, as MPI makes them.
final class ThreadReducer: GradientReducer {
  let rank: Int
  let group: ThreadRanks
  var rankCount: Int { group.count }

  init(rank: Int, group: ThreadRanks) {
    self.rank = rank
    self.group = group
  }

  private func sum(_ values: [Double], asFloat: Bool) -> [Double] {
    group.exchange(rank: rank, values) { all in
      (0..<values.count).map { index in
        if asFloat {
          var total: Float = 0
          for contribution in all { total += Float(contribution[index]) }
          return Double(total)
        }
        var total = 0.0
        for contribution in all { total += contribution[index] }
        return total
      }
    }
  }

  func sum(_ values: UnsafeMutableBufferPointer<Float>) {
    let summed = sum(values.map(Double.init), asFloat: true)
    for index in values.indices { values[index] = Float(summed[index]) }
  }

  func sum(_ values: UnsafeMutableBufferPointer<Double>) {
    let summed = sum(Array(values), asFloat: false)
    for index in values.indices { values[index] = summed[index] }
  }

  func broadcast(_ values: UnsafeMutableBufferPointer<Float>, from root: Int) {
    let rootValues = group.exchange(rank: rank, values.map(Double.init)) { $0[root] }
    for index in values.indices { values[index] = Float(rootValues[index]) }
  }

  func broadcast(_ values: UnsafeMutableBufferPointer<Double>, from root: Int) {
    let rootValues = group.exchange(rank: rank, Array(values)) { $0[root] }
    for index in values.indices { values[index] = rootValues[index] }
  }
}

@Suite("Data-parallel training")
struct DataParallelTests {
  /// A run of 3 epochs on two moons, validated on `validationSamples` others when there are
  /// any; `reducer` nil is the single process.
  static func train(
    samples: Int, batchSize: Int, optimizer kind: OptimizerKind, seed: UInt64,
    validationSamples: Int = 0, reducer: (any GradientReducer)?
  ) throws -> (weights: [Float], history: History) {
    let data: DataSet<Float> = try ToyData.twoMoons(count: samples, noise: 0.1, seed: 3)
    let validation: DataSet<Float>? =
      validationSamples > 0
      ? try ToyData.twoMoons(count: validationSamples, noise: 0.1, seed: 4) : nil
    let network = try Sequential<Float>.perceptron(
      sizes: [2, 8, 8, 2], activation: .tanh, seed: seed)
    // Rank 0's weights are broadcast: the other ranks may start from anything.
    if let reducer, reducer.rank > 0 {
      for parameter in network.parameters {
        parameter.value = Tensor(zerosShapedLike: parameter.value)
      }
    }
    let optimizer = try kind.make(
      parameters: network.parameters, learningRate: kind == .sgd ? 0.1 : 0.01, momentum: 0)
    let history = try network.fit(
      data, validation: validation, loss: SoftmaxCrossEntropy(), optimizer: optimizer,
      configuration: FitConfiguration(epochs: 3, batchSize: batchSize, seed: seed),
      reducer: reducer)
    return (network.parameters.flatMap(\.value.scalars), history)
  }

  /// The runs of `ranks` threads, by rank.
  static func parallel(
    ranks: Int, samples: Int, batchSize: Int, optimizer: OptimizerKind, validationSamples: Int
  ) throws -> [(weights: [Float], history: History)] {
    let group = ThreadRanks(count: ranks)
    final class Results: @unchecked Sendable {
      var runs: [Result<(weights: [Float], history: History), any Error>?]
      init(_ count: Int) { runs = Array(repeating: nil, count: count) }
    }
    let results = Results(ranks)
    let done = DispatchGroup()
    for rank in 0..<ranks {
      done.enter()
      Thread {
        let outcome = Result {
          try train(
            samples: samples, batchSize: batchSize, optimizer: optimizer, seed: 7,
            validationSamples: validationSamples, reducer: ThreadReducer(rank: rank, group: group))
        }
        results.runs[rank] = outcome
        done.leave()
      }.start()
    }
    done.wait()
    return try results.runs.map { try #require($0).get() }
  }

  /// The validation sets: 41 rows split unevenly over 3 ranks, and 1 row, which leaves the
  /// second of 2 ranks none.
  @Test(arguments: [
    (2, 120, 32, OptimizerKind.sgd, 0), (3, 115, 10, .adam, 41), (2, 64, 64, .sgd, 1),
  ])
  func shardsTrainTheSingleProcessModel(
    ranks: Int, samples: Int, batchSize: Int, optimizer: OptimizerKind, validationSamples: Int
  ) throws {
    let single = try Self.train(
      samples: samples, batchSize: batchSize, optimizer: optimizer, seed: 7,
      validationSamples: validationSamples, reducer: nil)
    let runs = try Self.parallel(
      ranks: ranks, samples: samples, batchSize: batchSize, optimizer: optimizer,
      validationSamples: validationSamples)
    // Every rank holds the same weights and history, bit for bit: it took the same summed
    // steps and received the same sums.
    for run in runs.dropFirst() {
      #expect(run.weights == runs[0].weights && run.history == runs[0].history)
    }
    let largest = single.weights.map(abs).max() ?? 1
    let difference = zip(runs[0].weights, single.weights).map { abs($0 - $1) }.max() ?? 0
    #expect(difference <= 1e-6 * largest, "largest difference \(difference) of \(largest)")
    let losses = runs[0].history.values(of: "loss") ?? []
    let singleLosses = single.history.values(of: "loss") ?? []
    let accuracy = runs[0].history.values(of: "accuracy") ?? []
    #expect(accuracy == single.history.values(of: "accuracy"))
    for (a, b) in zip(losses, singleLosses) { #expect(abs(a - b) <= 1e-6 * abs(b)) }
    guard validationSamples > 0 else { return }
    let validationLosses = try #require(runs[0].history.values(of: "val_loss"))
    let singleValidationLosses = try #require(single.history.values(of: "val_loss"))
    #expect(validationLosses.count == 3)
    for (a, b) in zip(validationLosses, singleValidationLosses) {
      #expect(abs(a - b) <= 1e-6 * abs(b))
    }
    let validationAccuracy = runs[0].history.values(of: "val_accuracy")
    #expect(validationAccuracy == single.history.values(of: "val_accuracy"))
  }

  @Test func evaluationIsShardedAndSummed() throws {
    /// The same network on every call (a rank's own: a network's buffers serve one thread).
    @Sendable func evaluate(reducer: (any GradientReducer)?) throws -> Evaluation {
      let data: DataSet<Float> = try ToyData.twoMoons(count: 23, noise: 0.2, seed: 5)
      let network = try Sequential<Float>.perceptron(
        sizes: [2, 6, 2], activation: .relu, seed: 9)
      return try network.evaluate(
        on: data, loss: SoftmaxCrossEntropy(), batchSize: 4, reducer: reducer)
    }
    let whole = try evaluate(reducer: nil)
    let group = ThreadRanks(count: 3)
    final class Results: @unchecked Sendable {
      var evaluations: [Evaluation?] = [nil, nil, nil]
    }
    let results = Results()
    let done = DispatchGroup()
    for rank in 0..<3 {
      done.enter()
      Thread {
        results.evaluations[rank] = try? evaluate(
          reducer: ThreadReducer(rank: rank, group: group))
        done.leave()
      }.start()
    }
    done.wait()
    for evaluation in results.evaluations {
      let evaluation = try #require(evaluation)
      #expect(evaluation.confusionMatrix == whole.confusionMatrix)
      #expect(evaluation.metrics == whole.metrics && evaluation.sampleCount == 23)
      #expect(abs(evaluation.loss - whole.loss) <= 1e-6 * whole.loss)
    }
  }

  @Test func aRunThatCannotBeShardedIsRefused() throws {
    let group = ThreadRanks(count: 3)
    let reducer = ThreadReducer(rank: 0, group: group)
    // 100 samples in batches of 33 leave a last batch of 1, less than a row a rank; refused
    // before any exchange, so the other ranks' absence does not matter.
    expectError(containing: "3 ranks", "last batch of 1") {
      _ = try Self.train(samples: 100, batchSize: 33, optimizer: .sgd, seed: 1, reducer: reducer)
    }
    #expect(reducer.shard(ofRows: 10) == 0..<4)
    #expect(ThreadReducer(rank: 2, group: group).shard(ofRows: 10) == 7..<10)
    #expect(SingleProcess().shard(ofRows: 10) == 0..<10)
    #expect(MPIReducer.launchedRanks(environment: ["OMPI_COMM_WORLD_SIZE": "4"]) == 4)
    #expect(MPIReducer.launchedRanks(environment: ["PMI_SIZE": "2"]) == 2)
    #expect(MPIReducer.launchedRanks(environment: [:]) == nil)
  }

  @Test func oneProcessIsTheSingleProcessRun() throws {
    let plain = try Self.train(samples: 90, batchSize: 16, optimizer: .adam, seed: 2, reducer: nil)
    let single = try Self.train(
      samples: 90, batchSize: 16, optimizer: .adam, seed: 2, reducer: SingleProcess())
    #expect(plain.weights == single.weights && plain.history == single.history)
  }

  @Test func withoutMPIAReducerSaysWhy() {
    expectError(containing: "MPI", "could not be loaded") {
      _ = try MPIReducer(library: "/nonexistent/libmpi.so")
    }
  }
}
