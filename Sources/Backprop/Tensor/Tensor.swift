import Foundation

/// The largest number of bytes one tensor may take: the machine's physical memory, read once.
let physicalMemoryBytes = Int(clamping: ProcessInfo.processInfo.physicalMemory)

/// An n-dimensional array of scalars in row-major order, with value semantics.
///
/// A tensor is a shape and a buffer of `shape.reduce(1, *)` scalars; the last dimension varies
/// fastest. Copies share the buffer until one of them is modified (copy-on-write), so passing
/// tensors around is cheap and never aliases.
///
/// ```swift
/// let x = try Tensor<Double>([[1, 2, 3], [4, 5, 6]])   // shape [2, 3]
/// let y = try x + Tensor([10, 20, 30])                   // the row is broadcast over both rows
/// ```
///
/// Every operation checks shapes and throws ``BackpropError`` naming both shapes when they do not
/// fit; none of them traps on bad input.
public struct Tensor<Scalar: TensorScalar>: Sendable {
  /// The size of each dimension; `[]` for a scalar (rank-0) tensor.
  public let shape: [Int]
  @usableFromInline var storage: TensorStorage<Scalar>

  // MARK: Creating tensors

  /// Wraps a storage whose size already matches `shape`.
  @usableFromInline
  init(shape: [Int], storage: TensorStorage<Scalar>) {
    self.shape = shape
    self.storage = storage
  }

  /// A tensor of a valid shape whose scalars `body` writes; used where the shape is known good.
  @inlinable
  init(
    validShape shape: [Int],
    writing body: (UnsafeMutableBufferPointer<Scalar>) throws -> Void
  ) rethrows {
    let count = shape.reduce(1, *)
    let storage = TensorStorage<Scalar>(uninitializedCount: count)
    try body(UnsafeMutableBufferPointer(start: storage.base, count: count))
    self.init(shape: shape, storage: storage)
  }

  /// Creates a tensor of the given shape from scalars listed in row-major order.
  ///
  /// - Throws: ``BackpropError/invalidShape(shape:detail:)`` when a dimension is negative, the
  ///   tensor would not fit in memory, or `scalars.count` differs from the shape's element count.
  public init(shape: [Int], scalars: [Scalar]) throws {
    let count = try Self.elementCount(of: shape)
    guard count == scalars.count else {
      throw BackpropError.invalidShape(
        shape: shape, detail: "it holds \(count) elements but \(scalars.count) scalars were given")
    }
    self.init(validShape: shape) { buffer in
      _ = buffer.initialize(from: scalars)
    }
  }

  /// Creates a tensor of the given shape with every element equal to `value`.
  public init(shape: [Int], repeating value: Scalar) throws {
    _ = try Self.elementCount(of: shape)
    self.init(validShape: shape, repeating: value)
  }

  /// Zeros of another tensor's shape (valid, so nothing can fail): an optimizer's first state.
  init(zerosShapedLike other: Tensor) {
    self.init(validShape: other.shape, repeating: 0)
  }

  private init(validShape shape: [Int], repeating value: Scalar) {
    self.init(validShape: shape) { buffer in
      guard value == 0 && value.sign == .plus, let base = buffer.baseAddress else {
        return buffer.initialize(repeating: value)
      }
      // All bits zero is +0 in both scalar types: one memset, whatever the caller's context.
      UnsafeMutableRawPointer(base).initializeMemory(
        as: UInt8.self, repeating: 0, count: buffer.count * MemoryLayout<Scalar>.stride)
    }
  }

  /// Creates a tensor of zeros.
  public init(zeros shape: [Int]) throws {
    try self.init(shape: shape, repeating: 0)
  }

  /// A tensor of `shape` holding a copy of the elements at `elements` (as many as the shape
  /// has); the caller guarantees the shape is valid.
  init(copying elements: UnsafePointer<Scalar>, shape: [Int]) {
    self.init(validShape: shape) { buffer in
      guard let base = buffer.baseAddress else { return }
      UnsafeMutableRawPointer(base).copyMemory(
        from: elements, byteCount: buffer.count * MemoryLayout<Scalar>.stride)
    }
  }

  /// Creates a rank-0 tensor holding one scalar.
  public init(_ scalar: Scalar) {
    self.init(validShape: []) { $0[0] = scalar }
  }

  /// Creates a rank-1 tensor (a vector).
  public init(_ vector: [Scalar]) {
    self.init(validShape: [vector.count]) { _ = $0.initialize(from: vector) }
  }

  /// Creates a rank-2 tensor (a matrix) from its rows.
  ///
  /// - Throws: ``BackpropError/invalidShape(shape:detail:)`` when the rows differ in length.
  public init(_ rows: [[Scalar]]) throws {
    let columns = rows.first?.count ?? 0
    if let ragged = rows.firstIndex(where: { $0.count != columns }) {
      throw BackpropError.invalidShape(
        shape: [rows.count, columns],
        detail: "row \(ragged) has \(rows[ragged].count) elements, row 0 has \(columns)")
    }
    try self.init(shape: [rows.count, columns], scalars: rows.flatMap { $0 })
  }

  /// Converts every element of another tensor to this tensor's scalar type.
  public init<Other: TensorScalar>(_ other: Tensor<Other>) {
    self.init(validShape: other.shape) { buffer in
      other.withUnsafeBufferPointer { source in
        for index in source.indices { buffer[index] = Scalar(source[index]) }
      }
    }
  }

  /// The number of elements that `shape` describes, after checking that it is valid.
  static func elementCount(of shape: [Int]) throws -> Int {
    var count = 1
    for dimension in shape {
      guard dimension >= 0 else {
        throw BackpropError.invalidShape(shape: shape, detail: "dimension \(dimension) is negative")
      }
      let (product, overflow) = count.multipliedReportingOverflow(by: dimension)
      guard !overflow, product <= physicalMemoryBytes / MemoryLayout<Scalar>.stride else {
        throw BackpropError.invalidShape(
          shape: shape,
          detail:
            "the tensor would need more than the machine's \(physicalMemoryBytes >> 20) MiB of memory"
        )
      }
      count = product
    }
    return count
  }

  // MARK: Reading and writing

  /// The number of elements.
  @inlinable public var count: Int { storage.count }

  /// The number of dimensions.
  @inlinable public var rank: Int { shape.count }

  /// All elements in row-major order.
  public var scalars: [Scalar] {
    withUnsafeBufferPointer { Array($0) }
  }

  /// The only element of a one-element tensor (any rank), or `nil` when there are more or none.
  public var scalar: Scalar? {
    count == 1 ? storage.base[0] : nil
  }

  /// The element at a multi-dimensional index.
  ///
  /// - Throws: ``BackpropError/invalidArgument(name:detail:)`` when the index has the wrong number
  ///   of components or one of them is out of range.
  public func element(at index: [Int]) throws -> Scalar {
    guard index.count == rank else {
      throw BackpropError.invalidArgument(
        name: "index \(index)",
        detail: "a tensor of shape \(BackpropError.format(shape)) needs "
          + "\(rank) components")
    }
    var offset = 0
    for (axis, component) in index.enumerated() {
      guard (0..<shape[axis]).contains(component) else {
        throw BackpropError.invalidArgument(
          name: "index \(index)",
          detail: "component \(axis) is outside 0..<\(shape[axis]) for shape "
            + BackpropError.format(shape))
      }
      offset = offset * shape[axis] + component
    }
    return storage.base[offset]
  }

  /// Calls `body` with the elements in row-major order.
  @inlinable
  public func withUnsafeBufferPointer<Result>(
    _ body: (UnsafeBufferPointer<Scalar>) throws -> Result
  ) rethrows -> Result {
    try body(UnsafeBufferPointer(start: storage.base, count: storage.count))
  }

  /// Calls `body` with writable elements, first copying the buffer if another tensor shares it.
  @inlinable
  public mutating func withUnsafeMutableBufferPointer<Result>(
    _ body: (UnsafeMutableBufferPointer<Scalar>) throws -> Result
  ) rethrows -> Result {
    if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
    return try body(UnsafeMutableBufferPointer(start: storage.base, count: storage.count))
  }

  /// The same elements under another shape with the same element count.
  ///
  /// One dimension may be `-1`, meaning "whatever makes the count right".
  public func reshaped(to newShape: [Int]) throws -> Tensor {
    var resolved = newShape
    let wildcards = newShape.indices.filter { newShape[$0] == -1 }
    if wildcards.count > 1 {
      throw BackpropError.invalidShape(shape: newShape, detail: "only one dimension may be -1")
    }
    if let wildcard = wildcards.first {
      let known = newShape.enumerated().filter { $0.offset != wildcard }.map(\.element)
        .reduce(1, *)
      guard known > 0, count % known == 0 else {
        throw BackpropError.shapeMismatch(
          operation: "reshape", shapes: [shape, newShape],
          detail: "\(count) elements cannot be arranged that way")
      }
      resolved[wildcard] = count / known
    }
    guard try Self.elementCount(of: resolved) == count else {
      throw BackpropError.shapeMismatch(
        operation: "reshape", shapes: [shape, newShape],
        detail: "the element counts differ (\(count) and \(resolved.reduce(1, *)))")
    }
    return Tensor(shape: resolved, storage: storage)
  }

  /// The transpose of a matrix.
  public func transposed() throws -> Tensor {
    guard rank == 2 else {
      throw BackpropError.invalidShape(shape: shape, detail: "transposed() needs a matrix (rank 2)")
    }
    let (rows, columns) = (shape[0], shape[1])
    return withUnsafeBufferPointer { source in
      Tensor(validShape: [columns, rows]) { target in
        for row in 0..<rows {
          for column in 0..<columns { target[column * rows + row] = source[row * columns + column] }
        }
      }
    }
  }

  /// One-hot rows: row i is all zeros but for a one at column `classIndices[i]`.
  ///
  /// - Throws: ``BackpropError/invalidArgument(name:detail:)`` for an index outside
  ///   `0..<classCount`.
  public static func oneHot(classIndices: [Int], classCount: Int) throws -> Tensor {
    guard classCount > 0 else {
      throw BackpropError.invalidArgument(
        name: "class count", detail: "\(classCount) is not positive")
    }
    var result = try Tensor(zeros: [classIndices.count, classCount])
    try result.withUnsafeMutableBufferPointer { buffer in
      for (row, index) in classIndices.enumerated() {
        guard (0..<classCount).contains(index) else {
          throw BackpropError.invalidArgument(
            name: "class index \(index) in row \(row)",
            detail: "classes are numbered 0..<\(classCount)")
        }
        buffer[row * classCount + index] = 1
      }
    }
    return result
  }

  /// Whether every element is finite (neither NaN nor infinite).
  public var isFinite: Bool {
    withUnsafeBufferPointer { $0.allSatisfy(\.isFinite) }
  }

  /// Whether the shapes are equal and every pair of elements differs by at most
  /// `tolerance · max(1, |a|, |b|)`.
  public func isApproximatelyEqual(to other: Tensor, tolerance: Scalar) -> Bool {
    guard shape == other.shape else { return false }
    return withUnsafeBufferPointer { lhs in
      other.withUnsafeBufferPointer { rhs in
        zip(lhs, rhs).allSatisfy { a, b in
          Swift.abs(a - b) <= tolerance * Swift.max(1, Swift.abs(a), Swift.abs(b))
        }
      }
    }
  }
}

extension Tensor: Equatable {
  /// Tensors are equal when their shapes and all their elements are equal.
  public static func == (lhs: Tensor, rhs: Tensor) -> Bool {
    lhs.shape == rhs.shape
      && (lhs.storage === rhs.storage
        || lhs.withUnsafeBufferPointer { a in
          rhs.withUnsafeBufferPointer { b in a.elementsEqual(b) }
        })
  }
}
