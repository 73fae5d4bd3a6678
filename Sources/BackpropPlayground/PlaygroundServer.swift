import Backprop
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdCore
import HummingbirdWebSocket
import Logging
import NIOCore

/// The web playground: a page that trains a real Backprop network in this process and shows
/// every number of it, served on loopback by default.
///
/// Routes (``PlaygroundRoutes`` answers them):
/// - `GET /`: the page.
/// - `GET /api/settings?QUERY[&dialect=tensorflow]`: the settings a query names, in canonical
///   form with notices, or 400 with the reason.
/// - `GET /api/session?QUERY` (WebSocket): opens a session (see ``PlaygroundSocket``).
/// - `POST /api/session/ID/upload?name=FILE`: a CSV file (at most
///   ``PlaygroundLimits/uploadBytes``, else 413) becomes the session's data.
/// - `GET /api/session/ID/model`: the trained model, a file `backprop predict` reads.
///
/// It runs on Hummingbird (SwiftNIO's HTTP/1.1 parser) and hummingbird-websocket. What a client
/// may send is bounded: the request line and headers together (``PlaygroundLimits/headerBytes``,
/// else the connection is closed), a body (the upload limit), a WebSocket message (64 KiB), and
/// commands per second (``PlaygroundLimits/commandsPerSecond``). Every request must name this
/// server in its Host header (see ``PlaygroundRoutes/checkHost(_:)``), and a WebSocket from a
/// page must come from this server's origin. Errors are plain-text sentences with a 4xx or 5xx
/// status.
public struct PlaygroundServer: Sendable {
  /// The address to listen on: an IPv4 or IPv6 literal, or `localhost`.
  public let host: String
  /// The port; 0 picks a free one.
  public let port: UInt16
  /// The caps on sessions, sizes and speed.
  public let limits: PlaygroundLimits
  let sessions: PlaygroundSessions

  /// Creates a server; nothing listens until ``run(whenListening:)``.
  public init(host: String = "127.0.0.1", port: UInt16 = 0, limits: PlaygroundLimits = .init()) {
    self.host = host
    self.port = port
    self.limits = limits
    sessions = PlaygroundSessions(limits: limits)
  }

  /// Whether `host` is a loopback address, reachable from this machine only.
  public var isLoopback: Bool {
    host == "localhost" || host == "::1" || host.hasPrefix("127.")
  }

  /// The routes, for the server and for tests.
  var routes: PlaygroundRoutes { PlaygroundRoutes(sessions: sessions, limits: limits, host: host) }

  /// Listens until the task is cancelled; `whenListening` gets the page's URL once connections
  /// are accepted.
  ///
  /// - Throws: ``PlaygroundError`` for a host that is not an address; socket errors, such as a
  ///   port in use.
  public func run(whenListening: @escaping @Sendable (URL) -> Void) async throws {
    let name = host == "localhost" ? "127.0.0.1" : host
    guard (try? SocketAddress(ipAddress: name, port: 0)) != nil else {
      throw PlaygroundError("--host must be an IPv4 or IPv6 address or localhost (got '\(host)')")
    }
    let routes = routes
    let limits = limits
    let responder = CallbackResponder<BasicRequestContext> { request, _ in
      do {
        let read = try await PlaygroundRequest(request, bodyLimit: limits.uploadBytes)
        return await routes.respond(to: read).hummingbirdResponse
      } catch let error as PlaygroundError {
        return PlaygroundRoutes.refusal(error).hummingbirdResponse
      }
    }
    let decoder = HTTP1Channel.Configuration.DecoderConfiguration(
      maxHeaderFieldSize: limits.headerBytes, maxHeaderListSize: limits.headerBytes,
      maxHeaderFieldCount: 100)
    let configuration = HTTP1WebSocketUpgradeChannel.Configuration(
      http1: .init(idleTimeout: .seconds(60), httpDecoderConfiguration: decoder),
      ws: .init(maxFrameSize: PlaygroundLimits.messageBytes, autoPing: .disabled))
    let server = HTTPServerBuilder { responder in
      ConnectionGuard(
        inner: HTTP1WebSocketUpgradeChannel(responder: responder, configuration: configuration) {
          head, channel, _ in
          guard let session = await routes.openSession(for: PlaygroundRequest(upgrade: head)) else {
            return .dontUpgrade
          }
          try await channel.eventLoop.submit {
            try channel.pipeline.syncOperations.addHandler(ClientFrameCheck(), position: .first)
            // A page that stops reading then holds its session after a frame or two, not after
            // the megabytes the kernel would otherwise buffer for it.
            try channel.syncOptions?.setOption(
              ChannelOptions.socketOption(.so_sndbuf), value: PlaygroundLimits.socketBufferBytes)
          }.get()
          return .upgrade([:]) { inbound, outbound, _ in
            let messages = inbound.messages(maxSize: PlaygroundLimits.messageBytes).map {
              message -> PlaygroundSocket.Message in
              if case .text(let text) = message { return .text(text) }
              return .binary
            }
            await PlaygroundSocket(session: session, sessions: routes.sessions).run(messages) {
              try await outbound.write(.text($0))
            }
          }
        })
    }
    // Its log would only repeat what reaches the page, or report pages that went away.
    let quiet = Logger(label: "backprop-playground") { _ in SwiftLogNoOpLogHandler() }
    let application = Application(
      responder: responder, server: server,
      configuration: .init(address: .hostname(name, port: Int(port))),
      onServerRunning: { channel in
        let bound = channel.localAddress?.port ?? Int(port)
        let shown = name.contains(":") ? "[\(name)]" : name
        if let url = URL(string: "http://\(shown):\(bound)/") { whenListening(url) }
      }, logger: quiet)
    try await application.run()
  }
}

extension PlaygroundRequest {
  /// The request Hummingbird read, with its body when it has one (a POST), refused with 413
  /// above `bodyLimit` bytes before more is read.
  init(_ request: Request, bodyLimit: Int) async throws {
    var body = Data()
    if request.method == .post {
      let tooLarge = PlaygroundError(
        status: 413, "the file is larger than the playground's limit of \(bodyLimit) bytes")
      if let length = request.headers[.contentLength].flatMap(Int.init), length > bodyLimit {
        throw tooLarge
      }
      do {
        body = Data(buffer: try await request.body.collect(upTo: bodyLimit))
      } catch let error as HTTPError where error.status == .contentTooLarge {
        throw tooLarge
      }
    }
    self.init(head: request.head, body: body)
  }

  /// The head of a WebSocket upgrade.
  init(upgrade head: HTTPRequest) { self.init(head: head, body: Data()) }

  private init(head: HTTPRequest, body: Data) {
    let target = head.path ?? "/"
    let (path, query) =
      target.firstIndex(of: "?").map { (String(target[..<$0]), String(target[$0...])) }
      ?? (target, "")
    var headers: [String: String] = [:]
    for field in head.headerFields { headers[field.name.canonicalName] = field.value }
    // HTTP/1.1's Host header arrives as the request's authority.
    if let authority = head.authority { headers["host"] = authority }
    self.init(method: head.method.rawValue, path: path, query: query, headers: headers, body: body)
  }
}

extension PlaygroundResponse {
  /// The response as Hummingbird writes it.
  var hummingbirdResponse: Response {
    var fields = HTTPFields()
    for (name, value) in headers {
      if let name = HTTPField.Name(name) { fields[name] = value }
    }
    return Response(
      status: .init(code: status), headers: fields,
      body: .init(byteBuffer: ByteBuffer(bytes: body)))
  }
}
