/// Updates parameters from their gradients.
///
/// An optimizer is bound to the parameters it was created with and keeps its own state (momentum,
/// moment estimates) per parameter. ``step()`` updates every parameter that requires a gradient
/// and has one; frozen parameters and parameters without a gradient are left untouched.
///
/// ```swift
/// let optimizer = try SGD(parameters: model.parameters, learningRate: 0.5)
/// optimizer.zeroGradients()
/// try loss(model(input), target).backward()
/// optimizer.step()
/// ```
public protocol Optimizer<Scalar>: AnyObject, CustomStringConvertible {
  /// The scalar type of the parameters.
  associatedtype Scalar: TensorScalar

  /// The parameters this optimizer updates.
  var parameters: [Variable<Scalar>] { get }

  /// The current learning rate.
  var learningRate: Double { get }

  /// Sets the learning rate (for schedules).
  ///
  /// - Throws: ``BackpropError/invalidArgument(name:detail:)`` for a negative or non-finite rate.
  func setLearningRate(_ learningRate: Double) throws

  /// Applies one update to every trainable parameter that has a gradient.
  func step()

  /// The running state (moments, velocities, step counts) that a resumed run needs to go on
  /// exactly where this one stands. An optimizer without state gives an empty one.
  var state: OptimizerState { get }

  /// Puts back a state from ``state``.
  ///
  /// - Throws: ``BackpropError/invalidArgument(name:detail:)`` when the state is of another kind
  ///   of optimizer or does not fit the parameters.
  func restore(_ state: OptimizerState) throws
}

extension Optimizer {
  /// An empty state, for optimizers that keep none.
  public var state: OptimizerState {
    OptimizerState(kind: "\(Self.self)", parameters: parameters.map { _ in .init() })
  }

  /// Accepts only an empty state of this kind, for optimizers that keep none.
  public func restore(_ state: OptimizerState) throws {
    try state.check(kind: "\(Self.self)", parameters: parameters, buffers: [])
  }
}

extension Optimizer {
  /// Clears the gradients of all parameters.
  public func zeroGradients() {
    for parameter in parameters { parameter.zeroGradient() }
  }
}

/// The checks that every optimizer's hyper-parameters share.
enum HyperParameter {
  static func learningRate(_ value: Double) throws -> Double {
    guard value.isFinite, value >= 0 else {
      throw BackpropError.invalidArgument(
        name: "learning rate", detail: "\(value) must be finite and not negative")
    }
    return value
  }

  /// A value in [0, 1): a momentum or a moment-decay rate.
  static func decayRate(_ value: Double, name: String) throws -> Double {
    guard value.isFinite, value >= 0, value < 1 else {
      throw BackpropError.invalidArgument(name: name, detail: "\(value) must be in [0, 1)")
    }
    return value
  }

  static func nonNegative(_ value: Double, name: String) throws -> Double {
    guard value.isFinite, value >= 0 else {
      throw BackpropError.invalidArgument(
        name: name, detail: "\(value) must be finite and not negative")
    }
    return value
  }
}
