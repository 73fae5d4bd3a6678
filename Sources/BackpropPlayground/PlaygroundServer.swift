import Backprop
import FlyingFox
import Foundation

/// The web playground: a page that trains a real Backprop network in this process and shows
/// every number of it, served on loopback by default.
///
/// Routes:
/// - `GET /`: the page.
/// - `GET /api/settings?QUERY[&dialect=tensorflow]`: the settings a query names, in canonical
///   form with notices, or 400 with the reason.
/// - `GET /api/session?QUERY` (WebSocket): opens a session (see ``PlaygroundSocket``); 400 for
///   bad settings, 403 from another site's page, 503 when ``PlaygroundLimits/sessions`` are open.
/// - `POST /api/session/ID/upload?name=FILE`: a CSV file (at most
///   ``PlaygroundLimits/uploadBytes``, else 413) becomes the session's data.
/// - `GET /api/session/ID/model`: the trained model, a file `backprop predict` reads.
///
/// Errors are plain-text sentences with a 4xx or 5xx status.
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

  /// Listens until the task is cancelled; `whenListening` gets the page's URL once connections
  /// are accepted.
  ///
  /// - Throws: ``PlaygroundError`` for a host that is not an address; socket errors, such as a
  ///   port in use.
  public func run(whenListening: @escaping @Sendable (URL) -> Void) async throws {
    let name = host == "localhost" ? "127.0.0.1" : host
    let server: HTTPServer
    do {
      // Its log would only repeat what reaches the page, or report pages that went away.
      if name.contains(":") {
        server = HTTPServer(
          address: try .inet6(ip6: name, port: port), logger: .disabled, handler: handler)
      } else {
        server = HTTPServer(
          address: try .inet(ip4: name, port: port), logger: .disabled, handler: handler)
      }
    } catch {
      throw PlaygroundError("--host must be an IPv4 or IPv6 address or localhost (got '\(host)')")
    }
    try await withThrowingTaskGroup(of: Void.self) { group in
      group.addTask { try await server.run() }
      group.addTask {
        try await server.waitUntilListening()
        var listening = port
        if case .ip4(_, let bound) = await server.listeningAddress { listening = bound }
        if case .ip6(_, let bound) = await server.listeningAddress { listening = bound }
        let shown = name.contains(":") ? "[\(name)]" : name
        if let url = URL(string: "http://\(shown):\(listening)/") { whenListening(url) }
      }
      try await group.waitForAll()
    }
  }

  /// The routes, for the server and for tests.
  var handler: PlaygroundHandler { PlaygroundHandler(sessions: sessions, limits: limits) }
}

/// Answers the playground's requests.
struct PlaygroundHandler: HTTPHandler {
  let sessions: PlaygroundSessions
  let limits: PlaygroundLimits

  func handleRequest(_ request: HTTPRequest) async throws -> HTTPResponse {
    do {
      return try await route(request)
    } catch let error as PlaygroundError {
      return Self.text(error.message, status: error.status)
    } catch {
      return Self.text("the request failed: \(error)", status: 500)
    }
  }

  private func route(_ request: HTTPRequest) async throws -> HTTPResponse {
    let parts = request.path.split(separator: "/").map(String.init)
    func require(_ method: HTTPMethod) throws {
      guard request.method == method else {
        throw PlaygroundError(
          status: 405, "\(request.path) takes \(method.rawValue), not \(request.method.rawValue)")
      }
    }
    switch parts {
    case [], ["index.html"]:
      try require(.GET)
      return HTTPResponse(
        statusCode: .ok, headers: Self.headers(type: "text/html; charset=utf-8"),
        body: Data(PlaygroundPage.html.utf8))
    case ["api", "settings"]:
      try require(.GET)
      let (settings, notices) = try settings(of: request)
      struct Answer: Encodable {
        var settings: PlaygroundSettings
        var query: String
        var notices: [String]
        var sessionsOpen: Int
        var sessionLimit: Int
      }
      let answer = Answer(
        settings: settings, query: settings.query, notices: notices,
        sessionsOpen: await sessions.count, sessionLimit: limits.sessions)
      return try Self.json(answer)
    case ["api", "session"]:
      try require(.GET)
      try checkOrigin(request)
      let (settings, notices) = try settings(of: request)
      guard request.headers[.upgrade]?.lowercased() == "websocket" else {
        throw PlaygroundError(status: 400, "/api/session is a WebSocket; open it with one")
      }
      let session = try await sessions.open(settings: settings, notices: notices)
      let socket = PlaygroundSocket(session: session, sessions: sessions)
      let response = try await WebSocketHTTPHandler.webSocket(socket).handleRequest(request)
      if response.statusCode != .switchingProtocols { await sessions.close(session.id) }
      return response
    case _ where parts.count == 4 && parts[0] == "api" && parts[1] == "session":
      let session = try await sessions.session(parts[2])
      switch parts[3] {
      case "upload":
        try require(.POST)
        let body = try await uploadedText(request)
        let name = request.query["name"].map { String($0.prefix(100)) } ?? "upload.csv"
        let summary = try await session.receiveUpload(body, name: name)
        return try Self.json(["upload": summary])
      case "model":
        try require(.GET)
        let data = try await session.modelFile()
        var headers = Self.headers(type: "application/json")
        headers[.contentDisposition] = "attachment; filename=\"playground-model.json\""
        return HTTPResponse(statusCode: .ok, headers: headers, body: data)
      default:
        throw PlaygroundError(
          status: 404, "a session has /upload and /model, not /\(parts[3])")
      }
    default:
      throw PlaygroundError(
        status: 404, "there is no page \(request.path) here; the playground is at /")
    }
  }

  /// The settings of the request's query (`dialect=tensorflow` reads TensorFlow Playground's).
  private func settings(of request: HTTPRequest) throws -> (PlaygroundSettings, [String]) {
    var dialect = PlaygroundSettings.Dialect.backprop
    var items: [(String, String)] = []
    for item in request.query {
      if item.name == "dialect" {
        guard let chosen = PlaygroundSettings.Dialect(rawValue: item.value) else {
          throw PlaygroundError("dialect must be backprop or tensorflow (got '\(item.value)')")
        }
        dialect = chosen
      } else {
        items.append((item.name, item.value))
      }
    }
    return try PlaygroundSettings.parse(items: items, dialect: dialect, limits: limits)
  }

  /// Refuses a WebSocket opened by another site's page: browsers let any page connect to
  /// loopback, and only the Origin header tells.
  private func checkOrigin(_ request: HTTPRequest) throws {
    guard let origin = request.headers[HTTPHeader("Origin")] else { return }
    let host = request.headers[.host] ?? ""
    guard let url = URL(string: origin), let originHost = url.host else {
      throw PlaygroundError(status: 403, "the Origin '\(origin)' is not a URL")
    }
    let shown = originHost.contains(":") ? "[\(originHost)]" : originHost
    let authority = url.port.map { "\(shown):\($0)" } ?? shown
    guard authority == host else {
      throw PlaygroundError(
        status: 403, "a page from \(origin) cannot open a playground session on \(host)")
    }
  }

  /// The request's body as UTF-8 text, refused above the upload limit before it is read.
  private func uploadedText(_ request: HTTPRequest) async throws -> String {
    let tooLarge = PlaygroundError(
      status: 413, "the file is larger than the playground's limit of \(limits.uploadBytes) bytes")
    if let length = request.headers[.contentLength].flatMap(Int.init), length > limits.uploadBytes {
      throw tooLarge
    }
    var data = Data()
    for try await chunk in request.bodySequence {
      data.append(chunk)
      if data.count > limits.uploadBytes { throw tooLarge }
    }
    guard !data.isEmpty else { throw PlaygroundError("the upload is empty; send a CSV file") }
    guard let text = String(data: data, encoding: .utf8) else {
      throw PlaygroundError("the upload is not UTF-8 text; send a CSV file")
    }
    return text
  }

  private static func headers(type: String) -> HTTPHeaders {
    var headers = HTTPHeaders()
    headers[.contentType] = type
    headers[.cacheControl] = "no-store"
    headers[HTTPHeader("X-Content-Type-Options")] = "nosniff"
    return headers
  }

  static func text(_ message: String, status: Int) -> HTTPResponse {
    HTTPResponse(
      statusCode: HTTPStatusCode(status, phrase: phrases[status] ?? "Error"),
      headers: headers(type: "text/plain; charset=utf-8"), body: Data((message + "\n").utf8))
  }

  private static let phrases = [
    400: "Bad Request", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
    413: "Payload Too Large", 500: "Internal Server Error", 503: "Service Unavailable",
  ]

  static func json(_ value: some Encodable) throws -> HTTPResponse {
    HTTPResponse(
      statusCode: .ok, headers: headers(type: "application/json"),
      body: try PlaygroundJSON.data(value))
  }
}
