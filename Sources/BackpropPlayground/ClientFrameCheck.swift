import NIOCore

/// Holds a WebSocket client to the rules RFC 6455 sets for the frames it sends (§5.1, §5.2):
/// every frame is masked, and no reserved bit is set (the playground negotiates no extension).
///
/// The check sits first in the connection's pipeline, on the bytes as they arrive, from the
/// moment the upgrade is accepted (a client may not send frames before it). The first
/// offending frame is answered with a close frame, status 1002 (protocol error), and the
/// connection is closed; nothing of it reaches the session.
final class ClientFrameCheck: ChannelInboundHandler, RemovableChannelHandler {
  typealias InboundIn = ByteBuffer
  typealias InboundOut = ByteBuffer
  typealias OutboundOut = ByteBuffer

  private var scanner = ClientFrameScanner()
  private var failed = false

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    guard !failed else { return }
    let bytes = unwrapInboundIn(data)
    let conforming = bytes.withUnsafeReadableBytes { scanner.scan($0) }
    guard conforming else {
      failed = true
      // A close frame from the server (unmasked): FIN + opcode 8, 2 bytes of payload, 1002.
      let close = context.channel.allocator.buffer(bytes: [0x88, 0x02, 0x03, 0xEA])
      context.writeAndFlush(wrapOutboundOut(close)).assumeIsolated().whenComplete { _ in
        context.close(promise: nil)
      }
      return
    }
    context.fireChannelRead(data)
  }
}

/// Follows the frames of a client's byte stream, however it is split into reads: it reads only
/// the frame headers and skips the payloads, so it keeps no more than one header (at most 14
/// bytes).
struct ClientFrameScanner {
  /// The bytes of the current frame's header read so far.
  private var header: [UInt8] = []
  /// The bytes of the current frame's payload still to come.
  private var payloadLeft: UInt64 = 0

  /// Reads the next bytes of the stream; false at the first frame that is unmasked or sets a
  /// reserved bit.
  mutating func scan(_ bytes: UnsafeRawBufferPointer) -> Bool {
    var offset = 0
    while offset < bytes.count {
      if payloadLeft > 0 {
        let skipped = Int(min(UInt64(bytes.count - offset), payloadLeft))
        offset += skipped
        payloadLeft -= UInt64(skipped)
        continue
      }
      header.append(bytes[offset])
      offset += 1
      if header.count == 2, header[0] & 0x70 != 0 || header[1] & 0x80 == 0 { return false }
      if let length = Self.payloadLength(ofHeader: header) {
        payloadLeft = length
        header.removeAll(keepingCapacity: true)
      }
    }
    return true
  }

  /// The payload length a complete header announces, or nil while the header is incomplete:
  /// 2 bytes, then 2 or 8 bytes of extended length when the 7-bit length is 126 or 127, then the
  /// 4-byte mask.
  static func payloadLength(ofHeader header: [UInt8]) -> UInt64? {
    guard header.count >= 2 else { return nil }
    let short = header[1] & 0x7f
    let extended = short == 126 ? 2 : short == 127 ? 8 : 0
    guard header.count == 2 + extended + 4 else { return nil }
    guard extended > 0 else { return UInt64(short) }
    return header[2..<(2 + extended)].reduce(0) { $0 << 8 | UInt64($1) }
  }
}
