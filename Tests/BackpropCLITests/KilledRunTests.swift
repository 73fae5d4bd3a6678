import Foundation
import Testing

/// `backprop train` killed with SIGKILL at moments spread over its run, as a crash or an
/// impatient user would: the files of the last complete run stay whole, a model present always
/// comes with the weights and history of its own run (the model is renamed last), and the next
/// run clears the temporary files the killed ones left.
@Suite("outputs of a killed run")
struct KilledRunTests {
  @Test func aKilledRunNeverLeavesAMixedOrPartialSet() throws {
    let files = try TestFiles("killed")
    let data = files.path("data.csv")
    let rows = (0..<1500).map { (row: Int) -> String in
      let features = (0..<60).map { (column: Int) -> String in
        String(Double((row * 31 + column * 17) % 97) / 97)
      }
      return features.joined(separator: ",") + ",\(row % 3)"
    }
    let header = (0..<60).map { "x\($0)" }.joined(separator: ",") + ",label"
    try ([header] + rows).joined(separator: "\n").write(
      toFile: data, atomically: true, encoding: .utf8)
    let (model, weights, history) = (
      files.path("model.json"), files.path("weights.safetensors"), files.path("history.csv")
    )
    func arguments(seed: Int) -> [String] {
      [
        "train", "--data", data, "--target", "label", "--loss", "cross-entropy", "--layers",
        "128,128", "--epochs", "2", "--seed", "\(seed)",
        "--output", model, "--weights", weights, "--history", history, "--quiet",
      ]
    }
    func modified(_ path: String) -> Date {
      (try? FileManager.default.attributesOfItem(atPath: path)[.modificationDate] as? Date)
        ?? .distantPast
    }
    func expectWholeSet(after kill: Int) throws {
      let modelData = try Data(contentsOf: URL(fileURLWithPath: model))
      #expect((try? JSONSerialization.jsonObject(with: modelData)) != nil, "kill \(kill): model")
      let weightsData = try Data(contentsOf: URL(fileURLWithPath: weights))
      let headerLength = weightsData.prefix(8).enumerated().reduce(0) {
        $0 | Int($1.element) << (8 * $1.offset)
      }
      #expect(weightsData.count > 8 + headerLength, "kill \(kill): weights truncated")
      let lines = try String(contentsOfFile: history, encoding: .utf8).split(separator: "\n")
      #expect(lines.count == 3, "kill \(kill): history has \(lines.count) lines")
    }

    let first = Date()
    #expect(try runBackprop(arguments(seed: 1)).status == 0)
    let duration = Date().timeIntervalSince(first)
    let kills = 16
    for kill in 1...kills {
      let started = Date()
      let process = Process()
      process.executableURL = productsDirectory.appendingPathComponent("backprop")
      process.arguments = arguments(seed: kill + 1)
      process.standardOutput = FileHandle.nullDevice
      process.standardError = FileHandle.nullDevice
      try process.run()
      Thread.sleep(forTimeInterval: duration * 1.2 * Double(kill) / Double(kills))
      Foundation.kill(process.processIdentifier, SIGKILL)
      process.waitUntilExit()
      try expectWholeSet(after: kill)
      if modified(model) > started {
        #expect(
          modified(weights) > started && modified(history) > started,
          "kill \(kill): a new model with weights or history of an earlier run")
      }
    }
    #expect(try runBackprop(arguments(seed: 100)).status == 0)
    let left = try FileManager.default.contentsOfDirectory(atPath: files.directory.path)
      .filter { $0.contains(".tmp-") }
    #expect(left.isEmpty, "temporary files left: \(left)")
  }
}
