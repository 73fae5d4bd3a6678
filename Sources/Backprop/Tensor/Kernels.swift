import CBackpropKernels
import Dispatch
import Foundation

/// The compute kernels behind every matrix product, and their settings.
///
/// Float products run a cache-blocked GEMM whose kernel is chosen at run time by a CPU check
/// (AVX-512, AVX2 + FMA, or portable C), so the package needs no compiler flag and runs on any
/// x86-64 or ARM machine. When OpenBLAS is installed it is loaded at run time (`dlopen`) and
/// computes every product but the tiny ones and those where the built-in kernel is faster (see
/// `builtinIsFaster(m:n:k:)`), unless `BACKPROP_BLAS=off` or ``usesBLAS`` is false; without it
/// everything works the same.
///
/// Products of more than ``parallelThreshold`` floating-point operations are split across
/// ``threadCount`` threads, by rows of the result when it has more rows than columns and by
/// columns otherwise, so that each thread repacks the smaller operand. Every element is summed in
/// the same order however the result is split, so results never depend on the thread count. The
/// built-in kernels give the same bits at every instruction-set level; BLAS may differ from them
/// in the last bits.
public enum Kernels {
  /// The instruction-set levels of the built-in float kernels.
  public enum InstructionSet: Int, Sendable, CaseIterable, CustomStringConvertible {
    /// Portable C.
    case generic = 0
    /// AVX2 with FMA, 256-bit vectors.
    case avx2 = 1
    /// AVX-512, 512-bit vectors.
    case avx512 = 2

    /// The level's name.
    public var description: String {
      switch self {
      case .generic: "generic"
      case .avx2: "AVX2+FMA"
      case .avx512: "AVX-512"
      }
    }
  }

  private final class Settings: @unchecked Sendable {
    let lock = NSLock()
    var threadCount: Int
    var usesBLAS: Bool

    init() {
      let environment = ProcessInfo.processInfo.environment
      threadCount = max(
        1,
        Int(environment["BACKPROP_THREADS"] ?? "") ?? ProcessInfo.processInfo.activeProcessorCount)
      let blas = (environment["BACKPROP_BLAS"] ?? "on").lowercased()
      usesBLAS = !["off", "0", "no", "false"].contains(blas)
    }
  }

  private static let settings = Settings()

  /// The best level this CPU supports.
  public static var detectedInstructionSet: InstructionSet {
    InstructionSet(rawValue: Int(bp_detect_level().rawValue)) ?? .generic
  }

  /// The level the float kernels use; setting it (for tests and benchmarks) is capped at the
  /// detected one.
  public static var instructionSet: InstructionSet {
    get { InstructionSet(rawValue: Int(bp_level().rawValue)) ?? .generic }
    set { bp_set_level(BPKernelLevel(rawValue: UInt32(newValue.rawValue))) }
  }

  /// Threads for large products (default: the active processors, or `BACKPROP_THREADS`).
  public static var threadCount: Int {
    get { settings.lock.withLock { settings.threadCount } }
    set { settings.lock.withLock { settings.threadCount = max(1, newValue) } }
  }

  /// Whether OpenBLAS is used when it is installed (default: yes, unless `BACKPROP_BLAS=off`).
  public static var usesBLAS: Bool {
    get { settings.lock.withLock { settings.usesBLAS } }
    set { settings.lock.withLock { settings.usesBLAS = newValue } }
  }

  /// Whether OpenBLAS could be loaded (`libopenblas.so.0` and the like).
  public static var isBLASAvailable: Bool { bp_blas_load() }

  /// The OpenBLAS core type in use (set to this CPU's kind before loading when unset, since
  /// OpenBLAS 0.3.21 does not recognise newer CPUs), or `nil` without OpenBLAS.
  public static var blasCoreType: String? { bp_blas_coretype().map { String(cString: $0) } }

  /// Products below this many floating-point operations run on one thread, where waking a
  /// second one costs more than it gains (`BACKPROP_PARALLEL_FLOPS` overrides it). Measured on
  /// the 2-core machine with the mlp benchmark's 25.7-MFLOP products: splitting them gains about
  /// 15%; below about 5 MFLOP it loses.
  public static let parallelThreshold =
    Int(ProcessInfo.processInfo.environment["BACKPROP_PARALLEL_FLOPS"] ?? "") ?? 16_000_000

  /// Products of at most this many multiply-adds run in Swift without packing: below it, a call
  /// into a packed kernel (ours or OpenBLAS's) costs more than the arithmetic (measured: an
  /// 8×8·8×8 product takes 120 ns in Swift, 60 ns in OpenBLAS, 170 ns in the built-in kernel).
  static let tinyProduct = 256

  /// The peak resident memory of the process, in bytes.
  public static var peakResidentBytes: Int { Int(bp_peak_resident_bytes()) }

  /// tanh of every value, in place: vectorized, within 3 ulp, the same bits on every
  /// instruction-set level and platform (it does not call the C library).
  public static func tanh(_ values: UnsafeMutableBufferPointer<Float>) {
    activate(values.baseAddress, rows: 1, width: values.count, bias: nil, BPActivationTanh)
  }

  /// 1/(1 + e^−x) of every value, in place, with the same exponential as ``tanh(_:)``.
  public static func sigmoid(_ values: UnsafeMutableBufferPointer<Float>) {
    activate(values.baseAddress, rows: 1, width: values.count, bias: nil, BPActivationSigmoid)
  }

  /// f(x + b) of every value of a row-major `rows × width` matrix, in place, with `bias` (nil for
  /// none) added to each row, by the kernels of ``tanh(_:)`` and ``sigmoid(_:)``.
  static func activate(
    _ values: UnsafeMutablePointer<Float>?, rows: Int, width: Int,
    bias: UnsafePointer<Float>?, _ activation: BPActivation
  ) {
    guard let values, rows > 0, width > 0 else { return }
    bp_activate_f32(values, rows, width, bias, activation)
  }

  /// Softmax cross-entropy of `rows × width` logits against targets of the same shape, row by
  /// row: `losses` gets each row's −Σ t·log p (computed without taking the log of a p) and
  /// `delta` scale·(p·Σt − t); the logits are left unchanged. Vectorized with the exponential of
  /// ``tanh(_:)``: the same bits at every instruction-set level, within a few ulp of exact.
  static func softmaxCrossEntropy(
    _ logits: UnsafePointer<Float>, targets: UnsafePointer<Float>,
    delta: UnsafeMutablePointer<Float>, losses: UnsafeMutablePointer<Float>, rows: Int,
    width: Int, scale: Float
  ) {
    guard rows > 0, width > 0 else { return }
    bp_softmax_cross_entropy_f32(logits, targets, delta, losses, rows, width, scale)
  }

  /// The settings a product runs with, read once: the threads, whether BLAS computes it, and
  /// whether the result is split by rows (else by columns).
  static func plan(m: Int, n: Int, k: Int, isFloat: Bool) -> (
    threads: Int, blas: Bool, splitsRows: Bool
  ) {
    // Each thread packs all of the operand along the dimension it does not split: the smaller.
    let splitsRows = m > n
    let threads =
      splitsProduct(m: m, n: n, k: k)
      ? min(threadCount, max(1, (splitsRows ? m : n) / 64)) : 1
    // Decided on the whole product, so that the kernel (and the bits) do not depend on the
    // thread count. A product large enough to be split runs on the built-in kernel, whose sums
    // do not depend on where the result is cut; OpenBLAS's do (on Haswell, splitting a
    // 64×1030·1030×300 product's columns in two changes 4% of the results in the last bit).
    let useBLAS =
      settings.lock.withLock { settings.usesBLAS } && isBLASAvailable
      && !splitsProduct(m: m, n: n, k: k) && !(isFloat && builtinIsFaster(m: m, n: n, k: k))
    return (threads, useBLAS, splitsRows)
  }

  /// Whether the built-in kernel beats OpenBLAS on a product: at AVX-512, where it reads A in
  /// place (and B too, unless B is transposed), on products of at least a MFLOP, 32 columns
  /// wide, whose operands fit in a core's 1 MiB level-2 cache (measured on one thread: 3–11%
  /// faster on mlp's products, 2–7% on 128³ and 256³; OpenBLAS wins below, on layers of 10
  /// outputs and on single rows, and by up to 20% on wide's 4-MB operands, which its packing
  /// keeps in cache).
  static func builtinIsFaster(m: Int, n: Int, k: Int) -> Bool {
    instructionSet == .avx512 && 2 * m * n * k >= 1_000_000 && n >= 32
      && (m * k + k * n) * MemoryLayout<Float>.size <= 1 << 20
  }

  /// Whether a product of an m×k by a k×n matrix is large enough to split across threads.
  static func splitsProduct(m: Int, n: Int, k: Int) -> Bool {
    2 * m * n * k >= parallelThreshold
  }

  /// Splits [0, count) into `parts` ranges on multiples of `block`, runs `body` on each (on the
  /// kernels' persistent worker threads when there are several), and returns when all are done.
  /// `body` must write only what belongs to its range; a product inside it runs on its thread
  /// alone.
  ///
  /// With `warming`, each part then reads its share of that region into its core's cache, so
  /// that a later product finds it there rather than in main memory (with one part, nothing is
  /// read: the region would not be in cache sooner than the product reads it).
  static func forEachRange(
    count: Int, parts: Int, block: Int, warming: UnsafeRawBufferPointer? = nil,
    _ body: (Int, Int) -> Void
  ) {
    guard parts > 1 else { return body(0, count) }
    let blocks = (count + block - 1) / block
    withoutActuallyEscaping(body) { body in
      var job = RangeJob(
        count: count, perPart: (blocks + parts - 1) / parts * block, parts: parts, body: body,
        warming: warming)
      withUnsafeMutablePointer(to: &job) { job in
        bp_parallel_for(
          parts,
          { context, part in
            guard let job = context?.assumingMemoryBound(to: RangeJob.self).pointee else { return }
            let start = min(job.count, part * job.perPart)
            let end = min(job.count, (part + 1) * job.perPart)
            if start < end { job.body(start, end) }
            if let region = job.warming, let base = region.baseAddress {
              let share = (region.count + job.parts - 1) / job.parts
              let offset = min(region.count, part * share)
              bp_read_into_cache(base + offset, min(share, region.count - offset))
            }
          }, job)
      }
    }
  }

  /// Runs `body` over [0, count) in ranges split across the threads when `count` elements of an
  /// element-wise update are enough to pay for a second thread (about 64 Ki; mlp's first layer
  /// has 100 352 weights): the parts are independent, so the split changes no result.
  static func forEachElementRange(count: Int, _ body: (Int, Int) -> Void) {
    forEachRange(count: count, parts: count >= 1 << 16 ? threadCount : 1, block: 1024, body)
  }

  /// What the threads of ``forEachRange(count:parts:block:warming:_:)`` run.
  private struct RangeJob {
    let count: Int
    let perPart: Int
    let parts: Int
    let body: (Int, Int) -> Void
    let warming: UnsafeRawBufferPointer?
  }
}

extension Kernels {
  /// A product by one scalar type's C kernel, with the arguments of ``bp_sgemm``: transposes,
  /// m, n, k, alpha, A and its leading dimension, B and its, accumulate, C and its (BLAS's
  /// returns false when no BLAS is loaded).
  typealias GEMM<Scalar> = (
    Bool, Bool, Int, Int, Int, Scalar, UnsafePointer<Scalar>, Int, UnsafePointer<Scalar>, Int,
    Bool, UnsafeMutablePointer<Scalar>, Int
  ) -> Bool

  /// C = scale·op(A)·op(B), or C += scale·op(A)·op(B) when `accumulate`: tiny products in Swift,
  /// the rest by `builtin` or, where the plan says so, `blas`, split across threads by rows (on
  /// multiples of `tile.rows`) or columns (on multiples of `tile.columns`).
  static func product<Scalar: TensorScalar>(
    _ a: UnsafePointer<Scalar>, transposeA: Bool, _ b: UnsafePointer<Scalar>, transposeB: Bool,
    into c: UnsafeMutablePointer<Scalar>, m: Int, n: Int, k: Int, scale: Scalar,
    accumulate: Bool, tile: (rows: Int, columns: Int), blas: GEMM<Scalar>,
    builtin: GEMM<Scalar>, builtinOnly: Bool = false
  ) {
    guard builtinOnly || m * n * k > tinyProduct else {
      return referenceMatrixProduct(
        a, transposeA: transposeA, b, transposeB: transposeB, into: c,
        m: m, n: n, k: k, scale: scale, accumulate: accumulate)
    }
    var plan = plan(m: m, n: n, k: k, isFloat: Scalar.self == Float.self)
    if builtinOnly { plan.blas = false }
    let (lda, ldb) = (transposeA ? m : k, transposeB ? k : n)
    forEachRange(
      count: plan.splitsRows ? m : n, parts: plan.threads,
      block: plan.splitsRows ? tile.rows : tile.columns
    ) { start, end in
      var (a, b, c) = (a, b, c)
      var (rows, columns) = (m, n)
      if plan.splitsRows {
        a += transposeA ? start : start * lda
        c += start * n
        rows = end - start
      } else {
        b += transposeB ? start * ldb : start
        c += start
        columns = end - start
      }
      if plan.blas,
        blas(
          transposeA, transposeB, rows, columns, k, scale, a, lda, b, ldb, accumulate, c, n)
      {
        return
      }
      _ = builtin(
        transposeA, transposeB, rows, columns, k, scale, a, lda, b, ldb, accumulate, c, n)
    }
  }
}
