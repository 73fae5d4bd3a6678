import CZlib
import Foundation

/// The arrays of a NumPy `.npz` file: a zip archive of `.npy` files, as `numpy.savez` (stored)
/// and `numpy.savez_compressed` (DEFLATE) write it, and as `keras.datasets` caches MNIST.
///
/// The archive's central directory is read (zip64 sizes and offsets included); each array is
/// read only when asked for, inflated by the system zlib to exactly the size the directory
/// states (at most ``maximumEntryBytes``) and checked against the directory's CRC-32.
public struct NPZArchive: Sendable, ReadableFile {
  /// The name of the archive's source (a file path), used in error messages.
  public let source: String
  /// The names of the arrays, in the archive's order, without `.npy`.
  public let names: [String]
  private let data: Data
  private let entries: [String: Entry]

  /// The largest array an archive may inflate to: 4 GiB, as for compressed IDX files.
  public static let maximumEntryBytes = 1 << 32

  /// Whether `data` starts as a zip archive does.
  public static func isArchive(_ data: Data) -> Bool {
    data.starts(with: [0x50, 0x4B, 0x03, 0x04])
  }

  private struct Entry: Sendable {
    let method: UInt16
    let crc: UInt32
    let compressedSize: Int
    let size: Int
    let localHeaderOffset: Int
  }

  /// Parses the bytes of an `.npz` file; `source` names it in errors.
  ///
  /// - Throws: ``BackpropError/malformedData(source:location:detail:)`` naming the problem: no
  ///   end-of-directory record, a directory that runs past the file, an entry of another
  ///   compression method, encryption, or names that are not `.npy` files.
  public init(data: Data, source: String) throws {
    let bytes = [UInt8](data)
    func fail(_ offset: Int, _ detail: String) -> BackpropError {
      .malformedData(source: source, location: "byte \(offset)", detail: "npz: \(detail)")
    }
    func integer(_ offset: Int, _ width: Int) throws -> Int {
      guard offset >= 0, offset + width <= bytes.count else {
        throw fail(offset, "a record runs past the end of the file (\(bytes.count) bytes)")
      }
      return (0..<width).reversed().reduce(0) { $0 << 8 | Int(bytes[offset + $1]) }
    }
    // The end-of-central-directory record: the last 22 bytes, or before a comment of < 64 KiB.
    let lowest = max(0, bytes.count - 22 - 0xFFFF)
    guard
      let end = stride(from: bytes.count - 22, through: lowest, by: -1).first(where: {
        bytes[$0] == 0x50 && bytes[$0 + 1] == 0x4B && bytes[$0 + 2] == 0x05 && bytes[$0 + 3] == 0x06
      })
    else {
      throw fail(bytes.count, "no end-of-directory record: the file is not a whole zip archive")
    }
    var count = try integer(end + 10, 2)
    var directoryOffset = try integer(end + 16, 4)
    if count == 0xFFFF || directoryOffset == 0xFFFF_FFFF {
      // zip64: a locator just before the record points to the zip64 end record.
      let locator = end - 20
      guard try integer(locator, 4) == 0x0706_4B50 else {
        throw fail(locator, "a zip64 archive without its zip64 locator")
      }
      let record = try integer(locator + 8, 8)
      guard try integer(record, 4) == 0x0606_4B50 else {
        throw fail(record, "the zip64 end-of-directory record is missing")
      }
      count = try integer(record + 32, 8)
      directoryOffset = try integer(record + 48, 8)
    }
    guard count <= bytes.count / 46 else {
      throw fail(end, "the directory claims \(count) entries, more than the file can hold")
    }
    var names: [String] = []
    var entries: [String: Entry] = [:]
    var offset = directoryOffset
    for _ in 0..<count {
      guard try integer(offset, 4) == 0x0201_4B50 else {
        throw fail(offset, "a directory entry is missing (bad signature)")
      }
      let flags = try integer(offset + 8, 2)
      let method = try integer(offset + 10, 2)
      var compressedSize = try integer(offset + 20, 4)
      var size = try integer(offset + 24, 4)
      let nameLength = try integer(offset + 28, 2)
      let extraLength = try integer(offset + 30, 2)
      let commentLength = try integer(offset + 32, 2)
      var localHeaderOffset = try integer(offset + 42, 4)
      let nameStart = offset + 46
      _ = try integer(nameStart + nameLength + extraLength + commentLength - 1, 1)
      let name = String(decoding: bytes[nameStart..<(nameStart + nameLength)], as: UTF8.self)
      // zip64: the extra field 0x0001 holds, in order, each 32-bit field that is all ones.
      var extra = nameStart + nameLength
      while extra + 4 <= nameStart + nameLength + extraLength {
        let (tag, length) = (try integer(extra, 2), try integer(extra + 2, 2))
        if tag == 1 {
          var field = extra + 4
          func widen(_ value: inout Int) throws {
            guard value == 0xFFFF_FFFF, field + 8 <= extra + 4 + length else { return }
            value = try integer(field, 8)
            field += 8
          }
          try widen(&size)
          try widen(&compressedSize)
          try widen(&localHeaderOffset)
        }
        extra += 4 + length
      }
      guard flags & 1 == 0 else { throw fail(offset, "the entry '\(name)' is encrypted") }
      guard method == 0 || method == 8 else {
        throw fail(offset, "the entry '\(name)' uses compression method \(method), not DEFLATE")
      }
      guard name.hasSuffix(".npy") else {
        throw fail(offset, "the entry '\(name)' is not a .npy array; this is not an .npz file")
      }
      let key = String(name.dropLast(4))
      names.append(key)
      entries[key] = Entry(
        method: UInt16(method), crc: UInt32(try integer(offset + 16, 4)),
        compressedSize: compressedSize, size: size, localHeaderOffset: localHeaderOffset)
      offset = nameStart + nameLength + extraLength + commentLength
    }
    self.source = source
    self.names = names
    self.data = data
    self.entries = entries
  }

  /// The array called `name` (without `.npy`), or nil when the archive has none.
  ///
  /// - Throws: ``BackpropError/malformedData(source:location:detail:)`` for an entry that runs
  ///   past the file, inflates to another size than stated or over ``maximumEntryBytes``, fails
  ///   its CRC-32, or is not a valid `.npy` file.
  public func array(named name: String) throws -> NumPyArray? {
    guard let entry = entries[name] else { return nil }
    let location = "\(source) (\(name).npy)"
    func fail(_ detail: String) -> BackpropError {
      .malformedData(source: source, location: "\(name).npy", detail: "npz: \(detail)")
    }
    let local = entry.localHeaderOffset
    guard local >= 0, local + 30 <= data.count,
      data[data.startIndex + local..<data.startIndex + local + 4].elementsEqual([
        0x50, 0x4B, 0x03, 0x04,
      ])
    else { throw fail("its local header at byte \(local) is missing") }
    func short(_ offset: Int) -> Int {
      Int(data[data.startIndex + offset]) | Int(data[data.startIndex + offset + 1]) << 8
    }
    let start = local + 30 + short(local + 26) + short(local + 28)
    guard entry.compressedSize >= 0, start + entry.compressedSize <= data.count else {
      throw fail("its \(entry.compressedSize) bytes run past the end of the file")
    }
    guard entry.size <= Self.maximumEntryBytes else {
      throw fail(
        "it would inflate to \(entry.size) bytes, more than the \(Self.maximumEntryBytes) allowed")
    }
    let stored = data.subdata(
      in: (data.startIndex + start)..<(data.startIndex + start + entry.compressedSize))
    let contents: Data
    if entry.method == 0 {
      guard stored.count == entry.size else {
        throw fail("it is stored as \(stored.count) bytes but the directory says \(entry.size)")
      }
      contents = stored
    } else {
      // DEFLATE expands at most 1032 to 1: a larger claim is refused before inflating.
      guard entry.size <= 1032 * entry.compressedSize + 64 else {
        throw fail(
          "it claims \(entry.size) bytes from \(entry.compressedSize) compressed, more than "
            + "DEFLATE can give")
      }
      let reader = try GzipReader(stored, source: location, raw: true)
      // In pieces, so that memory grows only as far as the data really inflate.
      var inflated = Data()
      var remaining = entry.size
      while remaining > 0 {
        let piece = min(remaining, 1 << 24)
        inflated += try reader.read(piece)
        remaining -= piece
      }
      contents = inflated
      guard try reader.isAtEnd() else {
        throw fail("it inflates to more than the \(entry.size) bytes the directory states")
      }
    }
    let crc = contents.withUnsafeBytes { buffer -> UInt32 in
      guard let base = buffer.baseAddress?.assumingMemoryBound(to: Bytef.self) else { return 0 }
      var crc: uLong = 0
      // In pieces that fit zlib's 32-bit lengths.
      for start in stride(from: 0, to: buffer.count, by: 1 << 30) {
        crc = crc32(crc, base + start, uInt(min(1 << 30, buffer.count - start)))
      }
      return UInt32(crc)
    }
    guard crc == entry.crc else { throw fail("the CRC-32 check failed (the data are corrupt)") }
    return try NumPyArray(data: contents, source: location)
  }
}
