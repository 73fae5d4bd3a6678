import CBackpropKernels

extension Tensor {
  /// The index (row-major) of the first NaN or infinity, or nil when every value is finite;
  /// checked by a vectorized kernel at memory speed.
  public var firstNonFiniteIndex: Int? {
    withUnsafeBufferPointer { buffer -> Int? in
      guard let base = buffer.baseAddress else { return nil }
      let index =
        Scalar.self == Float.self
        ? bp_first_non_finite_f32(concrete(base, as: Float.self), buffer.count)
        : bp_first_non_finite_f64(concrete(base, as: Double.self), buffer.count)
      return index < buffer.count ? index : nil
    }
  }
}
