/// Differentiable sums, means, maxima and reshapes.
extension Variable {
  /// The sum of all elements, as a rank-0 variable. Its pullback spreads the gradient to every
  /// element.
  public func sum() -> Variable {
    let inputShape = shape
    return Variable.record(value.sum(), operation: "sum", inputs: [self]) { gradient in
      [try gradient.broadcasted(to: inputShape)]
    }
  }

  /// The sums along `axis`; the axis is removed unless `keepingDimension` is true.
  public func sum(alongAxis axis: Int, keepingDimension: Bool = false) throws -> Variable {
    let inputShape = shape
    let keptShape = try value.layout(alongAxis: axis, operation: "sum")
      .reducedShape(of: inputShape, keepingDimension: true)
    let result = try value.sum(alongAxis: axis, keepingDimension: keepingDimension)
    return Variable.record(result, operation: "sum", inputs: [self]) { gradient in
      [try gradient.reshaped(to: keptShape).broadcasted(to: inputShape)]
    }
  }

  /// The mean of all elements, as a rank-0 variable.
  public func mean() -> Variable {
    sum() / Scalar(value.count)
  }

  /// The means along `axis`; the axis is removed unless `keepingDimension` is true.
  public func mean(alongAxis axis: Int, keepingDimension: Bool = false) throws -> Variable {
    let length = try value.layout(alongAxis: axis, operation: "mean").length
    return try sum(alongAxis: axis, keepingDimension: keepingDimension) / Scalar(length)
  }

  /// The maxima along `axis`. The gradient flows to the first largest element of each line.
  public func max(alongAxis axis: Int, keepingDimension: Bool = false) throws -> Variable {
    let layout = try value.layout(alongAxis: axis, operation: "max")
    let input = value
    let result = try input.max(alongAxis: axis, keepingDimension: keepingDimension)
    let winners = try input.argmax(alongAxis: axis)
    return Variable.record(result, operation: "max", inputs: [self]) { gradient in
      var inputGradient = try Tensor<Scalar>(zeros: input.shape)
      gradient.withUnsafeBufferPointer { upstream in
        inputGradient.withUnsafeMutableBufferPointer { target in
          for outer in 0..<layout.outer {
            for inner in 0..<layout.inner {
              let line = outer * layout.inner + inner
              let offset = (outer * layout.length + winners[line]) * layout.inner + inner
              target[offset] = upstream[line]
            }
          }
        }
      }
      return [inputGradient]
    }
  }

  /// The largest element, as a rank-0 variable.
  public func max() throws -> Variable {
    try reshaped(to: [-1]).max(alongAxis: 0)
  }

  /// The same elements under another shape (one dimension may be −1).
  public func reshaped(to newShape: [Int]) throws -> Variable {
    let inputShape = shape
    return Variable.record(try value.reshaped(to: newShape), operation: "reshape", inputs: [self]) {
      gradient in [try gradient.reshaped(to: inputShape)]
    }
  }
}
