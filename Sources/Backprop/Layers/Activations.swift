/// The activation functions as layers, for use in ``Sequential``.
///
/// Each applies the ``Variable`` method of the same name elementwise (``Softmax`` along the last
/// axis) and has no parameters.
/// The logistic sigmoid σ(x) = 1 / (1 + e^−x), with values in (0, 1).
public struct Sigmoid<Scalar: TensorScalar>: Layer, ElementwiseLayer {
  /// Creates the layer.
  public init() {}
  /// Applies σ to every element.
  public func callAsFunction(_ input: Variable<Scalar>) throws -> Variable<Scalar> {
    input.activated(activation)
  }
  var activation: ElementwiseActivation { .sigmoid }
  /// A sigmoid layer of another scalar type.
  public func converted<Other: TensorScalar>(to type: Other.Type) -> any Layer<Other> {
    Sigmoid<Other>()
  }
  /// `Sigmoid`.
  public var description: String { activation.name }
}

/// The hyperbolic tangent, with values in (−1, 1).
public struct Tanh<Scalar: TensorScalar>: Layer, ElementwiseLayer {
  /// Creates the layer.
  public init() {}
  /// Applies tanh to every element.
  public func callAsFunction(_ input: Variable<Scalar>) throws -> Variable<Scalar> {
    input.activated(activation)
  }
  var activation: ElementwiseActivation { .tanh }
  /// A tanh layer of another scalar type.
  public func converted<Other: TensorScalar>(to type: Other.Type) -> any Layer<Other> {
    Tanh<Other>()
  }
  /// `Tanh`.
  public var description: String { activation.name }
}

/// The rectified linear unit max(0, x).
public struct ReLU<Scalar: TensorScalar>: Layer, ElementwiseLayer {
  /// Creates the layer.
  public init() {}
  /// Applies max(0, x) to every element.
  public func callAsFunction(_ input: Variable<Scalar>) throws -> Variable<Scalar> {
    input.activated(activation)
  }
  var activation: ElementwiseActivation { .relu }
  /// A ReLU layer of another scalar type.
  public func converted<Other: TensorScalar>(to type: Other.Type) -> any Layer<Other> {
    ReLU<Other>()
  }
  /// `ReLU`.
  public var description: String { activation.name }
}

/// The leaky rectified linear unit: x for x > 0, `slope`·x otherwise.
public struct LeakyReLU<Scalar: TensorScalar>: Layer, ElementwiseLayer {
  /// The factor applied to non-positive inputs.
  public let slope: Scalar

  /// Creates the layer; the slope is usually small and positive (0.01 by default).
  public init(slope: Scalar = 0.01) { self.slope = slope }
  /// Applies the leaky ReLU to every element.
  public func callAsFunction(_ input: Variable<Scalar>) throws -> Variable<Scalar> {
    input.activated(activation)
  }
  var activation: ElementwiseActivation { .leaky(slope: Double(slope)) }
  /// A leaky ReLU layer of another scalar type, with the same slope.
  public func converted<Other: TensorScalar>(to type: Other.Type) -> any Layer<Other> {
    LeakyReLU<Other>(slope: Other(slope))
  }
  /// For example `LeakyReLU(slope: 0.01)`.
  public var description: String { "LeakyReLU(slope: \(slope))" }
}

/// The softmax along the last axis: each row becomes a probability distribution.
///
/// For training a classifier, prefer ending the model with logits (no softmax layer) and using
/// ``SoftmaxCrossEntropy``, which applies the softmax inside the loss in a stable way.
public struct Softmax<Scalar: TensorScalar>: Layer {
  /// Creates the layer.
  public init() {}
  /// Applies the softmax along the last axis.
  public func callAsFunction(_ input: Variable<Scalar>) throws -> Variable<Scalar> {
    try input.softmax(alongAxis: -1)
  }
  /// A softmax layer of another scalar type.
  public func converted<Other: TensorScalar>(to type: Other.Type) -> any Layer<Other> {
    Softmax<Other>()
  }
  /// `Softmax`.
  public var description: String { "Softmax" }
}

/// The identity: the output is the input (a linear output layer for regression).
public struct Identity<Scalar: TensorScalar>: Layer, ElementwiseLayer {
  /// Creates the layer.
  public init() {}
  /// Returns the input unchanged.
  public func callAsFunction(_ input: Variable<Scalar>) throws -> Variable<Scalar> { input }
  var activation: ElementwiseActivation { .identity }
  /// An identity layer of another scalar type.
  public func converted<Other: TensorScalar>(to type: Other.Type) -> any Layer<Other> {
    Identity<Other>()
  }
  /// `Identity`.
  public var description: String { activation.name }
}
