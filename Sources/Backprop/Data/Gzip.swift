import CZlib
import Foundation

/// The decompressed bytes of a gzip file (RFC 1952), inflated by the system zlib as a reader
/// asks for them: a reader that knows how many bytes it needs (an IDX header says) takes those
/// and checks that nothing follows, so a file that inflates to far more than it claims (a
/// decompression bomb) is stopped there, before anything more is allocated.
///
/// Every member of a multi-member file is decoded in turn (zeros padding the end are skipped),
/// and zlib checks each one's CRC-32 and length. With `raw`, the data are one bare DEFLATE
/// stream, as a zip archive stores an entry (its directory holds the checks).
final class GzipReader {
  private let compressed: Data
  private let source: String
  /// zlib's stream, at a fixed address: zlib's state points back to it.
  private let stream: UnsafeMutablePointer<z_stream>
  /// Compressed bytes consumed so far (the offset that errors name).
  private var consumed = 0
  /// Decompressed bytes handed out so far.
  private var delivered = 0
  /// Whether the current member has ended (the next byte starts another, or padding).
  private var memberEnded = false
  /// Whether the data are one raw DEFLATE stream, which ends at its end.
  private let raw: Bool

  /// Whether `data` starts with the gzip magic bytes.
  static func isCompressed(_ data: Data) -> Bool {
    data.count >= 2 && data[data.startIndex] == 0x1f && data[data.startIndex + 1] == 0x8b
  }

  /// Starts reading the gzip file `data`; `source` names it in errors.
  ///
  /// - Throws: ``BackpropError/malformedData(source:location:detail:)`` if zlib cannot start.
  init(_ data: Data, source: String, raw: Bool = false) throws {
    compressed = data
    self.source = source
    self.raw = raw
    stream = .allocate(capacity: 1)
    stream.initialize(to: z_stream())
    guard (raw ? bp_inflate_init_raw(stream) : bp_inflate_init_gzip(stream)) == Z_OK else {
      stream.deallocate()
      throw BackpropError.malformedData(
        source: source, location: nil, detail: "gzip: zlib could not start (out of memory)")
    }
  }

  deinit {
    inflateEnd(stream)
    stream.deallocate()
  }

  /// The next `count` decompressed bytes.
  ///
  /// - Throws: ``BackpropError/malformedData(source:location:detail:)`` naming the byte offset
  ///   in the compressed file: corrupt data, a CRC-32 or length mismatch, a truncated file, or
  ///   data that end before `count` more bytes.
  func read(_ count: Int) throws -> Data {
    var output = Data(count: count)
    let produced = try output.withUnsafeMutableBytes { try inflate(into: $0) }
    guard produced == count else {
      throw fail(
        "the decompressed data end after \(delivered) bytes (\(count - produced) more were "
          + "expected)")
    }
    return output
  }

  /// Whether the decompressed data have ended: inflates at most one more byte.
  func isAtEnd() throws -> Bool {
    var byte: UInt8 = 0
    return try withUnsafeMutableBytes(of: &byte) { try inflate(into: $0) } == 0
  }

  private func fail(_ detail: String) -> BackpropError {
    .malformedData(
      source: source, location: "byte \(consumed)", detail: "\(raw ? "deflate" : "gzip"): \(detail)"
    )
  }

  /// Inflates into `buffer` until it is full or the data end; returns the bytes written.
  private func inflate(into buffer: UnsafeMutableRawBufferPointer) throws -> Int {
    guard let out = buffer.baseAddress?.assumingMemoryBound(to: Bytef.self) else { return 0 }
    var produced = 0
    try compressed.withUnsafeBytes { (input: UnsafeRawBufferPointer) in
      guard let base = input.baseAddress?.assumingMemoryBound(to: Bytef.self) else { return }
      while produced < buffer.count {
        if memberEnded {
          if raw { return }
          // Some writers pad with zeros after the last member; anything else starts another.
          while consumed < input.count, base[consumed] == 0 { consumed += 1 }
          if consumed == input.count { return }
          inflateReset(stream)
          memberEnded = false
        }
        let available = min(input.count - consumed, Int(UInt32.max))
        let room = min(buffer.count - produced, Int(UInt32.max))
        stream.pointee.next_in = UnsafeMutablePointer(mutating: base + consumed)
        stream.pointee.avail_in = UInt32(available)
        stream.pointee.next_out = out + produced
        stream.pointee.avail_out = UInt32(room)
        let status = CZlib.inflate(stream, Z_NO_FLUSH)
        consumed += available - Int(stream.pointee.avail_in)
        produced += room - Int(stream.pointee.avail_out)
        switch status {
        case Z_OK: continue
        case Z_STREAM_END: memberEnded = true
        case Z_BUF_ERROR:
          // No progress was possible: the input ran out inside a member.
          throw fail("the file is truncated (its compressed data end inside a member)")
        default:
          let message = stream.pointee.msg.map { String(cString: $0) } ?? "error \(status)"
          throw fail(Self.explain(message))
        }
      }
    }
    delivered += produced
    return produced
  }

  /// zlib's message for a corrupt stream, in the words of the format.
  private static func explain(_ message: String) -> String {
    switch message {
    case "incorrect data check": "the CRC-32 check failed (the data are corrupt)"
    case "incorrect length check": "the stored length disagrees with the data"
    case "incorrect header check": "not a gzip member (bad magic bytes)"
    case "unknown compression method": "the compression method is not DEFLATE"
    default: "corrupt compressed data (\(message))"
    }
  }
}
