import Foundation

/// Compares automatic gradients with central finite differences in `Double`.
///
/// For every element w of every trainable parameter, the numeric derivative is
///
///     n = (L(w + h) − L(w − h)) / 2h,   h = ``Tolerance/step`` (10⁻⁶ by default)
///
/// and the element passes when |a − n| ≤ ``Tolerance/absolute`` + ``Tolerance/relative``·max(|a|, |n|),
/// a being the automatic gradient. In `Double` the central difference is accurate to about
/// h²·|L'''|/6 + 10⁻¹⁶·|L|/h ≈ 10⁻¹⁰ for losses of order 1, so the defaults (10⁻⁷ absolute,
/// 10⁻⁵ relative) pass every correct gradient and fail wrong ones by orders of magnitude. A
/// gradient that is wrong only by a constant factor (a missing ½, mean against sum) fails too.
///
/// Points where the function has a kink (ReLU at 0) cannot be checked this way; keep inputs a few
/// multiples of h away from them.
public enum GradientCheck {
  /// The finite-difference step and the pass thresholds.
  public struct Tolerance: Sendable, Equatable {
    /// The step h of the central difference.
    public var step: Double
    /// The allowed absolute difference.
    public var absolute: Double
    /// The allowed difference relative to the larger magnitude of the two gradients.
    public var relative: Double

    /// Creates a tolerance; the defaults suit losses of order 1 in `Double`.
    public init(step: Double = 1e-6, absolute: Double = 1e-7, relative: Double = 1e-5) {
      self.step = step
      self.absolute = absolute
      self.relative = relative
    }
  }

  /// The comparison for one parameter.
  public struct ParameterResult: Sendable, Equatable {
    /// The parameter's name (e.g. `0.weight`).
    public var name: String
    /// The parameter's shape.
    public var shape: [Int]
    /// Whether the parameter was frozen and therefore not checked.
    public var isFrozen: Bool
    /// The automatic gradient, row-major.
    public var automatic: [Double]
    /// The finite-difference gradient, row-major.
    public var numeric: [Double]
    /// The largest |a − n| over the elements.
    public var maxAbsoluteError: Double
    /// The largest |a − n| / max(|a|, |n|) over the elements (0 where both are 0).
    public var maxRelativeError: Double
    /// The row-major index of the element that is furthest outside the tolerance (or has the
    /// largest error if all pass).
    public var worstIndex: Int
    /// Whether every element passed.
    public var passed: Bool
  }

  /// The comparison for all parameters.
  public struct Report: Sendable, Equatable, CustomStringConvertible {
    /// One result per parameter, in the model's order.
    public var results: [ParameterResult]
    /// The tolerance that was applied.
    public var tolerance: Tolerance

    /// Whether every checked parameter passed.
    public var passed: Bool { results.allSatisfy(\.passed) }

    /// The largest relative error over all checked parameters.
    public var maxRelativeError: Double { results.map(\.maxRelativeError).max() ?? 0 }

    /// One line per parameter and a verdict.
    public var description: String {
      var lines = ["parameter       shape      max abs error  max rel error  result"]
      for result in results {
        let shape = BackpropError.format(result.shape)
        let verdict: String
        if result.isFrozen {
          verdict = "frozen, not checked"
        } else if result.passed {
          verdict = "pass"
        } else {
          let index = result.worstIndex
          verdict = String(
            format: "FAIL at element %d: automatic %.9g, numeric %.9g", index,
            result.automatic[index], result.numeric[index])
        }
        lines.append(
          result.name.padding(toLength: 15, withPad: " ", startingAt: 0) + " "
            + shape.padding(toLength: 10, withPad: " ", startingAt: 0)
            + String(format: " %13.3e  %13.3e  ", result.maxAbsoluteError, result.maxRelativeError)
            + verdict)
      }
      let checked = results.filter { !$0.isFrozen }.count
      lines.append(
        passed
          ? "gradient check passed: \(checked) parameters agree with central differences"
          : "gradient check FAILED: \(results.filter { !$0.passed }.count) of \(checked) parameters "
            + "disagree with central differences")
      return lines.joined(separator: "\n")
    }
  }

  /// Checks the gradients of the scalar that `loss` computes with respect to `parameters`.
  ///
  /// `loss` is called once with recording on, then twice per element with recording off. The
  /// parameters' values and gradients are the same afterwards as before.
  ///
  /// - Throws: what `loss` throws, or ``BackpropError/notDifferentiable(detail:)`` when it does
  ///   not return a scalar.
  public static func check(
    parameters: [(name: String, parameter: Variable<Double>)],
    tolerance: Tolerance = Tolerance(),
    loss: () throws -> Variable<Double>
  ) throws -> Report {
    let savedGradients = parameters.map(\.parameter.gradient)
    defer {
      for (entry, saved) in zip(parameters, savedGradients) { entry.parameter.gradient = saved }
    }
    for entry in parameters { entry.parameter.zeroGradient() }

    let output = try loss()
    guard output.value.count == 1 else {
      throw BackpropError.notDifferentiable(
        detail:
          "the gradient check needs a scalar loss, got shape \(BackpropError.format(output.shape))")
    }
    if output.requiresGradient { try output.backward() }

    func evaluate() throws -> Double {
      try GradientRecording.withoutRecording { try loss().value.scalar ?? .nan }
    }

    var results: [ParameterResult] = []
    for (name, parameter) in parameters {
      let original = parameter.value
      guard parameter.requiresGradient else {
        results.append(
          ParameterResult(
            name: name, shape: original.shape, isFrozen: true, automatic: [], numeric: [],
            maxAbsoluteError: 0, maxRelativeError: 0, worstIndex: 0, passed: true))
        continue
      }
      let automatic = parameter.gradient?.scalars ?? Array(repeating: 0, count: original.count)
      var numeric: [Double] = []
      for index in 0..<original.count {
        var perturbed = original
        perturbed.withUnsafeMutableBufferPointer { $0[index] += tolerance.step }
        parameter.value = perturbed
        let above = try evaluate()
        perturbed = original
        perturbed.withUnsafeMutableBufferPointer { $0[index] -= tolerance.step }
        parameter.value = perturbed
        let below = try evaluate()
        parameter.value = original
        numeric.append((above - below) / (2 * tolerance.step))
      }
      results.append(compare(name: name, shape: original.shape, automatic, numeric, tolerance))
    }
    return Report(results: results, tolerance: tolerance)
  }

  /// Checks a model's gradients for `loss` on one batch, in `Double`.
  ///
  /// A `Float` model is copied to `Double` first (``Layer/converted(to:)``), so the check tests the
  /// differentiation itself, not `Float` rounding. Frozen parameters are reported, not checked.
  public static func check<Model: Layer>(
    model: Model, loss: some Loss, input: Tensor<Model.Scalar>, target: Tensor<Model.Scalar>,
    tolerance: Tolerance = Tolerance()
  ) throws -> Report {
    let copy = model.converted(to: Double.self)
    let (input, target) = (Tensor<Double>(input), Tensor<Double>(target))
    return try check(parameters: copy.namedParameters, tolerance: tolerance) {
      try loss(copy(Variable(input)), target)
    }
  }

  static func compare(
    name: String, shape: [Int], _ automatic: [Double], _ numeric: [Double], _ tolerance: Tolerance
  ) -> ParameterResult {
    var maxAbsolute = 0.0
    var maxRelative = 0.0
    var worst = (index: 0, excess: -Double.infinity)
    var passed = true
    for (index, (a, n)) in zip(automatic, numeric).enumerated() {
      let difference = abs(a - n)
      let scale = max(abs(a), abs(n))
      let allowed = tolerance.absolute + tolerance.relative * scale
      maxAbsolute = max(maxAbsolute, difference)
      if scale > 0 { maxRelative = max(maxRelative, difference / scale) }
      // A NaN on either side is a failure, never silently skipped.
      if !(difference <= allowed) { passed = false }
      let excess = difference.isNaN ? Double.infinity : difference - allowed
      if excess > worst.excess { worst = (index, excess) }
    }
    if automatic.contains(where: \.isNaN) || numeric.contains(where: \.isNaN) {
      maxAbsolute = .nan
      maxRelative = .nan
    }
    return ParameterResult(
      name: name, shape: shape, isFrozen: false, automatic: automatic, numeric: numeric,
      maxAbsoluteError: maxAbsolute, maxRelativeError: maxRelative, worstIndex: worst.index,
      passed: passed)
  }
}
