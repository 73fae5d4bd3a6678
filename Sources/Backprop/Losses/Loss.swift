/// How a loss turns its per-sample (or per-element) terms into one number.
public enum Reduction: String, Sendable, CaseIterable {
  /// The average of the terms.
  case mean
  /// The total of the terms.
  case sum
}

/// A loss function: a scalar that measures how far a model's predictions are from the targets.
///
/// Losses are called like functions on a recorded prediction and a constant target, and return a
/// rank-0 variable to call ``Variable/backward()`` on. Targets never broadcast: a prediction of
/// shape `[4, 1]` against a target of shape `[4]` is an error, not a silent 4×4 comparison.
public protocol Loss: Sendable, CustomStringConvertible {
  /// Whether the terms are averaged or summed.
  var reduction: Reduction { get }

  /// The loss of `prediction` against `target`, recorded for differentiation.
  ///
  /// - Throws: ``BackpropError/shapeMismatch(operation:shapes:detail:)`` when the shapes do not
  ///   fit, ``BackpropError/invalidArgument(name:detail:)`` for targets the loss cannot take.
  func callAsFunction<Scalar: TensorScalar>(
    _ prediction: Variable<Scalar>, _ target: Tensor<Scalar>
  ) throws -> Variable<Scalar>
}

extension Loss {
  /// The loss of a prediction tensor, computed without recording.
  public func value<Scalar: TensorScalar>(
    prediction: Tensor<Scalar>, target: Tensor<Scalar>
  ) throws -> Scalar {
    try GradientRecording.withoutRecording {
      try self(Variable(prediction), target).value.scalar ?? .nan
    }
  }

  /// Throws unless the prediction and target have the same shape.
  func requireSameShape<Scalar>(_ prediction: Variable<Scalar>, _ target: Tensor<Scalar>) throws {
    guard prediction.shape == target.shape else {
      throw BackpropError.shapeMismatch(
        operation: "\(self)", shapes: [prediction.shape, target.shape],
        detail: "the prediction and the target must have the same shape")
    }
  }

  /// The number of samples in a prediction: its first dimension, or 1 for a single sample.
  func sampleCount<Scalar>(_ prediction: Variable<Scalar>) -> Int {
    prediction.value.rank >= 2 ? prediction.shape[0] : 1
  }
}
