/// Elementwise functions and the (log-)softmax, each computed in a numerically stable way.
extension Tensor {
  /// e raised to each element.
  public func exp() -> Tensor { map(Scalar.exp) }

  /// The natural logarithm of each element (−∞ at 0, NaN below).
  public func log() -> Tensor { map(Scalar.log) }

  /// The hyperbolic tangent of each element, as the one definition of each activation gives it.
  public func tanh() -> Tensor { activated(.tanh) }

  /// The logistic sigmoid 1 / (1 + e^−x) of each element, from the same definition: exact to
  /// rounding in `Double` (e^x / (1 + e^x) for negative x, so that e^−x never overflows), within
  /// 3 ulp in `Float`, and exactly 0.5 at x = 0.
  public func sigmoid() -> Tensor { activated(.sigmoid) }

  /// max(0, x) for each element.
  public func relu() -> Tensor { activated(.relu) }

  /// x for positive elements, `slope`·x for the others.
  public func leakyRelu(slope: Scalar) -> Tensor { activated(.leaky(slope: Double(slope))) }

  /// The activation applied to every element, by its one definition.
  func activated(_ activation: ElementwiseActivation) -> Tensor {
    var result = self
    result.withUnsafeMutableBufferPointer { buffer in
      guard let base = buffer.baseAddress else { return }
      activation.apply(base, rows: 1, width: buffer.count, bias: nil)
    }
    return result
  }

  /// The softmax along `axis`: e^x / Σ e^x, after subtracting the line's maximum so that no
  /// exponential overflows (logits of ±1000 give exact 0s and 1s, never NaN).
  public func softmax(alongAxis axis: Int = -1) throws -> Tensor {
    try logSoftmax(alongAxis: axis).exp()
  }

  /// The logarithm of the softmax along `axis`: (x − max) − log Σ e^(x − max), finite for every
  /// finite input.
  public func logSoftmax(alongAxis axis: Int = -1) throws -> Tensor {
    let layout = try layout(alongAxis: axis, operation: "logSoftmax")
    return withUnsafeBufferPointer { source in
      Tensor(validShape: shape) { target in
        for outer in 0..<layout.outer {
          for inner in 0..<layout.inner {
            let start = outer * layout.length * layout.inner + inner
            var largest = -Scalar.infinity
            for index in 0..<layout.length {
              largest = Swift.max(largest, source[start + index * layout.inner])
            }
            var total: Scalar = 0
            for index in 0..<layout.length {
              total += Scalar.exp(source[start + index * layout.inner] - largest)
            }
            // (x − max) first: it is exact for nearby values, whereas x − (max + log Σ) would
            // lose the small log Σ against a large max.
            let logTotal = Scalar.log(total)
            for index in 0..<layout.length {
              let offset = start + index * layout.inner
              target[offset] = (source[offset] - largest) - logTotal
            }
          }
        }
      }
    }
  }
}
