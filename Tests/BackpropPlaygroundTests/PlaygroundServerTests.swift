import Backprop
import FlyingFox
import Foundation
import Testing

@testable import BackpropPlayground

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

@Suite("Playground server")
struct PlaygroundServerTests {
  private func request(
    _ method: HTTPMethod, _ target: String, headers: [String: String] = [:], body: Data = Data()
  ) -> HTTPRequest {
    let components = URLComponents(string: "http://playground" + target)
    var fields = HTTPHeaders()
    fields[.host] = "127.0.0.1:8080"
    for (name, value) in headers { fields[HTTPHeader(name)] = value }
    return HTTPRequest(
      method: method, version: .http11, path: components?.path ?? target,
      query: (components?.queryItems ?? []).map { .init(name: $0.name, value: $0.value ?? "") },
      headers: fields, body: HTTPBodySequence(data: body))
  }

  private let upgrade = [
    "Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
    "Sec-WebSocket-Key": Data(repeating: 7, count: 16).base64EncodedString(),
  ]

  private func answer(_ handler: PlaygroundHandler, _ request: HTTPRequest) async throws
    -> (status: Int, text: String)
  {
    let response = try await handler.handleRequest(request)
    return (response.statusCode.code, String(decoding: try await response.bodyData, as: UTF8.self))
  }

  private func makeHandler(_ limits: PlaygroundLimits = PlaygroundLimits()) -> PlaygroundHandler {
    PlaygroundServer(limits: limits).handler
  }

  @Test func thePageAndTheSettingsAreServed() async throws {
    let handler = makeHandler()
    let page = try await answer(handler, request(.GET, "/"))
    #expect(page.status == 200 && page.text.contains("<title>Backprop playground</title>"))
    let settings = try await answer(handler, request(.GET, "/api/settings?data=moons&layers=6"))
    #expect(settings.status == 200)
    #expect(settings.text.contains(#""query":"data=moons&samples=200"#))
    #expect(
      settings.text.contains(#""sessionLimit":8"#) && settings.text.contains(#""sessionsOpen":0"#))
    let tensorFlow = try await answer(
      handler, request(.GET, "/api/settings?dialect=tensorflow&dataset=gauss&initZero=true"))
    #expect(tensorFlow.status == 200 && tensorFlow.text.contains("data=blobs"))
    #expect(tensorFlow.text.contains("initZero is not offered"))
  }

  @Test func malformedRequestsGetAReason() async throws {
    let handler = makeHandler()
    let cases: [(HTTPRequest, Int, String)] = [
      (request(.GET, "/api/settings?learningRate=-1"), 400, "learningRate must be in"),
      (request(.GET, "/api/settings?dialect=keras"), 400, "dialect must be backprop or tensorflow"),
      (request(.GET, "/api/settings?data=xor&data=moons"), 400, "given twice"),
      (request(.POST, "/"), 405, "/ takes GET, not POST"),
      (request(.GET, "/admin"), 404, "there is no page /admin"),
      (request(.GET, "/api/session"), 400, "is a WebSocket"),
      (request(.GET, "/api/session?layers=0", headers: upgrade), 400, "1...32 neurons"),
      (request(.GET, "/api/session/0123/model"), 404, "no open session '0123'"),
      (request(.POST, "/api/session/0123/upload", body: Data("a,b".utf8)), 404, "no open session"),
    ]
    for (request, status, fragment) in cases {
      let (code, text) = try await answer(handler, request)
      #expect(code == status, "\(request.method) \(request.path): \(code) \(text)")
      #expect(text.contains(fragment), "\(text) lacks \(fragment)")
    }
  }

  @Test func sessionsOpenOverWebSocketsWithinTheLimitAndFromThisSiteOnly() async throws {
    let handler = makeHandler(PlaygroundLimits(sessions: 2))
    let foreign = request(
      .GET, "/api/session", headers: upgrade.merging(["Origin": "http://evil.example"]) { $1 })
    let refused = try await answer(handler, foreign)
    #expect(refused.status == 403 && refused.text.contains("http://evil.example cannot open"))

    let own = request(
      .GET, "/api/session?data=moons",
      headers: upgrade.merging(["Origin": "http://127.0.0.1:8080"]) { $1 })
    #expect(try await handler.handleRequest(own).statusCode == .switchingProtocols)
    #expect(try await handler.handleRequest(own).statusCode == .switchingProtocols)
    #expect(await handler.sessions.count == 2)
    let full = try await answer(handler, own)
    #expect(full.status == 503 && full.text.contains("already has 2 open pages"))
  }

  @Test func uploadsAndDownloadsReachOnlyTheirSession() async throws {
    let handler = makeHandler(PlaygroundLimits(uploadBytes: 2000))
    let session = try await handler.sessions.open(settings: PlaygroundSettings(), notices: [])
    let other = try await handler.sessions.open(settings: PlaygroundSettings(), notices: [])
    let csv =
      "size,weight,kind\n"
      + (0..<40).map {
        "\(Double($0) / 4),\(Double(($0 * 7) % 11) / 5),\($0 % 3 == 0 ? "cat" : "dog")"
      }
      .joined(separator: "\n")
    let uploaded = try await answer(
      handler,
      request(.POST, "/api/session/\(session.id)/upload?name=pets.csv", body: Data(csv.utf8)))
    #expect(uploaded.status == 200, "\(uploaded.text)")
    #expect(uploaded.text.contains("pets.csv: 40 rows, 2 feature(s), 2 classes"))
    let (data, otherData) = (await session.settings.data, await other.settings.data)
    #expect(data == "upload" && otherData == "xor")

    let model = try await handler.handleRequest(request(.GET, "/api/session/\(session.id)/model"))
    #expect(model.statusCode == .ok)
    #expect(model.headers[.contentDisposition]?.contains("playground-model.json") == true)
    let loaded = try Model<Float>(jsonData: try await model.bodyData, source: "download")
    #expect(
      loaded.featureNames == ["size", "weight"] && loaded.targetKind.classNames == ["cat", "dog"])
    #expect(loaded.scaling != nil)

    let large = Data(repeating: UInt8(ascii: "1"), count: 3000)
    let declared = try await answer(
      handler,
      request(
        .POST, "/api/session/\(session.id)/upload", headers: ["Content-Length": "3000"], body: large
      ))
    #expect(declared.status == 413 && declared.text.contains("limit of 2000 bytes"))
    let undeclared = try await answer(
      handler, request(.POST, "/api/session/\(session.id)/upload", body: large))
    #expect(undeclared.status == 413)
    let broken = try await answer(
      handler,
      request(.POST, "/api/session/\(session.id)/upload", body: Data("a,b,c\n1,2,x\n1,2".utf8)))
    #expect(broken.status == 400 && broken.text.contains("line 3"), "\(broken.text)")
    let empty = try await answer(handler, request(.POST, "/api/session/\(session.id)/upload"))
    #expect(empty.status == 400 && empty.text.contains("empty"))
    // A refused upload leaves the session's data as they were.
    let kept = try Model<Float>(jsonData: try await session.modelFile(), source: "download")
    #expect(kept.featureNames == ["size", "weight"])
  }

  @Test func theSocketTakesCommandsAndStreamsFrames() async throws {
    let sessions = PlaygroundSessions(limits: PlaygroundLimits(framesPerSecond: 20))
    let session = try await sessions.open(
      settings: PlaygroundSettings.parse("data=xor&speed=2000").settings, notices: ["hello"])
    let (client, commands) = AsyncStream<WSMessage>.makeStream()
    let messages = try await PlaygroundSocket(session: session, sessions: sessions)
      .makeMessages(for: client)
    var iterator = messages.makeAsyncIterator()
    func next() async throws -> [String: Any] {
      guard case .text(let text) = await iterator.next() else {
        Issue.record("the socket ended")
        return [:]
      }
      return try #require(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any])
    }
    func send(_ json: String) { commands.yield(.text(json)) }

    let welcome = try await next()
    #expect(welcome["type"] as? String == "session" && welcome["id"] as? String == session.id)
    #expect(welcome["notices"] as? [String] == ["hello"])
    #expect(try await next()["step"] as? Int == 0)

    send(#"{"command": "step"}"#)
    #expect(try await next()["step"] as? Int == 1)
    send(#"{"command": "select", "neuron": "h1_2"}"#)
    let selected = try await next()
    #expect(selected["neuron"] as? String == "h1_2")
    #expect((selected["trace"] as? [Any])?.isEmpty == false)

    send("not json")
    #expect(
      try await next()["message"] as? String
        == "a command is JSON such as {\"command\": \"start\"} (at most 64 KiB); got 'not json'")
    send(#"{"command": "fly"}"#)
    #expect((try await next()["message"] as? String)?.contains("unknown command 'fly'") == true)
    send(#"{"command": "select", "neuron": "h9"}"#)
    #expect((try await next()["message"] as? String)?.contains("no neuron 'h9'") == true)
    send(#"{"command": "configure", "query": "layers=99"}"#)
    #expect((try await next()["message"] as? String)?.contains("1...32 neurons") == true)

    send(#"{"command": "start"}"#)
    var steps: [Int] = []
    while steps.count < 4 {
      let frame = try await next()
      if frame["status"] as? String == "running", let step = frame["step"] as? Int {
        steps.append(step)
      }
    }
    #expect(steps == steps.sorted() && steps.last! > steps.first!, "\(steps)")
    send(#"{"command": "pause"}"#)
    while try await next()["status"] as? String != "paused" {}

    send(#"{"command": "configure", "query": "data=moons&layers=3", "dialect": "backprop"}"#)
    let reconfigured = try await next()
    #expect(reconfigured["type"] as? String == "session")
    #expect((reconfigured["query"] as? String)?.hasPrefix("data=moons") == true)
    #expect(try await next()["step"] as? Int == 0)

    // Closing the socket ends the session.
    commands.finish()
    while await iterator.next() != nil {}
    #expect(await sessions.count == 0)
    await expectRefusal(status: 404, containing: "no open session") {
      _ = try await sessions.session(session.id)
    }
  }

  @Test func theServerListensOnLoopbackAndAnswers() async throws {
    let server = PlaygroundServer(port: 0)
    #expect(server.isLoopback && !PlaygroundServer(host: "0.0.0.0").isLoopback)
    let (urls, found) = AsyncStream<URL>.makeStream()
    let running = Task { try await server.run { found.yield($0) } }
    defer { running.cancel() }
    var iterator = urls.makeAsyncIterator()
    let url = try #require(await iterator.next())
    #expect(url.host == "127.0.0.1" && url.port != 0)
    let (data, response) = try await URLSession.shared.data(from: url)
    #expect((response as? HTTPURLResponse)?.statusCode == 200)
    #expect(String(decoding: data, as: UTF8.self).contains("Backprop playground"))

    await expectRefusal(containing: "--host must be an IPv4 or IPv6 address") {
      try await PlaygroundServer(host: "playground.example").run { _ in }
    }
  }
}
