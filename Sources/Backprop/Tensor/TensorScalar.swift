import CBackpropKernels

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// A floating-point type that tensors can hold: `Float` or `Double`.
///
/// Besides the elementary functions, the protocol carries the compute kernels that the tensor
/// operations route to. Each conforming type supplies concrete, fully specialized versions, so a
/// product called from generic code still runs a specialized loop, and a faster kernel (SIMD,
/// BLAS) can replace one without any change to the public API.
public protocol TensorScalar: BinaryFloatingPoint, Sendable, LosslessStringConvertible
where RawSignificand: FixedWidthInteger {
  /// e raised to `x`.
  static func exp(_ x: Self) -> Self
  /// The natural logarithm of `x`.
  static func log(_ x: Self) -> Self
  /// The hyperbolic tangent of `x`.
  static func tanh(_ x: Self) -> Self
  /// log(1 + `x`), accurate for small `x`.
  static func log1p(_ x: Self) -> Self

  /// The matrix product C = s·op(A)·op(B), or C += s·op(A)·op(B) when `accumulate` is true,
  /// where s is `scale`.
  ///
  /// All matrices are dense and row-major. op(A) is m×k: A is stored m×k, or k×m when
  /// `transposeA` is true; op(B) is k×n: B is stored k×n, or n×k when `transposeB` is true.
  /// C is m×n. For a given shape the summation order is fixed, so results never depend on
  /// timing or thread count. Accumulating with a scale lets a training step add −η·∂E/∂W
  /// straight into the weights, without a gradient buffer.
  static func multiplyMatrices(
    _ a: UnsafePointer<Self>, transposeA: Bool,
    _ b: UnsafePointer<Self>, transposeB: Bool,
    into c: UnsafeMutablePointer<Self>,
    m: Int, n: Int, k: Int, scale: Self, accumulate: Bool)
}

extension Float: TensorScalar {
  /// e raised to `x`.
  @inlinable public static func exp(_ x: Float) -> Float { expf(x) }
  /// The natural logarithm of `x`.
  @inlinable public static func log(_ x: Float) -> Float { logf(x) }
  /// The hyperbolic tangent of `x`.
  @inlinable public static func tanh(_ x: Float) -> Float { tanhf(x) }
  /// log(1 + `x`), accurate for small `x`.
  @inlinable public static func log1p(_ x: Float) -> Float { log1pf(x) }

  /// The matrix product C = s·op(A)·op(B); see ``TensorScalar/multiplyMatrices(_:transposeA:_:transposeB:into:m:n:k:scale:accumulate:)``.
  public static func multiplyMatrices(
    _ a: UnsafePointer<Float>, transposeA: Bool,
    _ b: UnsafePointer<Float>, transposeB: Bool,
    into c: UnsafeMutablePointer<Float>,
    m: Int, n: Int, k: Int, scale: Float, accumulate: Bool
  ) {
    product(
      a, transposeA: transposeA, b, transposeB: transposeB, into: c, m: m, n: n, k: k,
      scale: scale, accumulate: accumulate, builtinOnly: false)
  }

  /// The product by the kernels of `Float`; see ``Kernels/product(_:transposeA:_:transposeB:into:m:n:k:scale:accumulate:tile:blas:builtin:builtinOnly:)``.
  static func product(
    _ a: UnsafePointer<Float>, transposeA: Bool, _ b: UnsafePointer<Float>, transposeB: Bool,
    into c: UnsafeMutablePointer<Float>, m: Int, n: Int, k: Int, scale: Float, accumulate: Bool,
    builtinOnly: Bool
  ) {
    Kernels.product(
      a, transposeA: transposeA, b, transposeB: transposeB, into: c, m: m, n: n, k: k,
      scale: scale, accumulate: accumulate,
      tile: (Int(bp_sgemm_tile_rows()), Int(bp_sgemm_tile_columns())),
      blas: { bp_blas_sgemm($0, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) },
      builtin: {
        bp_sgemm($0, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
        return true
      }, builtinOnly: builtinOnly)
  }
}

extension Double: TensorScalar {
  /// e raised to `x`.
  @inlinable public static func exp(_ x: Double) -> Double { libm_exp(x) }
  /// The natural logarithm of `x`.
  @inlinable public static func log(_ x: Double) -> Double { libm_log(x) }
  /// The hyperbolic tangent of `x`.
  @inlinable public static func tanh(_ x: Double) -> Double { libm_tanh(x) }
  /// log(1 + `x`), accurate for small `x`.
  @inlinable public static func log1p(_ x: Double) -> Double { libm_log1p(x) }

  /// The matrix product C = s·op(A)·op(B); see ``TensorScalar/multiplyMatrices(_:transposeA:_:transposeB:into:m:n:k:scale:accumulate:)``.
  public static func multiplyMatrices(
    _ a: UnsafePointer<Double>, transposeA: Bool,
    _ b: UnsafePointer<Double>, transposeB: Bool,
    into c: UnsafeMutablePointer<Double>,
    m: Int, n: Int, k: Int, scale: Double, accumulate: Bool
  ) {
    product(
      a, transposeA: transposeA, b, transposeB: transposeB, into: c, m: m, n: n, k: k,
      scale: scale, accumulate: accumulate, builtinOnly: false)
  }

  /// The product by the kernels of `Double`; see ``Kernels/product(_:transposeA:_:transposeB:into:m:n:k:scale:accumulate:tile:blas:builtin:builtinOnly:)``.
  static func product(
    _ a: UnsafePointer<Double>, transposeA: Bool, _ b: UnsafePointer<Double>, transposeB: Bool,
    into c: UnsafeMutablePointer<Double>, m: Int, n: Int, k: Int, scale: Double, accumulate: Bool,
    builtinOnly: Bool
  ) {
    Kernels.product(
      a, transposeA: transposeA, b, transposeB: transposeB, into: c, m: m, n: n, k: k,
      scale: scale, accumulate: accumulate, tile: (8, 8),
      blas: { bp_blas_dgemm($0, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) },
      builtin: {
        bp_dgemm($0, $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
        return true
      }, builtinOnly: builtinOnly)
  }
}

// The C library's double-precision functions, under names that the static members above cannot
// shadow.
@usableFromInline func libm_exp(_ x: Double) -> Double { exp(x) }
@usableFromInline func libm_log(_ x: Double) -> Double { log(x) }
@usableFromInline func libm_tanh(_ x: Double) -> Double { tanh(x) }
@usableFromInline func libm_log1p(_ x: Double) -> Double { log1p(x) }

/// The portable matrix product C = s·op(A)·op(B) (+= when accumulating): loops ordered so the
/// innermost one runs over contiguous memory.
@inline(__always)
func referenceMatrixProduct<Scalar: TensorScalar>(
  _ a: UnsafePointer<Scalar>, transposeA: Bool,
  _ b: UnsafePointer<Scalar>, transposeB: Bool,
  into c: UnsafeMutablePointer<Scalar>,
  m: Int, n: Int, k: Int, scale: Scalar, accumulate: Bool
) {
  if !accumulate { c.update(repeating: 0, count: m * n) }
  if transposeB {
    // C[i, j] += s·Σp op(A)[i, p] · B[j, p]: a dot product over a contiguous row of B.
    for i in 0..<m {
      for j in 0..<n {
        var sum: Scalar = 0
        let bRow = b + j * k
        if transposeA {
          for p in 0..<k { sum += a[p * m + i] * bRow[p] }
        } else {
          let aRow = a + i * k
          for p in 0..<k { sum += aRow[p] * bRow[p] }
        }
        c[i * n + j] += scale * sum
      }
    }
  } else {
    // C[i, :] += s·op(A)[i, p] · B[p, :]: a scaled row of B added to a row of C.
    for i in 0..<m {
      let cRow = c + i * n
      for p in 0..<k {
        let factor = scale * (transposeA ? a[p * m + i] : a[i * k + p])
        let bRow = b + p * n
        for j in 0..<n { cRow[j] += factor * bRow[j] }
      }
    }
  }
}

/// A buffer of a generic scalar type seen as the concrete type it is, so that a loop over it
/// runs specialized code when it is called from code that is not (another module's generic
/// code, a protocol witness).
@inline(__always)
func concrete<Scalar: TensorScalar, Concrete: TensorScalar>(
  _ pointer: UnsafeMutablePointer<Scalar>, as type: Concrete.Type
) -> UnsafeMutablePointer<Concrete> {
  UnsafeMutableRawPointer(pointer).assumingMemoryBound(to: Concrete.self)
}

/// A read-only buffer seen as the concrete type it is.
@inline(__always)
func concrete<Scalar: TensorScalar, Concrete: TensorScalar>(
  _ pointer: UnsafePointer<Scalar>, as type: Concrete.Type
) -> UnsafePointer<Concrete> {
  UnsafeRawPointer(pointer).assumingMemoryBound(to: Concrete.self)
}

extension TensorScalar {
  /// C = s·op(A)·op(B) (+= when accumulating) by the built-in kernel alone, whatever the shape:
  /// each element's sum is the same however the rows are cut, so a product on a part of a batch
  /// gives the bits of the whole batch's.
  @inline(__always)
  static func multiplyMatricesBuiltin(
    _ a: UnsafePointer<Self>, transposeA: Bool, _ b: UnsafePointer<Self>, transposeB: Bool,
    into c: UnsafeMutablePointer<Self>, m: Int, n: Int, k: Int, scale: Self, accumulate: Bool
  ) {
    if Self.self == Float.self {
      Float.product(
        concrete(a, as: Float.self), transposeA: transposeA, concrete(b, as: Float.self),
        transposeB: transposeB, into: concrete(c, as: Float.self), m: m, n: n, k: k,
        scale: Float(scale), accumulate: accumulate, builtinOnly: true)
    } else {
      Double.product(
        concrete(a, as: Double.self), transposeA: transposeA, concrete(b, as: Double.self),
        transposeB: transposeB, into: concrete(c, as: Double.self), m: m, n: n, k: k,
        scale: Double(scale), accumulate: accumulate, builtinOnly: true)
    }
  }
}
