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
    func expectWholeSet(in directory: String, after kill: Int) throws {
      let modelData = try Data(contentsOf: URL(fileURLWithPath: directory + "/model.json"))
      #expect((try? JSONSerialization.jsonObject(with: modelData)) != nil, "kill \(kill): model")
      let weightsData = try Data(
        contentsOf: URL(fileURLWithPath: directory + "/weights.safetensors"))
      let headerLength = weightsData.prefix(8).enumerated().reduce(0) {
        $0 | Int($1.element) << (8 * $1.offset)
      }
      #expect(weightsData.count > 8 + headerLength, "kill \(kill): weights truncated")
      let lines = try String(contentsOfFile: directory + "/history.csv", encoding: .utf8)
        .split(separator: "\n")
      #expect(lines.count == 3, "kill \(kill): history has \(lines.count) lines")
    }

    let first = Date()
    #expect(try runBackprop(arguments(seed: 1)).status == 0)
    let duration = Date().timeIntervalSince(first)
    // The kills run in one shell, so that this process sees one child end, not dozens: the
    // snapshots of the files after each kill (modification times kept) are checked afterwards.
    let kills = 16
    let backprop = productsDirectory.appendingPathComponent("backprop").path
    var script = "set -u\n"
    for kill in 1...kills {
      let command = ([backprop] + arguments(seed: kill + 1)).map { "'\($0)'" }.joined(
        separator: " ")
      // Half the kills come at moments spread over a run; the other half as its files are
      // committed: a few milliseconds after the model's temporary file (staged last) appears.
      let wait =
        kill <= kills / 2
        ? "sleep \(String(format: "%.3f", duration * Double(kill) / Double(kills / 2)))"
        : "until ls -a '\(files.directory.path)' | grep -q \"model.json.tmp-$pid-\" "
          + "|| ! kill -0 $pid 2> /dev/null; do sleep 0.001; done; "
          + "sleep \(String(format: "%.4f", Double(kill - kills / 2 - 1) * 0.0005))"
      script += """
        mkdir -p '\(files.path("after-\(kill)"))'
        touch '\(files.path("after-\(kill)/started"))'
        sleep 0.01
        \(command) > /dev/null 2>&1 &
        pid=$!
        \(wait)
        kill -9 $pid 2> /dev/null
        wait $pid
        cp -p '\(model)' '\(weights)' '\(history)' '\(files.path("after-\(kill)"))/'

        """
    }
    let shell = Process()
    shell.executableURL = URL(fileURLWithPath: "/bin/sh")
    shell.arguments = ["-c", script]
    // The shell reports each kill; that is not the test's output.
    shell.standardOutput = FileHandle.nullDevice
    shell.standardError = FileHandle.nullDevice
    try shell.run()
    shell.waitUntilExit()
    for kill in 1...kills {
      let snapshot = files.path("after-\(kill)")
      let started = modified(snapshot + "/started")
      try expectWholeSet(in: snapshot, after: kill)
      if modified(snapshot + "/model.json") > started {
        #expect(
          modified(snapshot + "/weights.safetensors") > started
            && modified(snapshot + "/history.csv") > started,
          "kill \(kill): a new model with weights or history of an earlier run")
      }
    }
    #expect(try runBackprop(arguments(seed: 100)).status == 0)
    let left = try FileManager.default.contentsOfDirectory(atPath: files.directory.path)
      .filter { $0.contains(".tmp-") }
    #expect(left.isEmpty, "temporary files left: \(left)")
  }
}
