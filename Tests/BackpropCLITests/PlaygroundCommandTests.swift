import Foundation
import Testing

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

/// `backprop playground`, run as the built binary: it prints its URL and serves the page there.
@Suite("playground command")
struct PlaygroundCommandTests {
  @Test func servesThePageAtThePrintedURL() async throws {
    let process = Process()
    process.executableURL = productsDirectory.appendingPathComponent("backprop")
    process.arguments = ["playground", "--port", "0", "--max-sessions", "2"]
    let output = Pipe()
    process.standardOutput = output
    process.standardError = Pipe()
    try process.run()
    defer {
      process.terminate()
      process.waitUntilExit()
    }
    // The first line names the URL; read it byte by byte, as the server goes on running.
    var line = Data()
    while let byte = try output.fileHandleForReading.read(upToCount: 1), !byte.isEmpty,
      byte != Data("\n".utf8)
    {
      line.append(byte)
    }
    let text = String(decoding: line, as: UTF8.self)
    #expect(text.hasPrefix("Backprop playground at http://127.0.0.1:"), "\(text)")
    let address = text.split(separator: " ").first { $0.hasPrefix("http://") }.map(String.init)
    let url = try #require(address.flatMap(URL.init(string:)))
    let (page, response) = try await URLSession.shared.data(from: url)
    #expect((response as? HTTPURLResponse)?.statusCode == 200)
    #expect(String(decoding: page, as: UTF8.self).contains("<title>Backprop playground</title>"))
    let (_, missing) = try await URLSession.shared.data(from: url.appendingPathComponent("nope"))
    #expect((missing as? HTTPURLResponse)?.statusCode == 404)
  }

  @Test func badFlagsAreNamed() throws {
    let port = try runBackprop(["playground", "--port", "70000"])
    #expect(port.status != 0 && port.standardError.contains("--port must be in 0...65535"))
    let host = try runBackprop(["playground", "--host", "nowhere", "--port", "0"])
    #expect(host.status != 0 && host.standardError.contains("--host must be an IPv4 or IPv6"))
    let sessions = try runBackprop(["playground", "--max-sessions", "0"])
    #expect(sessions.status != 0 && sessions.standardError.contains("--max-sessions must be"))
  }
}
