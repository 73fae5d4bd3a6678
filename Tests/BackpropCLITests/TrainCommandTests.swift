import Foundation
import Testing

/// `backprop train`, `evaluate`, `predict` and `info`, run as the built binary.
@Suite("train, evaluate, predict and info commands")
struct TrainCommandTests {
  let files: TestFiles

  init() throws { files = try TestFiles("cli") }

  func path(_ name: String) -> String { files.path(name) }

  /// A CSV of two numeric features, a text class (the sign of a + b) and a numeric target a − b.
  func writeFlowers() throws -> String {
    var generator = SplitMix(seed: 3)
    var lines = ["a,b,species,difference"]
    for _ in 0..<160 {
      let a = generator.uniform() * 4 - 2
      let b = generator.uniform() * 4 - 2
      lines.append("\(a),\(b),\(a + b > 0 ? "setosa" : "virginica"),\(a - b)")
    }
    try (lines.joined(separator: "\n") + "\n").write(
      toFile: path("flowers.csv"), atomically: true, encoding: .utf8)
    return path("flowers.csv")
  }

  @Test func trainEvaluatePredictAndInfoOnAClassifier() throws {
    let data = try writeFlowers()
    let train = try runBackprop([
      "train", "--data", data, "--target", "species", "--features", "a,b", "--layers", "8",
      "--epochs", "40",
      "--batch-size", "16", "--learning-rate", "0.02", "--validation-split", "0.25", "--seed", "2",
      "--output", path("model.json"), "--history", path("history.csv"),
      "--weights", path("weights.safetensors"),
    ])
    #expect(train.status == 0, "\(train.standardError)")
    // Not a terminal: one plain line per epoch, then the final metrics.
    #expect(train.standardOutput.contains("epoch  1/40  loss"))
    #expect(train.standardOutput.contains("epoch 40/40  loss"))
    #expect(train.standardOutput.contains("2 classes (setosa, virginica)"))
    #expect(!train.standardOutput.contains("\u{1B}["))
    let history = try String(contentsOfFile: path("history.csv"), encoding: .utf8)
    #expect(history.hasPrefix("epoch,loss,accuracy,val_loss,val_accuracy,learning_rate\n"))
    #expect(history.split(separator: "\n").count == 41)

    let evaluate = try runBackprop(["evaluate", "--model", path("model.json"), "--data", data])
    #expect(evaluate.status == 0, "\(evaluate.standardError)")
    let last = evaluate.standardOutput.split(separator: "\n").last.map(String.init) ?? ""
    #expect(last.hasPrefix("accuracy: "))
    #expect((Double(last.dropFirst("accuracy: ".count)) ?? 0) >= 0.9)
    #expect(evaluate.standardOutput.contains("confusion matrix"))

    let predict = try runBackprop([
      "predict", "--model", path("model.json"), "--data", data, "--output", path("predictions.csv"),
    ])
    #expect(predict.status == 0, "\(predict.standardError)")
    let predictions = try String(contentsOfFile: path("predictions.csv"), encoding: .utf8)
      .split(separator: "\n")
    #expect(predictions.first == "prediction,probability_setosa,probability_virginica")
    #expect(predictions.count == 161)
    let cells = predictions[1].split(separator: ",")
    #expect(["setosa", "virginica"].contains(String(cells[0])))
    #expect(abs((Double(cells[1]) ?? 0) + (Double(cells[2]) ?? 0) - 1) < 1e-5)

    let info = try runBackprop(["info", path("model.json")])
    #expect(info.standardOutput.contains("Linear(inputSize: 2, outputSize: 8, bias: true)"))
    #expect(info.standardOutput.contains("scaling: standardize"))
    #expect(info.standardOutput.contains("specification: {"))
    let weights = try runBackprop(["info", path("weights.safetensors")])
    #expect(weights.standardOutput.contains("0.weight  F32  [8, 2]"))
  }

  @Test func regressionPredictsValuesAndEvaluatesMSE() throws {
    let data = try writeFlowers()
    let train = try runBackprop([
      "train", "--data", data, "--target", "difference", "--features", "a,b", "--loss", "mse",
      "--layers", "",
      "--epochs", "60", "--learning-rate", "0.05", "--quiet", "--output", path("linear.json"),
    ])
    #expect(train.status == 0, "\(train.standardError)")
    #expect(!train.standardOutput.contains("epoch"))
    let evaluate = try runBackprop([
      "evaluate", "--model", path("linear.json"), "--data", data, "--target", "difference",
    ])
    let last = evaluate.standardOutput.split(separator: "\n").last.map(String.init) ?? ""
    #expect(last.hasPrefix("mse: "))
    // A linear model fits a − b almost exactly.
    #expect((Double(last.dropFirst("mse: ".count)) ?? 1) < 0.01)
    let predict = try runBackprop(["predict", "--model", path("linear.json"), "--data", data])
    #expect(predict.standardOutput.hasPrefix("prediction\n"))
  }

  @Test func aSpecFileDescribesTheRunAndFlagsOverrideIt() throws {
    let data = try writeFlowers()
    let spec = """
      data: \(data)
      target: species
      features: [a, b]
      layers: [4]
      epochs: 3
      seed: 9
      learning-rate: 0.01
      l1-penalty: 0.001
      """
    try spec.write(toFile: path("run.yaml"), atomically: true, encoding: .utf8)
    let first = try runBackprop([
      "train", "--spec", path("run.yaml"), "--epochs", "2", "--output", path("a.json"),
      "--save-spec", path("resolved.yaml"),
    ])
    #expect(first.status == 0, "\(first.standardError)")
    #expect(
      first.standardOutput.contains("epoch 2/2") && !first.standardOutput.contains("epoch 3/"))
    let resolved = try String(contentsOfFile: path("resolved.yaml"), encoding: .utf8)
    #expect(resolved.contains("epochs: 2") && resolved.contains("optimizer: adam"))
    #expect(resolved.contains("l1-penalty: 1e-3"))
    // The resolved spec repeats the run exactly.
    let again = try runBackprop([
      "train", "--spec", path("resolved.yaml"), "--output", path("b.json"),
    ])
    #expect(again.status == 0, "\(again.standardError)")
    #expect(
      try Data(contentsOf: files.directory.appendingPathComponent("a.json"))
        == Data(contentsOf: files.directory.appendingPathComponent("b.json")))

    try "data: \(data)\ntarget: species\nlearning_rate: 0.1\n".write(
      toFile: path("typo.yaml"), atomically: true, encoding: .utf8)
    let typo = try runBackprop(["train", "--spec", path("typo.yaml")])
    #expect(typo.status != 0 && typo.standardError.contains("unknown key learning_rate"))
    try "[1, 2".write(toFile: path("broken.json"), atomically: true, encoding: .utf8)
    let broken = try runBackprop(["train", "--spec", path("broken.json")])
    #expect(broken.status != 0 && broken.standardError.contains("broken.json"))
  }

  @Test func badInputGetsAClearErrorAndNoTrap() throws {
    let data = try writeFlowers()
    try "a,b,species\n1,2,x\n3,oops,y\n".write(
      toFile: path("bad.csv"), atomically: true, encoding: .utf8)
    let cases: [([String], String)] = [
      (["train", "--data", data, "--target", "kind"], "there is no column 'kind'"),
      (
        ["train", "--data", path("bad.csv"), "--target", "species"],
        "bad.csv, line 3, column 'b': 'oops' is not a number"
      ),
      (["train", "--data", path("missing.csv"), "--target", "species"], "cannot read the file"),
      (
        ["train", "--data", data, "--target", "species", "--layers", "8,-1"],
        "--layers takes positive sizes"
      ),
      (["train", "--data", data, "--target", "species", "--epochs", "0"], "--epochs must be in"),
      (["train", "--data", data, "--target", "species", "--loss", "hinge"], "loss 'hinge'"),
      (["train", "--data", data, "--target", "species", "--loss", "mse"], "column 'species'"),
      (["train", "--data", data, "--target", "difference"], "choose them with --features"),
      (
        ["train", "--data", data, "--target", "species", "--schedule", "linear"],
        "learning-rate schedule 'linear'"
      ),
      (["train", "--target", "species"], "--data FILE or --toy NAME"),
      (["evaluate", "--model", data, "--data", data], "not a Backprop model file"),
    ]
    for (arguments, message) in cases {
      let result = try runBackprop(arguments)
      #expect(result.status == 1, "\(arguments) exited \(result.status)")
      #expect(result.standardError.contains(message), "\(arguments): \(result.standardError)")
    }
  }

  @Test func divergenceStopsWithAMessageAndSavesTheLastGoodWeights() throws {
    let data = try writeFlowers()
    let result = try runBackprop([
      "train", "--data", data, "--target", "difference", "--features", "a,b", "--loss", "mse",
      "--optimizer", "sgd",
      "--learning-rate", "1e30", "--epochs", "5", "--quiet", "--output", path("diverged.json"),
    ])
    #expect(result.status == 1)
    #expect(result.standardError.contains("training diverged"))
    #expect(result.standardError.contains("the weights saved are the last good ones"))
    let info = try runBackprop(["info", path("diverged.json")])
    #expect(info.status == 0 && info.standardOutput.contains("stop-reason: diverged"))
  }

  @Test func toyDataTrainFromTheCommandLine() throws {
    let result = try runBackprop([
      "train", "--toy", "circles", "--samples", "200", "--noise", "0.05", "--layers", "8",
      "--activation", "tanh", "--epochs", "30", "--learning-rate", "0.03", "--history",
      path("h.json"),
    ])
    #expect(result.status == 0, "\(result.standardError)")
    let history = try String(contentsOfFile: path("h.json"), encoding: .utf8)
    #expect(history.contains("\"columns\"") && history.contains("\"completed\""))
  }
}

/// A tiny seeded generator for test data, independent of the library's.
struct SplitMix {
  var state: UInt64

  init(seed: UInt64) { state = seed }

  mutating func uniform() -> Double {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return Double((z ^ (z >> 31)) >> 11) * 0x1p-53
  }
}
