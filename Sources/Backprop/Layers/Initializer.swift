/// How a parameter tensor gets its first values.
///
/// Random initializers draw from a ``RandomGenerator`` in `Double` and round to the parameter's
/// scalar type, in row-major order of the parameter, so a `Float` and a `Double` model built from
/// the same seed start from the same numbers. For a ``Linear`` layer, fan-in is its input size and
/// fan-out its output size.
public enum Initializer: Sendable, Equatable, CustomStringConvertible {
  /// All zeros.
  case zeros
  /// Every element equal to a value.
  case constant(Double)
  /// Normal with the given mean and standard deviation.
  case normal(mean: Double, standardDeviation: Double)
  /// Uniform in [low, high).
  case uniform(low: Double, high: Double)
  /// Glorot and Bengio (2010): uniform in ±√(6 / (fanIn + fanOut)).
  case xavierUniform
  /// Glorot and Bengio (2010): normal with standard deviation √(2 / (fanIn + fanOut)).
  case xavierNormal
  /// He et al. (2015), for ReLU layers: uniform in ±√(6 / fanIn).
  case heUniform
  /// He et al. (2015), for ReLU layers: normal with standard deviation √(2 / fanIn).
  case heNormal
  /// Explicit values in row-major order of the parameter.
  case values([Double])

  /// Creates a tensor of `shape` with this initializer.
  ///
  /// - Throws: ``BackpropError/invalidArgument(name:detail:)`` for a negative or non-finite
  ///   standard deviation, `low ≥ high`, or a value list of the wrong length.
  public func makeTensor<Scalar: TensorScalar>(
    shape: [Int], fanIn: Int, fanOut: Int, generator: inout RandomGenerator
  ) throws -> Tensor<Scalar> {
    let count = try Tensor<Scalar>.elementCount(of: shape)
    let draw: (inout RandomGenerator) -> Double
    switch self {
    case .zeros:
      return try Tensor(zeros: shape)
    case .constant(let value):
      return try Tensor(shape: shape, repeating: Scalar(value))
    case .values(let values):
      guard values.count == count else {
        throw BackpropError.invalidArgument(
          name: "initial values",
          detail: "a parameter of shape \(BackpropError.format(shape)) needs \(count) values, "
            + "\(values.count) were given")
      }
      return try Tensor(shape: shape, scalars: values.map { Scalar($0) })
    case .normal(let mean, let standardDeviation):
      guard standardDeviation >= 0, standardDeviation.isFinite, mean.isFinite else {
        throw BackpropError.invalidArgument(
          name: "normal initializer",
          detail: "mean \(mean), standard deviation \(standardDeviation)")
      }
      draw = { $0.normal(mean: mean, standardDeviation: standardDeviation) }
    case .uniform(let low, let high):
      guard low < high, low.isFinite, high.isFinite else {
        throw BackpropError.invalidArgument(
          name: "uniform initializer", detail: "low \(low) must be below high \(high), both finite")
      }
      draw = { $0.uniform(low: low, high: high) }
    case .xavierUniform, .xavierNormal, .heUniform, .heNormal:
      let fans = self == .heUniform || self == .heNormal ? fanIn : fanIn + fanOut
      guard fans > 0 else {
        throw BackpropError.invalidArgument(
          name: "\(self) initializer", detail: "needs a positive fan-in (got \(fanIn), \(fanOut))")
      }
      // Both schemes keep the variance at 2 / fans; uniform in ±a has variance a²/3.
      let variance = 2.0 / Double(fans)
      if self == .xavierUniform || self == .heUniform {
        let limit = (3 * variance).squareRoot()
        draw = { $0.uniform(low: -limit, high: limit) }
      } else {
        let deviation = variance.squareRoot()
        draw = { $0.normal(mean: 0, standardDeviation: deviation) }
      }
    }
    var values = [Scalar]()
    values.reserveCapacity(count)
    for _ in 0..<count { values.append(Scalar(draw(&generator))) }
    return try Tensor(shape: shape, scalars: values)
  }

  /// The initializer as it would be written in Swift.
  public var description: String {
    switch self {
    case .zeros: "zeros"
    case .constant(let value): "constant(\(value))"
    case .normal(let mean, let deviation): "normal(mean: \(mean), standardDeviation: \(deviation))"
    case .uniform(let low, let high): "uniform(low: \(low), high: \(high))"
    case .xavierUniform: "xavierUniform"
    case .xavierNormal: "xavierNormal"
    case .heUniform: "heUniform"
    case .heNormal: "heNormal"
    case .values(let values): "values(\(values.count) values)"
    }
  }
}
