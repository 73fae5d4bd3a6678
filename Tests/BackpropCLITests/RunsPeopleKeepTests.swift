import Foundation
import Testing

/// `backprop train` as people keep runs: defaults that converge, regression in the targets'
/// units, `--resume`, `--checkpoint`, `--log-every`, per-layer activations and a summary of the
/// weights early stopping keeps.
@Suite("train: convergence, resume, checkpoints, logging, per-layer activations")
struct RunsPeopleKeepTests {
  let files: TestFiles

  init() throws { files = try TestFiles("runs") }

  func path(_ name: String) -> String { files.path(name) }

  /// A CSV of two features, a class (the sign of a·b) and a value far from 0 in large units.
  func writeData(rows: Int = 200) throws -> String {
    var generator = SplitMix(seed: 11)
    var lines = ["a,b,quadrant,price,coin"]
    for _ in 0..<rows {
      let a = generator.uniform() * 4 - 2
      let b = generator.uniform() * 4 - 2
      let coin = generator.uniform() < 0.5 ? "heads" : "tails"
      lines.append(
        "\(a),\(b),\(a * b > 0 ? "same" : "opposite"),\(5000 + 800 * a - 300 * b * b),\(coin)")
    }
    try (lines.joined(separator: "\n") + "\n").write(
      toFile: path("data.csv"), atomically: true, encoding: .utf8)
    return path("data.csv")
  }

  /// The `layers` of a model file: its weights, without the metadata and training state.
  func layers(_ name: String) throws -> String {
    let object = try JSONSerialization.jsonObject(
      with: Data(contentsOf: URL(fileURLWithPath: path(name))))
    let layers = (object as? [String: Any])?["layers"] ?? []
    return String(
      decoding: try JSONSerialization.data(withJSONObject: layers, options: .sortedKeys),
      as: UTF8.self)
  }

  func metadata(_ name: String) throws -> [String: String] {
    let object = try JSONSerialization.jsonObject(
      with: Data(contentsOf: URL(fileURLWithPath: path(name))))
    return ((object as? [String: Any])?["metadata"] as? [String: String]) ?? [:]
  }

  @Test func withoutEpochsTrainingRunsUntilTheLossStopsImprovingAndEpochsAreExact() throws {
    let data = try writeData()
    // A coin toss: nothing to learn, so the loss levels off at once.
    let converged = try runBackprop([
      "train", "--data", data, "--target", "coin", "--features", "a,b", "--layers", "4",
      "--learning-rate", "0.05", "--output", path("converged.json"),
    ])
    #expect(converged.status == 0, "\(converged.standardError)")
    #expect(converged.standardOutput.contains("epoch   1/200"))
    #expect(converged.standardOutput.contains("converged: no improvement since epoch"))
    let run = Int(try metadata("converged.json")["epochs-run"] ?? "") ?? 0
    #expect(run > 11 && run < 200)

    let exact = try runBackprop([
      "train", "--data", data, "--target", "quadrant", "--features", "a,b", "--epochs", "7",
      "--log-every", "3", "--output", path("exact.json"),
    ])
    #expect(exact.status == 0, "\(exact.standardError)")
    let lines = exact.standardOutput.split(separator: "\n").filter { $0.hasPrefix("epoch ") }
    #expect(
      lines.map { String($0.prefix(9)) } == ["epoch 1/7", "epoch 3/7", "epoch 6/7", "epoch 7/7"])
    #expect(try metadata("exact.json")["epochs-run"] == "7")
  }

  @Test func regressionTargetsAreStandardizedForTrainingAndPredictedInTheirUnits() throws {
    let data = try writeData()
    let train = try runBackprop([
      "train", "--data", data, "--target", "price", "--features", "a,b", "--layers", "16",
      "--epochs", "150", "--learning-rate", "0.01", "--quiet", "--output", path("price.json"),
    ])
    #expect(train.status == 0, "\(train.standardError)")
    let evaluate = try runBackprop(["evaluate", "--model", path("price.json"), "--data", data])
    let values = Dictionary(
      evaluate.standardOutput.split(separator: "\n").compactMap { line -> (String, Double)? in
        let parts = line.split(separator: ":", maxSplits: 1)
        guard parts.count == 2, let value = Double(parts[1].trimmingCharacters(in: .whitespaces))
        else { return nil }
        return (String(parts[0]), value)
      }, uniquingKeysWith: { $1 })
    #expect((values["r2"] ?? 0) > 0.95, "\(evaluate.standardOutput)")
    // MSE in the targets' units (prices vary by ~1000), the loss in standardized ones.
    #expect(
      (values["mse"] ?? 0) > 100 && (values["loss"] ?? 1) < 0.05, "\(evaluate.standardOutput)")
    let predict = try runBackprop(["predict", "--model", path("price.json"), "--data", data])
    let first = predict.standardOutput.split(separator: "\n").dropFirst().first.flatMap {
      Double($0)
    }
    #expect((first ?? 0) > 2000 && (first ?? 0) < 8000, "\(predict.standardOutput.prefix(80))")
    let info = try runBackprop(["info", path("price.json")])
    #expect(info.standardOutput.contains("target scaling: standardize"))
  }

  @Test func tenEpochsResumedForTenMoreAreTwentyEpochsBitForBit() throws {
    let data = try writeData()
    let common = [
      "--data", data, "--target", "quadrant", "--features", "a,b", "--layers", "8:tanh,6",
      "--dropout", "0.1", "--validation-split", "0.2", "--schedule", "plateau:2:0.5",
      "--seed", "5", "--quiet",
    ]
    for optimizer in [["--optimizer", "adam"], ["--optimizer", "sgd", "--momentum", "0.9"]] {
      let whole = try runBackprop(
        ["train"] + common + optimizer + [
          "--epochs", "20", "--output", path("whole.json"),
          "--history", path("whole.csv"),
        ])
      #expect(whole.status == 0, "\(whole.standardError)")
      let first = try runBackprop(
        ["train"] + common + optimizer + ["--epochs", "10", "--output", path("first.json")])
      #expect(first.status == 0, "\(first.standardError)")
      let resumed = try runBackprop([
        "train", "--resume", path("first.json"), "--epochs", "10", "--quiet",
        "--output", path("resumed.json"), "--history", path("resumed.csv"),
      ])
      #expect(resumed.status == 0, "\(resumed.standardError)")
      #expect(try layers("resumed.json") == layers("whole.json"), "\(optimizer)")
      #expect(
        try String(contentsOfFile: path("resumed.csv"), encoding: .utf8)
          == String(contentsOfFile: path("whole.csv"), encoding: .utf8))
      #expect(try metadata("resumed.json")["epochs-run"] == "20")
    }
    let info = try runBackprop(["info", path("whole.json")])
    #expect(info.standardOutput.contains("Tanh") && info.standardOutput.contains("ReLU"))
    let changed = try runBackprop([
      "train", "--resume", path("first.json"), "--layers", "3", "--epochs", "1",
    ])
    #expect(changed.status != 0 && changed.standardError.contains("--layers differs"))
    let finished = try runBackprop(["train", "--resume", path("whole.json")])
    #expect(finished.status != 0 && finished.standardError.contains("finished its 20 epochs"))
    try "{}".write(toFile: path("empty.json"), atomically: true, encoding: .utf8)
    let notAModel = try runBackprop(["train", "--resume", path("empty.json")])
    #expect(notAModel.status != 0 && notAModel.standardError.contains("empty.json"))
  }

  @Test func checkpointsKeepTheLastAndTheBestModel() throws {
    let data = try writeData()
    let run = try runBackprop([
      "train", "--data", data, "--target", "quadrant", "--features", "a,b", "--layers", "6",
      "--validation-split", "0.25", "--epochs", "9", "--checkpoint", path("checkpoints"),
      "--checkpoint-every", "4", "--quiet", "--output", path("final.json"),
      "--history", path("history.csv"),
    ])
    #expect(run.status == 0, "\(run.standardError)")
    let last = "checkpoints/last.json"
    let best = "checkpoints/best.json"
    #expect(try metadata(last)["epochs-run"] == "9")
    #expect(try layers(last) == layers("final.json"))
    // best.json holds the epoch with the lowest validation loss.
    let rows = try String(contentsOfFile: path("history.csv"), encoding: .utf8)
      .split(separator: "\n").dropFirst().map {
        $0.split(separator: ",").map { Double($0) ?? .nan }
      }
    let bestEpoch = rows.min { $0[3] < $1[3] }.map { Int($0[0]) } ?? 0
    #expect(try metadata(best)["epochs-run"] == String(bestEpoch))
    let resumed = try runBackprop([
      "train", "--resume", path(last), "--epochs", "2", "--quiet", "--output", path("more.json"),
    ])
    #expect(resumed.status == 0, "\(resumed.standardError)")
    #expect(try metadata("more.json")["epochs-run"] == "11")
    let orphan = try runBackprop([
      "train", "--data", data, "--target", "quadrant", "--checkpoint-every", "2", "--epochs", "1",
    ])
    #expect(orphan.status != 0 && orphan.standardError.contains("needs --checkpoint"))
  }

  @Test func theSummaryOfAnEarlyStoppedRunDescribesTheWeightsItKeeps() throws {
    let data = try writeData(rows: 120)
    let run = try runBackprop([
      "train", "--data", data, "--target", "quadrant", "--features", "a,b", "--layers", "32",
      "--learning-rate", "0.05", "--validation-split", "0.3", "--epochs", "200",
      "--early-stopping", "3", "--output", path("stopped.json"), "--history", path("history.csv"),
    ])
    #expect(run.status == 0, "\(run.standardError)")
    #expect(run.standardOutput.contains("stopped early; restored the weights of epoch"))
    let rows = try String(contentsOfFile: path("history.csv"), encoding: .utf8)
      .split(separator: "\n").dropFirst().map {
        $0.split(separator: ",").map { Double($0) ?? .nan }
      }
    let best = rows.min { $0[3] < $1[3] } ?? []
    #expect(rows.count < 200 && !best.isEmpty)
    let metadata = try metadata("stopped.json")
    // The validation figures are those of the best epoch, whose weights were restored, not the
    // last epoch's.
    #expect(abs((Double(metadata["final-val_loss"] ?? "") ?? .nan) - best[3]) < 1e-6)
    #expect(metadata["final-val_accuracy"].flatMap(Double.init) == best[4])
    #expect(rows.last?[3] != best[3])
  }

  @Test func classAndSampleWeightsWeighTheTrainingLoss() throws {
    var generator = SplitMix(seed: 5)
    var lines = ["a,b,w,label"]
    for index in 0..<90 {
      let a = generator.uniform() * 2 - 1
      let b = generator.uniform() * 2 - 1
      // One rare class in ten.
      lines.append("\(a),\(b),\(1 + index % 3),\(index % 10 == 0 ? "rare" : "common")")
    }
    try (lines.joined(separator: "\n") + "\n").write(
      toFile: path("weights.csv"), atomically: true, encoding: .utf8)
    func train(_ flags: [String], _ name: String) throws -> CommandResult {
      try runBackprop(
        [
          "train", "--data", path("weights.csv"), "--target", "label", "--epochs", "30", "--quiet",
          "--output", path(name),
        ] + flags)
    }
    let plain = try train([], "plain.json")
    let balanced = try train(["--class-weight", "balanced"], "balanced.json")
    let sampled = try train(["--sample-weight", "w"], "sampled.json")
    let both = try train(["--class-weight", "rare:9", "--sample-weight", "w"], "both.json")
    for result in [plain, balanced, sampled, both] {
      #expect(result.status == 0, "\(result.standardError)")
    }
    #expect(try layers("balanced.json") != layers("plain.json"))
    #expect(try layers("sampled.json") != layers("plain.json"))
    // The weight column is not a feature.
    let info = try runBackprop(["info", path("sampled.json")])
    #expect(info.standardOutput.contains("features (2): a, b"), "\(info.standardOutput)")
    #expect(
      try metadata("both.json")["specification"]?.contains("\"class-weight\":\"rare:9\"") == true)
    for (flags, message) in [
      (["--class-weight", "zebra:2"], "zebra"), (["--class-weight", "rare:-1"], "rare:-1"),
      (["--sample-weight", "nope"], "nope"), (["--sample-weight", "label"], "label"),
    ] {
      let result = try train(flags, "bad.json")
      #expect(
        result.status != 0 && result.standardError.contains(message),
        "\(flags): \(result.standardError)")
    }
  }

  @Test func badLayerAndScheduleTextIsAnErrorNamingIt() throws {
    let data = try writeData(rows: 20)
    for (flags, message) in [
      (["--layers", "8:swish"], "'8:swish'"), (["--layers", "8:"], "'8:'"),
      (["--schedule", "plateau:0"], "plateau"), (["--log-every", "0"], "--log-every"),
      (["--target-scale", "log"], "--target-scale"),
    ] {
      let result = try runBackprop(["train", "--data", data, "--target", "quadrant"] + flags)
      #expect(result.status != 0 && result.standardError.contains(message), "\(flags)")
    }
  }
}
