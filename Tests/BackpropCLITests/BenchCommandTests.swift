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

  /// xor trains through fit with its history (the epochs are steps), and adam is for the others.
  @Test func xorTrainsThroughFitAndAdamIsRefusedForIt() throws {
    let result = try runBackprop(["bench", "xor", "--threads", "1"])
    let object =
      try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any]
    #expect(object?["optimizer"] as? String == "sgd" && object?["stop"] as? String == "completed")
    let adam = try runBackprop(["bench", "xor", "--optimizer", "adam"])
    #expect(adam.status != 0 && adam.standardError.contains("mlp and wide"))
  }

  /// `bench read` times loading a file as `train` loads it, and needs a file.
  @Test func readTimesLoadingAFile() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent(
      "bench-read-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    let csv = folder.appendingPathComponent("d.csv")
    try Data("a,b,y\n1,2,x\n3,4,z\n5,6,x\n".utf8).write(to: csv)
    let result = try runBackprop(["bench", "read", "--data", csv.path, "--target", "y"])
    #expect(result.status == 0, "\(result.standardError)")
    let object =
      try JSONSerialization.jsonObject(with: Data(result.standardOutput.utf8)) as? [String: Any]
    #expect(object?["samples"] as? Int == 3 && object?["features"] as? Int == 2)
    #expect(object?["file_bytes"] as? Int == 24 && object?["megabytes_per_second"] != nil)
    let missing = try runBackprop(["bench", "read"])
    #expect(missing.status != 0 && missing.standardError.contains("--data"))
  }
}
