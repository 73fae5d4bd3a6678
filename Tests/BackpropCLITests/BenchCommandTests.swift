import Foundation
import Testing

/// `backprop bench`, run as the built binary: the xor workload (the others take too long in a
/// debug build and are run by Scripts/bench).
@Suite("bench command")
struct BenchCommandTests {
  @Test func xorPrintsOneJSONLineLikePeers() throws {
    let result = try runBackprop(["bench", "xor", "--threads", "1"])
    #expect(result.status == 0, "\(result.standardError)")
    let object =
      try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any]
    #expect(
      object?["framework"] as? String == "backprop" && object?["workload"] as? String == "xor")
    #expect(object?["unit"] as? String == "steps/s" && (object?["rate"] as? Double ?? 0) > 0)
    // 20000 steps of plain gradient descent on XOR end near the peers' 0.00035.
    #expect((object?["final_loss"] as? Double ?? 1) < 0.001)
    #expect((object?["peak_rss_bytes"] as? Int ?? 0) > 0)
    let blas = ProcessInfo.processInfo.environment["BACKPROP_BLAS"] == "off"
    if blas { #expect(object?["blas"] as? String == "off") }
    let bad = try runBackprop(["bench", "huge"])
    #expect(bad.status != 0 && bad.standardError.contains("xor"))
  }
}
