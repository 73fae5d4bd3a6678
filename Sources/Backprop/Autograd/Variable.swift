/// A tensor in a computation graph: its value, and after ``backward()`` its gradient.
///
/// Variables are what models are made of and what losses return. Operations on them (`+`,
/// ``matmul(_:transposingSelf:transposingOther:)``, ``tanh()``, …) compute their value at once,
/// as in PyTorch (define-by-run), and when any input requires a gradient they also record how to
/// send a gradient back to their inputs. Calling ``backward()`` on a scalar loss then fills the
/// ``gradient`` of every variable that ``requiresGradient``.
///
/// ```swift
/// let a = Variable(Tensor<Double>(3), requiresGradient: true)
/// let b = try a + a          // a is used twice
/// let c = try b * b          // c = 4a²
/// try c.backward()
/// a.gradient?.scalar         // 24.0 = 8a, both uses counted
/// ```
///
/// A variable is a reference: layers hold their parameters as variables, and optimizers update
/// the same objects in place.
public final class Variable<Scalar: TensorScalar> {
  /// Sends the gradient of the graph's output with respect to this variable to each input: one
  /// entry per input, `nil` where that input needs none.
  typealias Pullback = (_ outputGradient: Tensor<Scalar>) throws -> [Tensor<Scalar>?]

  /// The current value. Optimizers write here; so may you (for example to set weights by hand).
  public var value: Tensor<Scalar>

  /// ∂(output of the last ``backward()``)/∂(this variable), with this variable's shape.
  ///
  /// For a leaf (a parameter or an input), gradients of successive backward passes add up until
  /// ``zeroGradient()`` clears them, as in PyTorch. For an intermediate result it holds the
  /// gradient from the latest pass, so that every value of a backward pass can be inspected.
  public var gradient: Tensor<Scalar>?

  /// Whether backward passes compute a gradient for this variable.
  ///
  /// Set it to `false` to freeze a parameter: optimizers then leave it alone. Results of
  /// operations require a gradient when any of their inputs does and recording is enabled.
  public var requiresGradient: Bool

  /// A name for printing, reports and gradient checks (layers name their parameters, e.g.
  /// `weight`).
  public var name: String

  /// The operation that produced this variable (`"matmul"`, `"tanh"`, …), or `"leaf"`.
  public let operation: String

  /// The variables this one was computed from; empty for a leaf.
  public let inputs: [Variable]

  let pullback: Pullback?

  /// Wraps a tensor as a leaf of the graph: a parameter when it requires a gradient, otherwise a
  /// constant such as an input batch.
  public init(_ value: Tensor<Scalar>, requiresGradient: Bool = false, name: String = "") {
    self.value = value
    self.requiresGradient = requiresGradient
    self.name = name
    self.operation = "leaf"
    self.inputs = []
    self.pullback = nil
  }

  private init(
    value: Tensor<Scalar>, operation: String, inputs: [Variable], pullback: @escaping Pullback
  ) {
    self.value = value
    self.requiresGradient = true
    self.name = ""
    self.operation = operation
    self.inputs = inputs
    self.pullback = pullback
  }

  /// The result of a differentiable operation: recorded with its pullback when recording is on
  /// and an input requires a gradient, otherwise a constant.
  static func record(
    _ value: Tensor<Scalar>, operation: String, inputs: [Variable],
    pullback: @escaping Pullback
  ) -> Variable {
    guard GradientRecording.isEnabled, inputs.contains(where: \.requiresGradient) else {
      return Variable(value)
    }
    return Variable(value: value, operation: operation, inputs: inputs, pullback: pullback)
  }

  /// The shape of ``value``.
  public var shape: [Int] { value.shape }

  /// Whether this variable was created directly rather than computed by an operation.
  public var isLeaf: Bool { inputs.isEmpty }

  /// Clears the accumulated gradient.
  public func zeroGradient() { gradient = nil }

  /// A constant with the same value, cut off from the graph.
  public func detached() -> Variable { Variable(value, name: name) }
}

extension Variable: CustomStringConvertible {
  /// The name, operation, shape and whether a gradient is required.
  public var description: String {
    let label = name.isEmpty ? "" : "\(name), "
    return "Variable<\(Scalar.self)>(\(label)\(operation), shape: \(BackpropError.format(shape)), "
      + "requiresGradient: \(requiresGradient))"
  }
}
