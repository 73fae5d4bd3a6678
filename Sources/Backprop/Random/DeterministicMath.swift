/// Elementary functions computed with IEEE arithmetic only, so that they give the same bits on
/// every platform (the C library's `log` may differ in the last place between systems).
///
/// They serve the random generator, where reproducibility matters more than the last ulp.
public enum DeterministicMath {
  private static let ln2High = 6.931_471_803_691_238_164_90e-01
  private static let ln2Low = 1.908_214_929_270_587_700_02e-10

  /// The natural logarithm of a positive, finite `x`, within a few ulp.
  ///
  /// x = m·2ᵉ with m in [√½, √2); then log x = e·ln 2 + 2·atanh(s) with s = (m − 1)/(m + 1),
  /// |s| ≤ 0.172, and the series 2(s + s³/3 + s⁵/5 + …) is summed to 15 terms (s³⁰ < 10⁻²²).
  /// NaN for negative or NaN input, −∞ at 0, +∞ at +∞.
  public static func log(_ x: Double) -> Double {
    guard x > 0, x.isFinite else {
      if x == 0 { return -.infinity }
      return x == .infinity ? .infinity : .nan
    }
    var exponent = Double(Int(x.exponent))
    var m = x.significand  // in [1, 2)
    if m > 2.0.squareRoot() {
      m /= 2
      exponent += 1
    }
    let s = (m - 1) / (m + 1)
    let s2 = s * s
    var term = s
    var series = 0.0
    for k in 0..<15 {
      series += term / Double(2 * k + 1)
      term *= s2
    }
    return exponent * ln2High + (exponent * ln2Low + 2 * series)
  }
}
