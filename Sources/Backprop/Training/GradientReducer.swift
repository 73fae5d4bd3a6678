import CBackpropMPI
import Foundation

/// How the processes (ranks) of a data-parallel run combine what each computed, as Horovod
/// does: every rank holds the whole model and trains on its shard of each global batch, and the
/// shards' gradients are summed so that every rank takes the same step.
///
/// ``Layer/fit(_:validation:loss:optimizer:configuration:callbacks:reducer:)`` calls it; a
/// reducer of one rank (``SingleProcess``) changes nothing. Every rank must make the same calls
/// in the same order, and every rank receives the same sums.
public protocol GradientReducer: AnyObject {
  /// This process's rank, 0 to ``rankCount`` − 1; rank 0 writes the run's files.
  var rank: Int { get }
  /// The number of ranks.
  var rankCount: Int { get }
  /// Replaces `values` by their element-wise sum over all ranks.
  func sum(_ values: UnsafeMutableBufferPointer<Float>) throws
  /// Replaces `values` by their element-wise sum over all ranks.
  func sum(_ values: UnsafeMutableBufferPointer<Double>) throws
  /// Replaces `values` by rank `root`'s.
  func broadcast(_ values: UnsafeMutableBufferPointer<Float>, from root: Int) throws
  /// Replaces `values` by rank `root`'s.
  func broadcast(_ values: UnsafeMutableBufferPointer<Double>, from root: Int) throws
}

extension GradientReducer {
  /// ``sum(_:)`` of the buffer's scalar type.
  func sum<Scalar: TensorScalar>(scalars values: UnsafeMutableBufferPointer<Scalar>) throws {
    let raw = UnsafeMutableRawBufferPointer(values)
    if Scalar.self == Float.self {
      try sum(raw.bindMemory(to: Float.self))
    } else {
      try sum(raw.bindMemory(to: Double.self))
    }
  }

  /// ``broadcast(_:from:)`` of the buffer's scalar type.
  func broadcast<Scalar: TensorScalar>(
    scalars values: UnsafeMutableBufferPointer<Scalar>, from root: Int
  ) throws {
    let raw = UnsafeMutableRawBufferPointer(values)
    if Scalar.self == Float.self {
      try broadcast(raw.bindMemory(to: Float.self), from: root)
    } else {
      try broadcast(raw.bindMemory(to: Double.self), from: root)
    }
  }

  /// The rows `[start, end)` of a global batch of `rows` that this rank trains on: contiguous
  /// shards in rank order, the first `rows mod rankCount` ranks one row longer.
  public func shard(ofRows rows: Int) -> Range<Int> {
    let (base, extra) = rows.quotientAndRemainder(dividingBy: rankCount)
    let start = rank * base + min(rank, extra)
    return start..<(start + base + (rank < extra ? 1 : 0))
  }
}

/// The reducer of a run in one process: sums and broadcasts leave the values as they are.
public final class SingleProcess: GradientReducer {
  /// Rank 0.
  public let rank = 0
  /// One rank.
  public let rankCount = 1

  /// The reducer of one process.
  public init() {}

  /// Leaves `values` as they are.
  public func sum(_ values: UnsafeMutableBufferPointer<Float>) {}
  /// Leaves `values` as they are.
  public func sum(_ values: UnsafeMutableBufferPointer<Double>) {}
  /// Leaves `values` as they are.
  public func broadcast(_ values: UnsafeMutableBufferPointer<Float>, from root: Int) {}
  /// Leaves `values` as they are.
  public func broadcast(_ values: UnsafeMutableBufferPointer<Double>, from root: Int) {}
}

/// The reducer of a run started by `mpirun` (Open MPI or MPICH): `MPI_Allreduce` with `MPI_SUM`
/// over `MPI_COMM_WORLD`, and `MPI_Bcast`.
///
/// libmpi is loaded when the first reducer is made (`dlopen`: Backprop builds and runs without
/// MPI installed), and `MPI_Init` called; ``finish()`` calls `MPI_Finalize`. The order of the
/// reduction is the implementation's, chosen by the rank count and the message size, which stay
/// the same for a run; MPI recommends, and Open MPI's and MPICH's algorithms give, the same sums
/// on every rank, so the ranks' weights stay identical (`Scripts/mpi-check.py` runs it).
public final class MPIReducer: GradientReducer {
  /// This process's rank in `MPI_COMM_WORLD`.
  public let rank: Int
  /// The number of ranks in `MPI_COMM_WORLD`.
  public let rankCount: Int
  /// Seconds spent in sums and broadcasts so far (waiting for other ranks included).
  public private(set) var communicationSeconds = 0.0

  /// The ranks a launcher announces in the environment (Open MPI's `OMPI_COMM_WORLD_SIZE`,
  /// MPICH's `PMI_SIZE`), or nil outside `mpirun`.
  public static func launchedRanks(
    environment: [String: String] = ProcessInfo.processInfo.environment
  )
    -> Int?
  {
    for key in ["OMPI_COMM_WORLD_SIZE", "PMI_SIZE"] {
      if let value = environment[key].flatMap(Int.init), value >= 1 { return value }
    }
    return nil
  }

  /// Loads libmpi (`library`, or `libmpi.so.40`, `libmpi.so.12`, `libmpi.so`; the environment's
  /// `BACKPROP_MPI_LIBRARY` when nil) and joins `MPI_COMM_WORLD`.
  ///
  /// - Throws: ``BackpropError/invalidArgument(name:detail:)`` when libmpi cannot be loaded or
  ///   `MPI_Init` fails.
  public init(library: String? = ProcessInfo.processInfo.environment["BACKPROP_MPI_LIBRARY"])
    throws
  {
    var error = [CChar](repeating: 0, count: 512)
    let status = error.withUnsafeMutableBufferPointer { buffer in
      bp_mpi_start(library, buffer.baseAddress, buffer.count)
    }
    guard status == 0 else {
      let bytes = error.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }
      let message = String(decoding: bytes, as: UTF8.self)
      throw BackpropError.invalidArgument(name: "MPI", detail: message)
    }
    rank = Int(bp_mpi_rank())
    rankCount = Int(bp_mpi_size())
  }

  private func timed(_ what: String, _ body: () -> Int32) throws {
    let start = ContinuousClock.now
    let status = body()
    let elapsed = ContinuousClock.now - start
    communicationSeconds +=
      Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    guard status == 0 else {
      throw BackpropError.invalidArgument(
        name: "MPI", detail: "\(what) failed on rank \(rank) (status \(status))")
    }
  }

  /// `MPI_Allreduce` with `MPI_SUM`, in place.
  public func sum(_ values: UnsafeMutableBufferPointer<Float>) throws {
    try timed("MPI_Allreduce") { bp_mpi_sum_f32(values.baseAddress, values.count) }
  }

  /// `MPI_Allreduce` with `MPI_SUM`, in place.
  public func sum(_ values: UnsafeMutableBufferPointer<Double>) throws {
    try timed("MPI_Allreduce") { bp_mpi_sum_f64(values.baseAddress, values.count) }
  }

  /// `MPI_Bcast` from `root`.
  public func broadcast(_ values: UnsafeMutableBufferPointer<Float>, from root: Int) throws {
    try timed("MPI_Bcast") { bp_mpi_broadcast_f32(values.baseAddress, values.count, Int32(root)) }
  }

  /// `MPI_Bcast` from `root`.
  public func broadcast(_ values: UnsafeMutableBufferPointer<Double>, from root: Int) throws {
    try timed("MPI_Bcast") { bp_mpi_broadcast_f64(values.baseAddress, values.count, Int32(root)) }
  }

  /// `MPI_Finalize`: the run's last MPI call, on every rank.
  public func finish() { bp_mpi_finish() }

  /// `MPI_Abort`: stops every rank of the run with `code`, for an error one rank met alone.
  public func abort(code: Int32) { bp_mpi_abort(code) }
}
