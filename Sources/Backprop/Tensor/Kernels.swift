import CBackpropKernels
import Dispatch
import Foundation

/// The compute kernels behind every matrix product, and their settings.
///
/// Float products run a cache-blocked, packed GEMM whose micro-kernel is chosen at run time by a
/// CPU check (AVX-512, AVX2 + FMA, or portable C), so the package needs no compiler flag and runs
/// on any x86-64 or ARM machine. When OpenBLAS is installed it is loaded at run time (`dlopen`)
/// and used where it is faster, unless `BACKPROP_BLAS=off` or ``usesBLAS`` is false; without it
/// everything works the same.
///
/// Products of more than ``parallelThreshold`` floating-point operations are split by columns
/// across ``threadCount`` threads. Every element is summed in the same order however the columns
/// are split, so results never depend on the thread count. The built-in kernels give the same
/// bits at every instruction-set level; BLAS may differ from them in the last bits.
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

  /// Products of at most this many multiply-adds run in Swift without packing.
  static let tinyProduct = 4096

  /// The peak resident memory of the process, in bytes.
  public static var peakResidentBytes: Int { Int(bp_peak_resident_bytes()) }

  /// tanh of every value, in place: vectorized, within 2 ulp, the same bits on every
  /// instruction-set level and platform (it does not call the C library).
  public static func tanh(_ values: UnsafeMutableBufferPointer<Float>) {
    guard let base = values.baseAddress else { return }
    bp_tanh_f32(base, values.count)
  }

  /// 1/(1 + e^−x) of every value, in place, with the same exponential as ``tanh(_:)``.
  public static func sigmoid(_ values: UnsafeMutableBufferPointer<Float>) {
    guard let base = values.baseAddress else { return }
    bp_sigmoid_f32(base, values.count)
  }

  /// The settings a product runs with, read once.
  static func plan(m: Int, n: Int, k: Int, double: Bool) -> (threads: Int, blas: Bool) {
    let work = 2 * m * n * k
    let blas = settings.lock.withLock { settings.usesBLAS } && isBLASAvailable
    // The built-in double kernel is portable and simple: BLAS wins at every size.
    let useBLAS = blas && (double || work >= 2 * 64 * 64 * 64)
    return (work >= parallelThreshold ? min(threadCount, max(1, n / 64)) : 1, useBLAS)
  }

  /// Splits the columns [0, n) into `parts` ranges on multiples of `block`, runs `body` on each
  /// (on the kernels' persistent worker threads when there are several), and returns when all are
  /// done.
  static func forEachColumnRange(
    n: Int, parts: Int, block: Int, _ body: @escaping @Sendable (Int, Int) -> Void
  ) {
    guard parts > 1 else { return body(0, n) }
    let blocks = (n + block - 1) / block
    let perPart = (blocks + parts - 1) / parts
    let job = ColumnJob(n: n, columnsPerPart: perPart * block, body: body)
    withExtendedLifetime(job) {
      bp_parallel_for(
        parts,
        { context, part in
          guard let context else { return }
          let job = Unmanaged<ColumnJob>.fromOpaque(context).takeUnretainedValue()
          let start = min(job.n, part * job.columnsPerPart)
          let end = min(job.n, (part + 1) * job.columnsPerPart)
          if start < end { job.body(start, end) }
        }, Unmanaged.passUnretained(job).toOpaque())
    }
  }

  /// What the worker threads of ``forEachColumnRange(n:parts:block:_:)`` run.
  private final class ColumnJob {
    let n: Int
    let columnsPerPart: Int
    let body: @Sendable (Int, Int) -> Void

    init(n: Int, columnsPerPart: Int, body: @escaping @Sendable (Int, Int) -> Void) {
      self.n = n
      self.columnsPerPart = columnsPerPart
      self.body = body
    }
  }
}

extension Kernels {
  /// A column range of a product by one scalar type's C kernel (BLAS's returns false when no
  /// BLAS is loaded).
  typealias ColumnProduct<Scalar> =
    @Sendable (
      Bool, Bool, Int, Int, Int, UnsafePointer<Scalar>, UnsafePointer<Scalar>,
      UnsafeMutablePointer<Scalar>, Bool, Int, Int
    ) -> Bool

  /// C = op(A)·op(B) (+= when `accumulate`): tiny products in Swift, the rest by `builtin` or,
  /// where the plan says so, `blas`, split by columns on multiples of `block` across threads.
  static func product<Scalar: TensorScalar>(
    _ a: UnsafePointer<Scalar>, transposeA: Bool, _ b: UnsafePointer<Scalar>, transposeB: Bool,
    into c: UnsafeMutablePointer<Scalar>, m: Int, n: Int, k: Int, accumulate: Bool,
    block: Int, blas: @escaping ColumnProduct<Scalar>, builtin: @escaping ColumnProduct<Scalar>
  ) {
    guard m * n * k > tinyProduct else {
      return referenceMatrixProduct(
        a, transposeA: transposeA, b, transposeB: transposeB, into: c,
        m: m, n: n, k: k, accumulate: accumulate)
    }
    let plan = plan(m: m, n: n, k: k, double: Scalar.self == Double.self)
    // The pointers travel as addresses so that the closure may run on other threads.
    let (aAddress, bAddress, cAddress) = (
      UInt(bitPattern: a), UInt(bitPattern: b), UInt(bitPattern: c)
    )
    forEachColumnRange(n: n, parts: plan.threads, block: block) { start, end in
      guard let a = UnsafePointer<Scalar>(bitPattern: aAddress),
        let b = UnsafePointer<Scalar>(bitPattern: bAddress),
        let c = UnsafeMutablePointer<Scalar>(bitPattern: cAddress)
      else { return }
      if plan.blas, blas(transposeA, transposeB, m, n, k, a, b, c, accumulate, start, end) {
        return
      }
      _ = builtin(transposeA, transposeB, m, n, k, a, b, c, accumulate, start, end)
    }
  }
}
