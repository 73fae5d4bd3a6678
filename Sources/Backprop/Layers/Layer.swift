/// A building block of a model: a differentiable function of its input, with parameters.
///
/// Layers are called like functions. On a ``Variable`` they record the graph for training; on a
/// ``Tensor`` they run without recording, for inference.
///
/// ```swift
/// let output = try layer(inputVariable)      // recorded, differentiable
/// let prediction = try layer(inputTensor)    // plain inference
/// ```
///
/// Every layer prints its configuration (`description`).
public protocol Layer<Scalar>: CustomStringConvertible {
  /// The scalar type of the layer's parameters and values.
  associatedtype Scalar: TensorScalar

  /// Applies the layer, recording the operations for differentiation.
  ///
  /// - Throws: ``BackpropError`` when the input's shape does not fit the layer.
  func callAsFunction(_ input: Variable<Scalar>) throws -> Variable<Scalar>

  /// The layer's parameters with their names (`weight`, `bias`; `0.weight` inside a
  /// ``Sequential``), in a stable order.
  var namedParameters: [(name: String, parameter: Variable<Scalar>)] { get }

  /// The number of input features the layer needs, when it fixes one.
  var inputSize: Int? { get }

  /// The number of output features the layer gives, when it fixes one (nil: same as the input).
  var outputSize: Int? { get }

  /// A copy with every parameter converted to another scalar type (for example to check a
  /// `Float` model's gradients in `Double`). The copy shares nothing with this layer.
  func converted<Other: TensorScalar>(to type: Other.Type) -> any Layer<Other>
}

extension Layer {
  /// Layers without parameters have none.
  public var namedParameters: [(name: String, parameter: Variable<Scalar>)] { [] }
  /// Layers without a fixed size accept any number of features.
  public var inputSize: Int? { nil }
  /// Layers without a fixed size give as many features as they get.
  public var outputSize: Int? { nil }

  /// The parameters alone, in the order of ``namedParameters``.
  public var parameters: [Variable<Scalar>] { namedParameters.map(\.parameter) }

  /// The total number of scalars in all parameters.
  public var parameterCount: Int { parameters.reduce(0) { $0 + $1.value.count } }

  /// Applies the layer for inference: no graph is recorded.
  public func callAsFunction(_ input: Tensor<Scalar>) throws -> Tensor<Scalar> {
    try GradientRecording.withoutRecording { try self(Variable(input)).value }
  }

  /// Clears the gradients of all parameters.
  public func zeroGradients() {
    for parameter in parameters { parameter.zeroGradient() }
  }

  /// Freezes every parameter, so that optimizers leave it unchanged.
  public func freeze() {
    for parameter in parameters { parameter.requiresGradient = false }
  }

  /// Makes every parameter trainable again.
  public func unfreeze() {
    for parameter in parameters { parameter.requiresGradient = true }
  }
}
