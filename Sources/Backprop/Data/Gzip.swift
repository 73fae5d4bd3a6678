import Foundation

/// Decompression of gzip files (RFC 1952) holding DEFLATE data (RFC 1951), so that the core can
/// read `train-images-idx3-ubyte.gz` without linking zlib.
///
/// The decoder follows the structure of zlib's reference decoder `puff.c`: canonical Huffman
/// codes decoded bit by bit, which is ample for data-set files read once. Every member of a
/// multi-member file is decoded, and each one's CRC-32 and length are checked.
enum Gzip {
  /// Whether `data` starts with the gzip magic bytes.
  static func isCompressed(_ data: Data) -> Bool {
    data.count >= 2 && data[data.startIndex] == 0x1f && data[data.startIndex + 1] == 0x8b
  }

  /// The decompressed bytes of a gzip file.
  ///
  /// - Throws: ``BackpropError/malformedData(source:location:detail:)`` naming the byte offset
  ///   of a bad header, corrupt compressed data, a checksum mismatch or a truncated file.
  static func decompress(_ data: Data, source: String) throws -> Data {
    let bytes = [UInt8](data)
    var output: [UInt8] = []
    var offset = 0
    repeat {
      offset = try decompressMember(bytes, from: offset, into: &output, source: source)
      // Some writers pad with zeros after the last member.
      while offset < bytes.count, bytes[offset] == 0 { offset += 1 }
    } while offset < bytes.count
    return Data(output)
  }

  private static func decompressMember(
    _ bytes: [UInt8], from start: Int, into output: inout [UInt8], source: String
  ) throws -> Int {
    func fail(_ offset: Int, _ detail: String) -> BackpropError {
      .malformedData(source: source, location: "byte \(offset)", detail: "gzip: \(detail)")
    }
    guard bytes.count - start >= 18 else { throw fail(start, "the file is truncated") }
    guard bytes[start] == 0x1f, bytes[start + 1] == 0x8b else {
      throw fail(start, "not a gzip member (bad magic bytes)")
    }
    guard bytes[start + 2] == 8 else {
      throw fail(start + 2, "compression method \(bytes[start + 2]) is not DEFLATE")
    }
    let flags = bytes[start + 3]
    var offset = start + 10
    func skipZeroTerminated() throws {
      guard let end = bytes[offset...].firstIndex(of: 0) else {
        throw fail(offset, "the header is truncated")
      }
      offset = end + 1
    }
    if flags & 0x04 != 0 {
      guard offset + 2 <= bytes.count else { throw fail(offset, "the header is truncated") }
      offset += 2 + Int(bytes[offset]) + Int(bytes[offset + 1]) << 8
    }
    if flags & 0x08 != 0 { try skipZeroTerminated() }
    if flags & 0x10 != 0 { try skipZeroTerminated() }
    if flags & 0x02 != 0 { offset += 2 }
    guard offset < bytes.count else { throw fail(offset, "the header is truncated") }

    let memberStart = output.count
    var inflater = Inflater(bytes: bytes, offset: offset)
    do {
      try inflater.inflate(into: &output)
    } catch let error as Inflater.Failure {
      throw fail(error.offset, error.detail)
    }
    offset = inflater.alignedOffset
    guard offset + 8 <= bytes.count else { throw fail(offset, "the file is truncated") }
    let storedCRC = littleEndianUInt32(bytes, at: offset)
    let storedLength = littleEndianUInt32(bytes, at: offset + 4)
    let member = output[memberStart...]
    guard CRC32.checksum(member) == storedCRC else {
      throw fail(offset, "the CRC-32 check failed (the data are corrupt)")
    }
    guard UInt32(truncatingIfNeeded: member.count) == storedLength else {
      throw fail(offset + 4, "the stored length disagrees with the data")
    }
    return offset + 8
  }

  private static func littleEndianUInt32(_ bytes: [UInt8], at offset: Int) -> UInt32 {
    (0..<4).reduce(0) { $0 | UInt32(bytes[offset + $1]) << (8 * $1) }
  }
}

/// CRC-32 (ISO-HDLC, as in gzip and zip).
enum CRC32 {
  private static let table: [UInt32] = (0..<256).map { index in
    (0..<8).reduce(UInt32(index)) { crc, _ in crc & 1 != 0 ? 0xEDB8_8320 ^ (crc >> 1) : crc >> 1 }
  }

  /// The checksum of `bytes`.
  static func checksum(_ bytes: some Sequence<UInt8>) -> UInt32 {
    ~bytes.reduce(~UInt32(0)) { crc, byte in table[Int((crc ^ UInt32(byte)) & 0xff)] ^ (crc >> 8) }
  }
}

/// A DEFLATE decoder over a byte array.
private struct Inflater {
  struct Failure: Error {
    let offset: Int
    let detail: String
  }

  /// Canonical Huffman code: the number of codes of each length and the symbols in code order.
  struct Huffman {
    var counts = [Int](repeating: 0, count: 16)
    var symbols: [Int]

    init(lengths: ArraySlice<Int>) throws {
      symbols = [Int](repeating: 0, count: lengths.count)
      for length in lengths { counts[length] += 1 }
      var left = 1
      for length in 1..<16 {
        left = left * 2 - counts[length]
        guard left >= 0 else { throw Failure(offset: 0, detail: "an over-subscribed Huffman code") }
      }
      var offsets = [Int](repeating: 0, count: 16)
      for length in 1..<15 { offsets[length + 1] = offsets[length] + counts[length] }
      for (symbol, length) in lengths.enumerated() where length != 0 {
        symbols[offsets[length]] = symbol
        offsets[length] += 1
      }
    }
  }

  private let bytes: [UInt8]
  private var offset: Int
  private var bitBuffer = 0
  private var bitCount = 0

  init(bytes: [UInt8], offset: Int) {
    self.bytes = bytes
    self.offset = offset
  }

  /// The offset of the first whole byte after the data read so far.
  var alignedOffset: Int { offset }

  private static let lengthBase = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131,
    163, 195, 227, 258,
  ]
  private static let lengthExtra = [
    0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0,
  ]
  private static let distanceBase = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537,
    2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
  ]
  private static let distanceExtra = [
    0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13,
    13,
  ]
  private static let codeLengthOrder = [
    16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15,
  ]

  private static let fixedCodes: (Huffman, Huffman)? = {
    var lengths = [Int](repeating: 8, count: 288)
    for symbol in 144..<256 { lengths[symbol] = 9 }
    for symbol in 256..<280 { lengths[symbol] = 7 }
    let distances = [Int](repeating: 5, count: 30)
    guard let literal = try? Huffman(lengths: lengths[...]),
      let distance = try? Huffman(lengths: distances[...])
    else { return nil }
    return (literal, distance)
  }()

  private mutating func bits(_ count: Int) throws -> Int {
    while bitCount < count {
      guard offset < bytes.count else {
        throw Failure(offset: offset, detail: "the compressed data end early (truncated file)")
      }
      bitBuffer |= Int(bytes[offset]) << bitCount
      offset += 1
      bitCount += 8
    }
    let value = bitBuffer & ((1 << count) - 1)
    bitBuffer >>= count
    bitCount -= count
    return value
  }

  private mutating func decode(_ code: Huffman) throws -> Int {
    var (value, first, index) = (0, 0, 0)
    for length in 1..<16 {
      value |= try bits(1)
      let count = code.counts[length]
      if value - count < first { return code.symbols[index + (value - first)] }
      index += count
      first = (first + count) << 1
      value <<= 1
    }
    throw Failure(offset: offset, detail: "an invalid Huffman code")
  }

  mutating func inflate(into output: inout [UInt8]) throws {
    var isLast = false
    while !isLast {
      isLast = try bits(1) == 1
      switch try bits(2) {
      case 0: try storedBlock(into: &output)
      case 1:
        guard let (literal, distance) = Self.fixedCodes else {
          throw Failure(offset: offset, detail: "internal error building the fixed codes")
        }
        try codesBlock(literal: literal, distance: distance, into: &output)
      case 2:
        let (literal, distance) = try dynamicCodes()
        try codesBlock(literal: literal, distance: distance, into: &output)
      default: throw Failure(offset: offset, detail: "an invalid block type 3")
      }
    }
    bitBuffer = 0
    bitCount = 0
  }

  private mutating func storedBlock(into output: inout [UInt8]) throws {
    bitBuffer = 0
    bitCount = 0
    guard offset + 4 <= bytes.count else {
      throw Failure(offset: offset, detail: "the compressed data end early (truncated file)")
    }
    let length = Int(bytes[offset]) | Int(bytes[offset + 1]) << 8
    let complement = Int(bytes[offset + 2]) | Int(bytes[offset + 3]) << 8
    guard length == ~complement & 0xffff else {
      throw Failure(offset: offset, detail: "a stored block's length check failed")
    }
    offset += 4
    guard offset + length <= bytes.count else {
      throw Failure(offset: offset, detail: "the compressed data end early (truncated file)")
    }
    output.append(contentsOf: bytes[offset..<(offset + length)])
    offset += length
  }

  private mutating func codesBlock(
    literal: Huffman, distance: Huffman, into output: inout [UInt8]
  ) throws {
    while true {
      let symbol = try decode(literal)
      if symbol < 256 {
        output.append(UInt8(symbol))
      } else if symbol == 256 {
        return
      } else {
        let lengthIndex = symbol - 257
        guard lengthIndex < 29 else {
          throw Failure(offset: offset, detail: "an invalid length symbol")
        }
        let length = Self.lengthBase[lengthIndex] + (try bits(Self.lengthExtra[lengthIndex]))
        let distanceIndex = try decode(distance)
        guard distanceIndex < 30 else {
          throw Failure(offset: offset, detail: "an invalid distance symbol")
        }
        let back =
          Self.distanceBase[distanceIndex] + (try bits(Self.distanceExtra[distanceIndex]))
        guard back <= output.count else {
          throw Failure(offset: offset, detail: "a distance reaches before the start of the data")
        }
        let start = output.count - back
        for index in 0..<length { output.append(output[start + index]) }
      }
    }
  }

  private mutating func dynamicCodes() throws -> (Huffman, Huffman) {
    let literalCount = try bits(5) + 257
    let distanceCount = try bits(5) + 1
    let codeLengthCount = try bits(4) + 4
    guard literalCount <= 286, distanceCount <= 30 else {
      throw Failure(offset: offset, detail: "too many length or distance codes")
    }
    var lengths = [Int](repeating: 0, count: 320)
    for index in 0..<codeLengthCount {
      lengths[Self.codeLengthOrder[index]] = try bits(3)
    }
    let lengthCode = try Huffman(lengths: lengths[0..<19])
    var index = 0
    while index < literalCount + distanceCount {
      let symbol = try decode(lengthCode)
      if symbol < 16 {
        lengths[index] = symbol
        index += 1
        continue
      }
      var repeated = 0
      var times: Int
      switch symbol {
      case 16:
        guard index > 0 else {
          throw Failure(offset: offset, detail: "a repeated length with no previous length")
        }
        repeated = lengths[index - 1]
        times = 3 + (try bits(2))
      case 17: times = 3 + (try bits(3))
      default: times = 11 + (try bits(7))
      }
      guard index + times <= literalCount + distanceCount else {
        throw Failure(offset: offset, detail: "too many code lengths")
      }
      for _ in 0..<times {
        lengths[index] = repeated
        index += 1
      }
    }
    guard lengths[256] != 0 else {
      throw Failure(offset: offset, detail: "the block has no end-of-block code")
    }
    return (
      try Huffman(lengths: lengths[0..<literalCount]),
      try Huffman(lengths: lengths[literalCount..<(literalCount + distanceCount)])
    )
  }
}
