import Foundation

/// The heap buffer behind a tensor: a fixed number of scalars, 64-byte aligned for vector units.
///
/// Tensors share a storage until one of them is written to; ``Tensor`` then copies it first
/// (copy-on-write), so tensors behave as values. Mutation happens only while the storage is
/// uniquely referenced, which is what makes the unchecked `Sendable` conformance sound.
@usableFromInline
final class TensorStorage<Scalar: TensorScalar>: @unchecked Sendable {
  @usableFromInline let count: Int
  @usableFromInline let base: UnsafeMutablePointer<Scalar>

  /// Allocates `count` scalars; their values are unspecified until written.
  @usableFromInline
  init(uninitializedCount count: Int) {
    self.count = count
    let bytes = Swift.max(count, 1) * MemoryLayout<Scalar>.stride
    let large = bytes >= hugePageBytes
    let raw = UnsafeMutableRawPointer.allocate(
      byteCount: bytes, alignment: large ? hugePageBytes : 64)
    if large { adviseHugePages(raw, bytes) }
    base = raw.bindMemory(to: Scalar.self, capacity: Swift.max(count, 1))
  }

  @usableFromInline
  func copy() -> TensorStorage {
    let result = TensorStorage(uninitializedCount: count)
    UnsafeMutableRawPointer(result.base).copyMemory(
      from: base, byteCount: count * MemoryLayout<Scalar>.stride)
    return result
  }

  deinit { UnsafeMutableRawPointer(base).deallocate() }
}

/// Buffers of at least this many bytes start on a 2 MiB boundary and ask the kernel for huge
/// pages, as NumPy does for its large arrays: a 188 MB data set then takes 90 page faults
/// instead of 46 000, which makes reading it twice as fast.
@usableFromInline let hugePageBytes = 1 << 21

@usableFromInline func adviseHugePages(_ pointer: UnsafeMutableRawPointer, _ bytes: Int) {
  #if os(Linux)
    _ = madvise(pointer, bytes, MADV_HUGEPAGE)
  #endif
}
