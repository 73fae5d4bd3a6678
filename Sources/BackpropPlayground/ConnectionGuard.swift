import HummingbirdCore
import Logging
import NIOCore
import NIOHTTP1

/// A connection's setup by `inner`, with one handler more at the end of its pipeline: a request
/// that HTTP's parser refuses (a request line and headers over the size limit, or malformed)
/// closes its connection. Without it, a refused first request (before the WebSocket upgrade
/// handler has decided) would leave the connection open and unanswered.
struct ConnectionGuard<Inner: ServerChildChannel>: ServerChildChannel {
  let inner: Inner

  func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Inner.Value> {
    inner.setup(channel: channel, logger: logger).flatMapThrowing { value in
      try channel.pipeline.syncOperations.addHandler(CloseOnError())
      return value
    }
  }

  func handle(value: Inner.Value, logger: Logger) async {
    await inner.handle(value: value, logger: logger)
  }
}

/// Closes the connection when HTTP's parser refuses what it reads; other errors pass on (a
/// refused WebSocket upgrade is answered by the upgrade handler).
final class CloseOnError: ChannelInboundHandler, RemovableChannelHandler {
  typealias InboundIn = NIOAny

  func errorCaught(context: ChannelHandlerContext, error: any Error) {
    if error is HTTPParserError {
      context.close(promise: nil)
    } else {
      context.fireErrorCaught(error)
    }
  }
}
