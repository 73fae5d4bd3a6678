/// Everything a training run carries from one epoch to the next besides the weights, so that
/// a run stopped after any epoch resumes bit for bit: 10 epochs, saved and resumed for 10 more,
/// give the weights and history of 20.
///
/// ``Layer/fit(_:validation:loss:optimizer:configuration:callbacks:continuing:reducer:)`` reads it at
/// the start (restoring the optimizer's moments and every ``Dropout`` layer's generator) and
/// updates it after every epoch; ``Model`` stores it in the model file.
public struct TrainingState: Sendable, Equatable, Codable {
  /// The epochs finished; the next epoch is this plus one, and the schedule goes on from there.
  public var epochsCompleted: Int
  /// The metrics of every finished epoch.
  public var history: History
  /// The generator that draws each epoch's order of the samples, where it stands.
  public var shuffleGenerator: RandomGenerator?
  /// The generator of each ``Dropout`` layer, in the network's order, where it stands.
  public var dropoutGenerators: [RandomGenerator]
  /// The optimizer's moments and counters.
  public var optimizer: OptimizerState?
  /// The best value of the monitored metric so far and its epoch.
  public var best: BestEpoch?
  /// The best epoch's weights, one list per parameter, kept when early stopping restores them.
  public var bestWeights: [[Double]]?
  /// The optimizer's learning rate when the run started, from which the schedule counts.
  public var initialLearningRate: Double?

  /// The monitored metric's best value and the epoch that reached it.
  public struct BestEpoch: Sendable, Equatable, Codable {
    /// The value of the monitored metric.
    public var value: Double
    /// The epoch, from 1.
    public var epoch: Int
  }

  /// The state of a run that has not started.
  public init() {
    epochsCompleted = 0
    history = History()
    dropoutGenerators = []
  }
}

/// An optimizer's running state, parameter by parameter: what ``Optimizer/state`` gives and
/// ``Optimizer/restore(_:)`` takes.
public struct OptimizerState: Sendable, Equatable, Codable {
  /// The optimizer's name (`Adam`, `SGD`), so that a state is not given to another kind.
  public var kind: String
  /// One entry per parameter, in the optimizer's order.
  public var parameters: [Slot]

  /// One parameter's state: named buffers the size of the parameter (Adam's `m` and `v`,
  /// SGD's `velocity`), empty before its first update, and named numbers (Adam's powers of β).
  public struct Slot: Sendable, Equatable, Codable {
    /// Buffers the size of the parameter, by name.
    public var buffers: [String: [Double]]
    /// Numbers, by name.
    public var numbers: [String: Double]

    /// A slot of the given buffers and numbers.
    public init(buffers: [String: [Double]] = [:], numbers: [String: Double] = [:]) {
      self.buffers = buffers
      self.numbers = numbers
    }
  }

  /// A state of `kind` with one slot per parameter.
  public init(kind: String, parameters: [Slot]) {
    self.kind = kind
    self.parameters = parameters
  }

  /// Checks that the state belongs to an optimizer of `kind` over `parameters`, and that each
  /// buffer in `names` is either absent or the size of its parameter.
  ///
  /// - Throws: ``BackpropError/invalidArgument(name:detail:)`` naming what does not fit.
  func check<Scalar: TensorScalar>(
    kind expected: String, parameters: [Variable<Scalar>], buffers names: [String]
  ) throws {
    guard kind == expected, self.parameters.count == parameters.count else {
      throw BackpropError.invalidArgument(
        name: "optimizer state",
        detail:
          "a state of \(kind) for \(self.parameters.count) parameters does not fit \(expected) "
          + "with \(parameters.count)")
    }
    for (index, (slot, parameter)) in zip(self.parameters, parameters).enumerated() {
      for name in names {
        if let buffer = slot.buffers[name], buffer.count != parameter.value.count {
          throw BackpropError.invalidArgument(
            name: "optimizer state of parameter \(index)",
            detail:
              "its \(name) has \(buffer.count) values; the parameter has \(parameter.value.count)")
        }
        if let buffer = slot.buffers[name], buffer.contains(where: { !$0.isFinite }) {
          throw BackpropError.invalidArgument(
            name: "optimizer state of parameter \(index)", detail: "its \(name) is not finite")
        }
      }
    }
  }
}

extension Tensor {
  /// The elements as Doubles (exact for Float and Double), for a stored state.
  var doubles: [Double] { withUnsafeBufferPointer { $0.map { Double($0) } } }

  /// A tensor of `shape` from stored Doubles of the same count.
  init(doubles: [Double], shape: [Int]) {
    self.init(validShape: shape) { buffer in
      for index in buffer.indices { buffer[index] = Scalar(doubles[index]) }
    }
  }
}
