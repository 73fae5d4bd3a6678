import Backprop
import Foundation

/// A request as the playground's routes see it, whatever server read it.
struct PlaygroundRequest: Sendable {
  /// `GET`, `POST`, …
  var method: String
  /// The path, without the query.
  var path: String
  /// The query as sent, with its leading `?` (or empty).
  var query: String
  /// The header fields by lowercased name.
  var headers: [String: String]
  /// The body (empty but for uploads).
  var body: Data
}

/// What the playground answers to a ``PlaygroundRequest``.
struct PlaygroundResponse: Sendable {
  /// The HTTP status code.
  var status: Int
  /// The header fields.
  var headers: [String: String]
  /// The body.
  var body: Data

  /// The body as text, for tests and messages.
  var text: String { String(decoding: body, as: UTF8.self) }
}

/// Answers the playground's requests: the routes of ``PlaygroundServer`` and the checks that
/// decide whether a WebSocket may open a session.
struct PlaygroundRoutes: Sendable {
  let sessions: PlaygroundSessions
  let limits: PlaygroundLimits
  /// The address the server listens on; a Host header naming it is accepted.
  let host: String

  /// The answer to `request`: the route's, or a plain-text sentence with a 4xx or 5xx status.
  func respond(to request: PlaygroundRequest) async -> PlaygroundResponse {
    do {
      try checkHost(request)
      return try await route(request)
    } catch let error as PlaygroundError {
      return Self.text(error.message, status: error.status)
    } catch {
      return Self.text("the request failed: \(error)", status: 500)
    }
  }

  /// The answer to a request refused before it reached the routes (a body over the limit).
  static func refusal(_ error: PlaygroundError) -> PlaygroundResponse {
    text(error.message, status: error.status)
  }

  private func route(_ request: PlaygroundRequest) async throws -> PlaygroundResponse {
    let parts = request.path.split(separator: "/").map(String.init)
    func require(_ method: String) throws {
      guard request.method == method else {
        throw PlaygroundError(
          status: 405, "\(request.path) takes \(method), not \(request.method)")
      }
    }
    switch parts {
    case [], ["index.html"]:
      try require("GET")
      return PlaygroundResponse(
        status: 200, headers: Self.headers(type: "text/html; charset=utf-8"),
        body: Data(PlaygroundPage.html.utf8))
    case ["api", "settings"]:
      try require("GET")
      let (settings, notices) = try settings(of: request.query)
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
      try require("GET")
      throw PlaygroundError(status: 400, "/api/session is a WebSocket; open it with one")
    case _ where parts.count == 4 && parts[0] == "api" && parts[1] == "session":
      let session = try await sessions.session(parts[2])
      switch parts[3] {
      case "upload":
        try require("POST")
        let body = try uploadedText(request.body)
        let given = try QueryReader.items(of: request.query).last { $0.name == "name" }
        let name = given.map { String($0.value.prefix(100)) } ?? "upload.csv"
        let summary = try await session.receiveUpload(body, name: name)
        return try Self.json(["upload": summary])
      case "model":
        try require("GET")
        var response = PlaygroundResponse(
          status: 200, headers: Self.headers(type: "application/json"),
          body: try await session.modelFile())
        response.headers["Content-Disposition"] = "attachment; filename=\"playground-model.json\""
        return response
      default:
        throw PlaygroundError(
          status: 404, "a session has /upload and /model, not /\(parts[3])")
      }
    default:
      throw PlaygroundError(
        status: 404, "there is no page \(request.path) here; the playground is at /")
    }
  }

  /// The session a WebSocket upgrade asks for, opened, or nil when the upgrade is refused: a
  /// Host or Origin that is not this server's, another path, settings that cannot be trained,
  /// or the limit of sessions reached. The page asks `/api/settings` first, which names the
  /// last two; a refused upgrade is answered 400 with no reason, as WebSocket clients see none.
  func openSession(for request: PlaygroundRequest) async -> PlaygroundSession? {
    guard request.path == "/api/session", (try? checkHost(request)) != nil,
      (try? checkOrigin(request)) != nil,
      let (settings, notices) = try? settings(of: request.query)
    else { return nil }
    return try? await sessions.open(settings: settings, notices: notices)
  }

  /// The settings of a query (`dialect=tensorflow` reads TensorFlow Playground's).
  private func settings(of query: String) throws -> (PlaygroundSettings, [String]) {
    var dialect = PlaygroundSettings.Dialect.backprop
    var items: [(name: String, value: String)] = []
    for item in try QueryReader.items(of: query) {
      if item.name == "dialect" {
        guard let chosen = PlaygroundSettings.Dialect(rawValue: item.value) else {
          throw PlaygroundError("dialect must be backprop or tensorflow (got '\(item.value)')")
        }
        dialect = chosen
      } else {
        items.append(item)
      }
    }
    return try PlaygroundSettings.parse(items: items, dialect: dialect, limits: limits)
  }

  /// Refuses a request whose Host header names another server: a page of another site whose
  /// DNS name was pointed at this machine (DNS rebinding) sends its own name. Accepted are IP
  /// literals (no DNS is involved), `localhost`, and the `--host` given.
  func checkHost(_ request: PlaygroundRequest) throws {
    guard let authority = request.headers["host"], !authority.isEmpty else {
      throw PlaygroundError("the request has no Host header")
    }
    let name: Substring
    if authority.hasPrefix("["), let end = authority.firstIndex(of: "]") {
      name = authority[authority.index(after: authority.startIndex)..<end]
    } else {
      name = authority.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)[0]
    }
    let lowered = name.lowercased()
    let isLiteral =
      lowered.contains(":")
      || lowered.split(separator: ".").count == 4
        && lowered.allSatisfy { $0.isNumber || $0 == "." }
    guard isLiteral || lowered == "localhost" || lowered == host.lowercased() else {
      throw PlaygroundError(
        status: 403,
        "the playground answers requests for \(host) or localhost, not for '\(authority)'")
    }
  }

  /// Refuses a WebSocket opened by another site's page: browsers let any page connect to
  /// loopback, and only the Origin header tells.
  private func checkOrigin(_ request: PlaygroundRequest) throws {
    guard let origin = request.headers["origin"] else { return }
    let host = request.headers["host"] ?? ""
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

  /// An upload's body as UTF-8 text.
  private func uploadedText(_ data: Data) throws -> String {
    guard !data.isEmpty else { throw PlaygroundError("the upload is empty; send a CSV file") }
    guard let text = String(data: data, encoding: .utf8) else {
      throw PlaygroundError("the upload is not UTF-8 text; send a CSV file")
    }
    return text
  }

  private static func headers(type: String) -> [String: String] {
    ["Content-Type": type, "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"]
  }

  static func text(_ message: String, status: Int) -> PlaygroundResponse {
    PlaygroundResponse(
      status: status, headers: headers(type: "text/plain; charset=utf-8"),
      body: Data((message + "\n").utf8))
  }

  static func json(_ value: some Encodable) throws -> PlaygroundResponse {
    PlaygroundResponse(
      status: 200, headers: headers(type: "application/json"), body: try PlaygroundJSON.data(value))
  }
}
