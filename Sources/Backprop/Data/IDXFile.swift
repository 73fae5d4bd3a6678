import Foundation

/// A numeric array in the IDX format of the MNIST files, plain or gzip-compressed.
///
/// The format: two zero bytes, a type byte (0x08 unsigned byte, 0x09 signed byte, 0x0B int16,
/// 0x0C int32, 0x0D float32, 0x0E float64), the number of dimensions, each dimension as a
/// big-endian UInt32, then the values in row-major order, big-endian.
public struct IDXFile: Sendable, Equatable {
  /// The dimensions from the header.
  public let shape: [Int]
  /// The values in row-major order.
  public let values: [Double]

  private static let elementSizes: [UInt8: (name: String, size: Int)] = [
    0x08: ("unsigned byte", 1), 0x09: ("signed byte", 1), 0x0B: ("int16", 2),
    0x0C: ("int32", 4), 0x0D: ("float32", 4), 0x0E: ("float64", 8),
  ]

  /// The most bytes a gzip-compressed IDX file may inflate to (4 GiB): a header announcing more
  /// is refused before anything is inflated.
  public static let maximumDecompressedBytes = 1 << 32

  /// Whether the file at `url` is IDX, whatever its name: gzip holding an IDX magic number, or
  /// an IDX header whose dimensions account for the file's size exactly. It reads the first
  /// 64 KiB at most.
  public static func recognizes(contentsOf url: URL) -> Bool {
    guard let handle = try? FileHandle(forReadingFrom: url) else { return false }
    defer { try? handle.close() }
    guard let prefix = try? handle.read(upToCount: 1 << 16), prefix.count >= 4 else {
      return false
    }
    if GzipReader.isCompressed(prefix) {
      guard let magic = try? GzipReader(prefix, source: url.path).read(4) else { return false }
      return magic.starts(with: [0, 0]) && elementSizes[magic[magic.startIndex + 2]] != nil
        && (1...4).contains(magic[magic.startIndex + 3])
    }
    guard let header = try? Self.header([UInt8](prefix.prefix(36)), source: url.path),
      let payload = header.payloadBytes,
      let size = (try? FileManager.default.attributesOfItem(atPath: url.path))?[.size] as? Int
    else { return false }
    return header.size + payload == size
  }

  /// Whether the gzip file at `url` gives its first 4 bytes when inflated (false for a damaged
  /// gzip header or stream, which ``init(contentsOf:)`` then describes).
  public static func inflatesAtAll(contentsOf url: URL) -> Bool {
    guard let handle = try? FileHandle(forReadingFrom: url),
      let prefix = try? handle.read(upToCount: 1 << 16)
    else { return false }
    try? handle.close()
    return (try? GzipReader(prefix, source: url.path).read(4)) != nil
  }

  /// Reads an IDX file, decompressing it first when it starts with the gzip magic bytes.
  ///
  /// A compressed file is inflated only as far as its header says (and at most
  /// ``maximumDecompressedBytes``): one that holds more is refused after one more byte.
  ///
  /// - Throws: ``BackpropError/malformedData(source:location:detail:)`` naming the byte offset
  ///   and the problem: an unreadable file, a bad magic number, an unknown type, corrupt or
  ///   truncated gzip data, or a header whose dimensions disagree with the file's size.
  public init(contentsOf url: URL) throws {
    let source = url.path
    let raw = try FileData.read(url)
    guard GzipReader.isCompressed(raw) else {
      try self.init(data: raw, source: source)
      return
    }
    let reader = try GzipReader(raw, source: source)
    var bytes = try reader.read(4)
    bytes += try reader.read(4 * Int(bytes[bytes.startIndex + 3]))
    let header = try Self.header([UInt8](bytes), source: source)
    guard let payload = header.payloadBytes,
      header.size + payload <= Self.maximumDecompressedBytes
    else {
      throw header.fail(
        header.size,
        "the header says \(header.dimensions) \(header.element.name) values, more than the "
          + "\(Self.maximumDecompressedBytes) bytes a compressed IDX file may inflate to")
    }
    // In pieces, so that memory grows only as far as the data really inflate.
    var remaining = payload
    while remaining > 0 {
      let piece = min(remaining, 1 << 24)
      bytes += try reader.read(piece)
      remaining -= piece
    }
    guard try reader.isAtEnd() else {
      throw header.fail(
        header.size + payload,
        "the compressed data hold more than the \(payload) bytes that the header's "
          + "\(header.dimensions) \(header.element.name) values take")
    }
    try self.init(data: bytes, source: source)
  }

  /// An IDX header: the element type, the dimensions and the bytes they announce.
  private struct Header {
    let element: (name: String, size: Int)
    let shape: [Int]
    /// The header's own bytes.
    let size: Int
    /// The bytes of the values the shape announces; nil when that overflows.
    let payloadBytes: Int?
    let source: String

    var dimensions: String { shape.map(String.init).joined(separator: "×") }

    func fail(_ offset: Int, _ detail: String) -> BackpropError {
      IDXFile.failure(source, offset, detail)
    }
  }

  /// The error for a problem at byte `offset` of the IDX file `source`.
  private static func failure(_ source: String, _ offset: Int, _ detail: String) -> BackpropError {
    .malformedData(source: source, location: "byte \(offset)", detail: "IDX: \(detail)")
  }

  /// The header at the start of `bytes`, checked: two zero bytes, a known type, at least one
  /// dimension, and all of its dimensions present.
  private static func header(_ bytes: [UInt8], source: String) throws -> Header {
    func fail(_ offset: Int, _ detail: String) -> BackpropError { failure(source, offset, detail) }
    guard bytes.count >= 4 else {
      throw fail(0, "the file has \(bytes.count) bytes, too few for the 4-byte magic number")
    }
    guard bytes[0] == 0, bytes[1] == 0 else {
      throw fail(0, "the magic number must start with two zero bytes (is this an IDX file?)")
    }
    guard let element = Self.elementSizes[bytes[2]] else {
      throw fail(2, String(format: "unknown element type 0x%02X", bytes[2]))
    }
    let rank = Int(bytes[3])
    let headerSize = 4 + 4 * rank
    guard rank > 0, bytes.count >= headerSize else {
      throw fail(
        3,
        "the header announces \(rank) dimensions (\(headerSize) bytes) but the file has \(bytes.count) bytes"
      )
    }
    let shape = (0..<rank).map { dimension in
      (0..<4).reduce(0) { $0 << 8 | Int(bytes[4 + 4 * dimension + $1]) }
    }
    return Header(
      element: element, shape: shape, size: headerSize,
      payloadBytes: byteCount(shape: shape, elementSize: element.size), source: source)
  }

  /// Parses the bytes of an (uncompressed) IDX file; `source` names it in errors.
  public init(data: Data, source: String) throws {
    let bytes = [UInt8](data)
    let header = try Self.header(bytes, source: source)
    let (element, shape, headerSize) = (header.element, header.shape, header.size)
    guard let expected = header.payloadBytes, headerSize + expected == bytes.count else {
      throw header.fail(
        headerSize,
        "the header says \(header.dimensions) \(element.name) values "
          + "(\(header.payloadBytes.map(String.init) ?? "too many") bytes) after the "
          + "\(headerSize)-byte header, but the file holds \(bytes.count - headerSize) bytes there")
    }
    let count = expected / element.size
    self.shape = shape
    self.values = (0..<count).map { index in
      let start = headerSize + index * element.size
      let word = (0..<element.size).reduce(UInt64(0)) { $0 << 8 | UInt64(bytes[start + $1]) }
      switch bytes[2] {
      case 0x08: return Double(word)
      case 0x09: return Double(Int8(truncatingIfNeeded: word))
      case 0x0B: return Double(Int16(truncatingIfNeeded: word))
      case 0x0C: return Double(Int32(truncatingIfNeeded: word))
      case 0x0D: return Double(Float(bitPattern: UInt32(truncatingIfNeeded: word)))
      default: return Double(bitPattern: word)
      }
    }
  }

  /// The values as a tensor of the file's shape.
  public func tensor<Scalar: TensorScalar>(as type: Scalar.Type = Scalar.self) throws
    -> Tensor<Scalar>
  {
    try Tensor(shape: shape, scalars: values.map { Scalar($0) })
  }
}

extension DataSet {
  /// A classification data set from an IDX images file (`[count, rows, columns]` or any rank,
  /// flattened to one feature per pixel) and an IDX labels file (`[count]`), such as MNIST's.
  ///
  /// The class names are the distinct labels in numeric order; the pixel values are kept as they
  /// are (0–255 for MNIST), so scale them with ``FeatureScaling``.
  ///
  /// - Throws: ``BackpropError/malformedData(source:location:detail:)`` from either file, or
  ///   when the two disagree on the number of samples.
  public init(idxImages imagesURL: URL, labels labelsURL: URL) throws {
    let images = try IDXFile(contentsOf: imagesURL)
    let labels = try IDXFile(contentsOf: labelsURL)
    let count = images.shape[0]
    guard labels.shape == [count] else {
      throw BackpropError.malformedData(
        source: labelsURL.path, location: nil,
        detail:
          "the labels have shape \(labels.shape) but the images file holds \(count) samples")
    }
    let width = images.values.count / max(count, 1)
    try self.init(
      features: Tensor(shape: [count, width], scalars: images.values.map { Scalar($0) }),
      numericLabels: labels.values, featureNames: (0..<width).map { "pixel\($0)" })
  }

  /// A classification data set whose classes are the distinct numbers among `numericLabels`,
  /// named as integers where they are whole ("7", not "7.0") and in numeric order.
  ///
  /// - Throws: ``BackpropError/invalidArgument(name:detail:)`` naming the first sample whose
  ///   label is NaN or infinite (no class is named "nan").
  init(features: Tensor<Scalar>, numericLabels: [Double], featureNames: [String]? = nil) throws {
    if let sample = numericLabels.firstIndex(where: { !$0.isFinite }) {
      throw BackpropError.invalidArgument(
        name: "label of sample \(sample)", detail: "\(numericLabels[sample]) is not a class")
    }
    func name(_ value: Double) -> String {
      value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }
    let names = ClassNames.sorted(Set(numericLabels.map(name)))
    let index = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) })
    try self.init(
      features: features, labels: numericLabels.map { index[name($0)] ?? 0 }, classNames: names,
      featureNames: featureNames)
  }
}
