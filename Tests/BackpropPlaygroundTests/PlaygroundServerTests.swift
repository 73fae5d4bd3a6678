import Backprop
import Foundation
import Testing

@testable import BackpropPlayground

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

@Suite("Playground server")
struct PlaygroundServerTests {
  private func request(
    _ method: String, _ target: String, headers: [String: String] = [:], body: Data = Data()
  ) -> PlaygroundRequest {
    let (path, query) =
      target.firstIndex(of: "?").map { (String(target[..<$0]), String(target[$0...])) }
      ?? (target, "")
    var fields = ["host": "127.0.0.1:8080"]
    for (name, value) in headers { fields[name.lowercased()] = value }
    return PlaygroundRequest(method: method, path: path, query: query, headers: fields, body: body)
  }

  private func answer(_ routes: PlaygroundRoutes, _ request: PlaygroundRequest) async
    -> (status: Int, text: String)
  {
    let response = await routes.respond(to: request)
    return (response.status, response.text)
  }

  private func makeRoutes(_ limits: PlaygroundLimits = PlaygroundLimits()) -> PlaygroundRoutes {
    PlaygroundServer(limits: limits).routes
  }

  @Test func thePageAndTheSettingsAreServed() async throws {
    let routes = makeRoutes()
    let page = await answer(routes, request("GET", "/"))
    #expect(page.status == 200 && page.text.contains("<title>Backprop playground</title>"))
    let settings = await answer(routes, request("GET", "/api/settings?data=moons&layers=6"))
    #expect(settings.status == 200)
    #expect(settings.text.contains(#""query":"data=moons&samples=200"#))
    #expect(
      settings.text.contains(#""sessionLimit":8"#) && settings.text.contains(#""sessionsOpen":0"#))
    let tensorFlow = await answer(
      routes, request("GET", "/api/settings?dialect=tensorflow&dataset=gauss&initZero=true"))
    #expect(tensorFlow.status == 200 && tensorFlow.text.contains("data=blobs"))
    #expect(tensorFlow.text.contains("initZero is not offered"))
  }

  @Test func malformedRequestsGetAReason() async throws {
    let routes = makeRoutes()
    let cases: [(PlaygroundRequest, Int, String)] = [
      (request("GET", "/api/settings?learningRate=-1"), 400, "learningRate must be in"),
      (
        request("GET", "/api/settings?dialect=keras"), 400, "dialect must be backprop or tensorflow"
      ),
      (request("GET", "/api/settings?data=xor&data=moons"), 400, "given twice"),
      (request("GET", "/api/settings?data=%zz"), 400, "not a valid URL query item"),
      (request("POST", "/"), 405, "/ takes GET, not POST"),
      (request("GET", "/admin"), 404, "there is no page /admin"),
      (request("GET", "/api/session"), 400, "is a WebSocket"),
      (request("GET", "/api/session/0123/model"), 404, "no open session '0123'"),
      (request("POST", "/api/session/0123/upload", body: Data("a,b".utf8)), 404, "no open session"),
    ]
    for (request, status, fragment) in cases {
      let (code, text) = await answer(routes, request)
      #expect(code == status, "\(request.method) \(request.path): \(code) \(text)")
      #expect(text.contains(fragment), "\(text) lacks \(fragment)")
    }
  }

  /// DNS rebinding: a page of another site whose name now points at this machine sends that
  /// name as its Host; every route refuses it.
  @Test func onlyThisServersNamesAreAnswered() async throws {
    let routes = PlaygroundServer(host: "192.168.1.20").routes
    for host in [
      "127.0.0.1:8080", "localhost:1", "LOCALHOST", "[::1]:9", "192.168.1.20:80", "10.0.0.1",
    ] {
      let answered = await answer(routes, request("GET", "/", headers: ["Host": host]))
      #expect(answered.status == 200, "\(host): \(answered.text)")
    }
    for host in [
      "evil.example:8080", "evil.example", "127.0.0.1.evil.example", "localhost.evil", "",
    ] {
      let refused = await answer(routes, request("GET", "/api/settings", headers: ["Host": host]))
      #expect(refused.status == 403 || refused.status == 400, "\(host): \(refused.status)")
      let upgrade = request("GET", "/api/session", headers: ["Host": host])
      #expect(await routes.openSession(for: upgrade) == nil, "\(host) opened a session")
    }
    #expect(await routes.sessions.count == 0)
  }

  @Test func sessionsOpenOverWebSocketsWithinTheLimitAndFromThisSiteOnly() async throws {
    let routes = makeRoutes(PlaygroundLimits(sessions: 2))
    let foreign = request("GET", "/api/session", headers: ["Origin": "http://evil.example"])
    #expect(await routes.openSession(for: foreign) == nil)
    let rebound = request(
      "GET", "/api/session",
      headers: ["Origin": "http://evil.example:8080", "Host": "evil.example:8080"])
    #expect(await routes.openSession(for: rebound) == nil)
    #expect(await routes.openSession(for: request("GET", "/api/session?layers=0")) == nil)
    #expect(await routes.openSession(for: request("GET", "/api/other")) == nil)

    let own = request(
      "GET", "/api/session?data=moons", headers: ["Origin": "http://127.0.0.1:8080"])
    #expect(await routes.openSession(for: own) != nil)
    #expect(await routes.openSession(for: request("GET", "/api/session")) != nil)
    #expect(await routes.sessions.count == 2)
    #expect(await routes.openSession(for: own) == nil)
    let settings = await answer(routes, request("GET", "/api/settings"))
    #expect(settings.text.contains(#""sessionsOpen":2"#))
  }

  @Test func uploadsAndDownloadsReachOnlyTheirSession() async throws {
    let routes = makeRoutes(PlaygroundLimits(uploadBytes: 2000))
    let session = try await routes.sessions.open(settings: PlaygroundSettings(), notices: [])
    let other = try await routes.sessions.open(settings: PlaygroundSettings(), notices: [])
    let csv =
      "size,weight,kind\n"
      + (0..<40).map {
        "\(Double($0) / 4),\(Double(($0 * 7) % 11) / 5),\($0 % 3 == 0 ? "cat" : "dog")"
      }
      .joined(separator: "\n")
    let uploaded = await answer(
      routes,
      request("POST", "/api/session/\(session.id)/upload?name=pets.csv", body: Data(csv.utf8)))
    #expect(uploaded.status == 200, "\(uploaded.text)")
    #expect(uploaded.text.contains("pets.csv: 40 rows, 2 feature(s), 2 classes"))
    let (data, otherData) = (await session.settings.data, await other.settings.data)
    #expect(data == "upload" && otherData == "xor")

    let model = await routes.respond(to: request("GET", "/api/session/\(session.id)/model"))
    #expect(model.status == 200)
    #expect(model.headers["Content-Disposition"]?.contains("playground-model.json") == true)
    let loaded = try Model<Float>(jsonData: model.body, source: "download")
    #expect(
      loaded.featureNames == ["size", "weight"] && loaded.targetKind.classNames == ["cat", "dog"])
    #expect(loaded.scaling != nil)

    let broken = await answer(
      routes,
      request("POST", "/api/session/\(session.id)/upload", body: Data("a,b,c\n1,2,x\n1,2".utf8)))
    #expect(broken.status == 400 && broken.text.contains("line 3"), "\(broken.text)")
    let empty = await answer(routes, request("POST", "/api/session/\(session.id)/upload"))
    #expect(empty.status == 400 && empty.text.contains("empty"))
    let binary = await answer(
      routes, request("POST", "/api/session/\(session.id)/upload", body: Data([0xff, 0xfe, 0])))
    #expect(binary.status == 400 && binary.text.contains("not UTF-8"))
    // A refused upload leaves the session's data as they were.
    let kept = try Model<Float>(jsonData: try await session.modelFile(), source: "download")
    #expect(kept.featureNames == ["size", "weight"])
  }

  @Test func theSocketTakesCommandsAndStreamsFrames() async throws {
    let sessions = PlaygroundSessions(limits: PlaygroundLimits(framesPerSecond: 20))
    let session = try await sessions.open(
      settings: PlaygroundSettings.parse("data=xor&speed=2000").settings, notices: ["hello"])
    let (client, commands) = AsyncStream<PlaygroundSocket.Message>.makeStream()
    let (messages, output) = AsyncStream<String>.makeStream()
    let conversation = Task {
      await PlaygroundSocket(session: session, sessions: sessions).run(client) {
        output.yield($0)
      }
      output.finish()
    }
    var iterator = messages.makeAsyncIterator()
    func next() async throws -> [String: Any] {
      guard let text = await iterator.next() else {
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

    send(#"{"command": "step"}"#)
    commands.yield(.binary)
    #expect(try await next()["step"] as? Int == 1)
    #expect(try await next()["message"] as? String == "send commands as JSON text")

    // Closing the socket ends the session.
    commands.finish()
    while await iterator.next() != nil {}
    await conversation.value
    #expect(await sessions.count == 0)
    await expectRefusal(status: 404, containing: "no open session") {
      _ = try await sessions.session(session.id)
    }
  }

  @Test func aBurstOfCommandsIsCutToTheRate() async throws {
    let sessions = PlaygroundSessions(limits: PlaygroundLimits(commandsPerSecond: 5))
    let session = try await sessions.open(settings: PlaygroundSettings(), notices: [])
    let (client, commands) = AsyncStream<PlaygroundSocket.Message>.makeStream()
    for _ in 0..<100 { commands.yield(.text(#"{"command": "step"}"#)) }
    commands.finish()
    let page = StalledPage(allowed: .max)
    await PlaygroundSocket(session: session, sessions: sessions).run(client) {
      await page.take($0)
    }
    // The burst's 5, and what the bucket refilled while they were answered.
    let steps = await session.step
    #expect((5...8).contains(steps), "\(steps) steps")
    let told = await page.messages.filter { $0.contains("too many commands: at most 5 a second") }
    #expect((1...2).contains(told.count), "\(told.count) warnings")
  }

  @Test func aPageThatStopsReadingPausesItsSession() async throws {
    let sessions = PlaygroundSessions(limits: PlaygroundLimits(framesPerSecond: 50))
    let session = try await sessions.open(
      settings: PlaygroundSettings.parse("data=xor&speed=1000").settings, notices: [])
    let (client, commands) = AsyncStream<PlaygroundSocket.Message>.makeStream()
    commands.yield(.text(#"{"command": "start"}"#))
    let page = StalledPage(allowed: 3)
    let conversation = Task {
      await PlaygroundSocket(session: session, sessions: sessions).run(client) {
        await page.take($0)
      }
    }
    await page.waitUntilHolding()
    try await Task.sleep(for: .milliseconds(100))
    let held = await session.step
    try await Task.sleep(for: .milliseconds(400))
    #expect(await session.step == held, "the session went on training")
    #expect(await page.messages.count <= 5)
    await page.open()
    commands.finish()
    await conversation.value
    #expect(await sessions.count == 0)
  }

  @Test func theRateAllowsABurstThenItsAverage() {
    var rate = CommandRate(perSecond: 4)
    let start = ContinuousClock.now
    let burst = (0..<6).map { _ in rate.admit(at: start) }
    #expect(
      burst == [
        .admitted, .admitted, .admitted, .admitted, .refused(tell: true), .refused(tell: false),
      ])
    #expect(rate.admit(at: start + .milliseconds(250)) == .admitted)
    #expect(rate.admit(at: start + .milliseconds(260)) == .refused(tell: false))
    // A long pause fills the bucket to its burst, not beyond.
    let later = (0..<5).map { _ in rate.admit(at: start + .seconds(5)) }
    #expect(later == [.admitted, .admitted, .admitted, .admitted, .refused(tell: true)])
  }

  @Test func theServerListensOnLoopbackAndAnswers() async throws {
    let server = PlaygroundServer(port: 0, limits: PlaygroundLimits(uploadBytes: 2000))
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
    var upload = URLRequest(url: url.appendingPathComponent("api/session/0123/upload"))
    upload.httpMethod = "POST"
    upload.httpBody = Data(repeating: UInt8(ascii: "1"), count: 3000)
    let (refusal, refused) = try await URLSession.shared.data(for: upload)
    #expect((refused as? HTTPURLResponse)?.statusCode == 413)
    #expect(String(decoding: refusal, as: UTF8.self).contains("limit of 2000 bytes"))

    await expectRefusal(containing: "--host must be an IPv4 or IPv6 address") {
      try await PlaygroundServer(host: "playground.example").run { _ in }
    }
  }
}

/// A page that takes the first `allowed` messages, then holds every later one until opened, as
/// a client that stops reading holds the server's writes.
actor StalledPage {
  let allowed: Int
  private(set) var messages: [String] = []
  private var held: [CheckedContinuation<Void, Never>] = []
  private var watchers: [CheckedContinuation<Void, Never>] = []
  private var isOpen = false

  init(allowed: Int) { self.allowed = allowed }

  func take(_ message: String) async {
    messages.append(message)
    guard messages.count > allowed, !isOpen else { return }
    await withCheckedContinuation { continuation in
      held.append(continuation)
      for watcher in watchers { watcher.resume() }
      watchers = []
    }
  }

  func waitUntilHolding() async {
    guard held.isEmpty else { return }
    await withCheckedContinuation { watchers.append($0) }
  }

  func open() {
    isOpen = true
    for continuation in held { continuation.resume() }
    held = []
  }
}

@Suite("WebSocket frames from a client")
struct ClientFrameScannerTests {
  /// A client frame: FIN, `opcode`, the mask bit when `masked`, the length in 7, 16 or 64 bits.
  private func frame(_ size: Int, masked: Bool = true, reserved: UInt8 = 0) -> [UInt8] {
    var bytes: [UInt8] = [0x80 | reserved << 4 | 1]
    let bit: UInt8 = masked ? 0x80 : 0
    if size < 126 {
      bytes.append(bit | UInt8(size))
    } else if size < 65536 {
      bytes += [bit | 126, UInt8(size >> 8), UInt8(size & 0xff)]
    } else {
      bytes.append(bit | 127)
      bytes += (0..<8).reversed().map { UInt8((size >> ($0 * 8)) & 0xff) }
    }
    if masked { bytes += [9, 8, 7, 6] }
    return bytes + [UInt8](repeating: 0x41, count: size)
  }

  private func verdict(_ stream: [UInt8], readSize: Int) -> Bool {
    var scanner = ClientFrameScanner()
    var offset = 0
    while offset < stream.count {
      let end = min(offset + readSize, stream.count)
      let conforming = stream[offset..<end].withUnsafeBytes { scanner.scan($0) }
      if !conforming { return false }
      offset = end
    }
    return true
  }

  @Test func maskedFramesOfEveryLengthPassHoweverTheyAreSplit() {
    let stream = frame(0) + frame(5) + frame(125) + frame(126) + frame(300) + frame(70_000)
    for readSize in [1, 2, 3, 7, 14, 1000, stream.count] {
      #expect(verdict(stream, readSize: readSize), "reads of \(readSize) bytes")
    }
  }

  @Test func anUnmaskedFrameOrAReservedBitIsRefused() {
    for (name, bad) in [
      ("unmasked", frame(5, masked: false)), ("RSV1", frame(5, reserved: 4)),
      ("RSV3", frame(300, reserved: 1)), ("unmasked long", frame(70_000, masked: false)),
    ] {
      // After frames that conform, and with the offending header split across reads.
      let stream = frame(126) + frame(3) + bad
      for readSize in [1, 2, 5, stream.count] {
        #expect(!verdict(stream, readSize: readSize), "\(name), reads of \(readSize) bytes")
      }
    }
    #expect(
      ClientFrameScanner.payloadLength(ofHeader: [0x81, 0xFE, 0x01, 0x2C, 1, 2, 3, 4]) == 300)
    #expect(ClientFrameScanner.payloadLength(ofHeader: [0x81, 0xFE, 0x01, 0x2C, 1, 2, 3]) == nil)
  }
}
