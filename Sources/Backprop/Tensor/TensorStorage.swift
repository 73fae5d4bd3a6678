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
    let raw = UnsafeMutableRawPointer.allocate(
      byteCount: Swift.max(count, 1) * MemoryLayout<Scalar>.stride, alignment: 64)
    base = raw.bindMemory(to: Scalar.self, capacity: Swift.max(count, 1))
  }

  @usableFromInline
  func copy() -> TensorStorage {
    let result = TensorStorage(uninitializedCount: count)
    result.base.update(from: base, count: count)
    return result
  }

  deinit { UnsafeMutableRawPointer(base).deallocate() }
}
