import CBackpropKernels

/// An element-wise activation, defined once: its forward pass, its derivative, and the name and
/// formulas that the inspection tools print.
///
/// Every path computes an activation through this definition: the graph (``Variable/tanh()``
/// and its siblings), the fused training step, ``StepTrace`` and ``TraceCheck``. In `Float` each
/// runs a vectorized C kernel (tanh and σ by Cephes' method, within 3 ulp of the exact value and
/// the same bits on every instruction-set level; the piecewise-linear ones exactly); in `Double`
/// a Swift loop over the C library's functions.
///
/// The derivative is read from the activation's output y = f(x): σ′ = y(1 − y), tanh′ = 1 − y²,
/// ReLU′ and leaky ReLU′ from the sign of y (the sign of x for a slope ≥ 0; the derivative at 0
/// is taken as the slope, 0 for ReLU).
enum ElementwiseActivation: Equatable, Sendable {
  /// The cases: identity; σ(x) = 1/(1 + e^−x); tanh; ReLU max(0, x); leaky ReLU, x for x > 0
  /// and slope·x otherwise.
  case identity, sigmoid, tanh, relu
  case leaky(slope: Double)

  // MARK: Forward

  /// f(x + b) of every value of a row-major `rows × width` matrix, in place, with `bias` (nil for
  /// none) added to each row first.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  func apply<Scalar: TensorScalar>(
    _ values: UnsafeMutablePointer<Scalar>, rows: Int, width: Int, bias: UnsafePointer<Scalar>?
  ) {
    guard rows > 0, width > 0 else { return }
    if Scalar.self == Float.self {
      let (values, bias) = (
        concrete(values, as: Float.self), bias.map { concrete($0, as: Float.self) }
      )
      switch self {
      case .tanh, .sigmoid:
        bp_activate_f32(
          values, rows, width, bias, self == .tanh ? BPActivationTanh : BPActivationSigmoid)
      case .identity: bp_piecewise_linear_f32(values, rows, width, bias, 0, true)
      case .relu: bp_piecewise_linear_f32(values, rows, width, bias, 0, false)
      case .leaky(let slope):
        bp_piecewise_linear_f32(values, rows, width, bias, Float(slope), false)
      }
      return
    }
    @inline(__always)
    func each(_ transform: (Scalar) -> Scalar) {
      if let bias {
        for row in 0..<rows {
          let line = values + row * width
          for column in 0..<width { line[column] = transform(line[column] + bias[column]) }
        }
      } else {
        for index in 0..<(rows * width) { values[index] = transform(values[index]) }
      }
    }
    switch self {
    case .identity: each { $0 }
    case .sigmoid: each(Self.sigmoid)
    case .tanh: each(Scalar.tanh)
    case .relu: each { $0 > 0 ? $0 : 0 }  // never −0, as the Float kernel
    case .leaky(let slope):
      let slope = Scalar(slope)
      each { $0 > 0 ? $0 : slope * $0 }
    }
  }

  /// The logistic sigmoid, as e^x / (1 + e^x) for negative x so that e^−x never overflows: exact
  /// to rounding for every input, and exactly 0.5 at 0.
  @inline(__always)
  static func sigmoid<Scalar: TensorScalar>(_ x: Scalar) -> Scalar {
    if x >= 0 { return 1 / (1 + Scalar.exp(-x)) }
    let e = Scalar.exp(x)
    return e / (1 + e)
  }

  /// f(x) of one value, by the same kernel as ``apply(_:rows:width:bias:)``.
  func value<Scalar: TensorScalar>(_ x: Scalar) -> Scalar {
    var result = x
    apply(&result, rows: 1, width: 1, bias: nil)
    return result
  }

  // MARK: Derivative

  /// δ ← δ ⊙ f′ over `count` values, with f′ read from the activation's `output`. For a leaky
  /// ReLU with a negative slope the sign of the output says nothing about the input's, so the
  /// `input` must then be given.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  func multiplyByDerivative<Scalar: TensorScalar>(
    _ delta: UnsafeMutablePointer<Scalar>, output: UnsafePointer<Scalar>, count: Int,
    input: UnsafePointer<Scalar>? = nil
  ) {
    switch self {
    case .identity: return
    case .sigmoid: for index in 0..<count { delta[index] *= output[index] * (1 - output[index]) }
    case .tanh: for index in 0..<count { delta[index] *= 1 - output[index] * output[index] }
    // A selected factor rather than a branch, so that the loop is vectorized: half the outputs
    // of a ReLU are zero, at random.
    case .relu: for index in 0..<count { delta[index] *= output[index] > 0 ? 1 : 0 }
    case .leaky(let slope):
      let (slope, signs) = (Scalar(slope), slope < 0 ? input ?? output : output)
      for index in 0..<count { delta[index] *= signs[index] > 0 ? 1 : slope }
    }
  }

  /// f′ at one point, from the output `y` (and the input `x` for a negative slope).
  func derivative<Scalar: TensorScalar>(output y: Scalar, input x: Scalar) -> Scalar {
    var (result, output, input) = (Scalar(1), y, x)
    multiplyByDerivative(&result, output: &output, count: 1, input: &input)
    return result
  }

  /// Whether the derivative can be read from the output alone (every activation but a leaky
  /// ReLU with a negative slope).
  var derivativeNeedsOnlyOutput: Bool {
    if case .leaky(let slope) = self { return slope >= 0 }
    return true
  }

  // MARK: Names and formulas

  /// The name the layer prints (`Tanh`, `LeakyReLU(slope: 0.01)`).
  var name: String {
    switch self {
    case .identity: "Identity"
    case .sigmoid: "Sigmoid"
    case .tanh: "Tanh"
    case .relu: "ReLU"
    case .leaky(let slope): "LeakyReLU(slope: \(slope))"
    }
  }

  /// The operation name the graph records (``Variable/operation``).
  var operation: String {
    switch self {
    case .identity: "identity"
    case .sigmoid: "sigmoid"
    case .tanh: "tanh"
    case .relu: "relu"
    case .leaky: "leakyRelu"
    }
  }

  /// The symbol in formulas (`σ`, `tanh`; empty for the identity).
  var symbol: String {
    switch self {
    case .identity: ""
    case .sigmoid: "σ"
    case .tanh: "tanh"
    case .relu: "ReLU"
    case .leaky: "LeakyReLU"
    }
  }

  /// out = f(net) for a neuron, for example `σ(net_h1)`.
  func formula(neuron: String) -> String {
    self == .identity ? "net_\(neuron)" : "\(symbol)(net_\(neuron))"
  }

  /// ∂out/∂net for a neuron, for example `out_h1(1 − out_h1)`.
  func derivativeFormula(neuron: String) -> String {
    switch self {
    case .identity: "1 (no activation)"
    case .sigmoid: "out_\(neuron)(1 − out_\(neuron))"
    case .tanh: "1 − out_\(neuron)²"
    case .relu: "1 if net_\(neuron) > 0, else 0"
    case .leaky(let slope): "1 if net_\(neuron) > 0, else \(slope)"
    }
  }
}

/// A layer that applies one element-wise activation, which it names.
protocol ElementwiseLayer {
  /// The activation's definition.
  var activation: ElementwiseActivation { get }
}
