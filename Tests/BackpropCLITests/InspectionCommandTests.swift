import Foundation
import Testing

/// `backprop explain`, `gradcheck` and `doctor`, run as the built binary.
@Suite("explain, gradcheck and doctor commands")
struct InspectionCommandTests {
  let files: TestFiles

  init() throws { files = try TestFiles("inspect") }

  func path(_ name: String) -> String { files.path(name) }

  @Test func explainReproducesMazursWorkedExample() throws {
    let text = try runBackprop(["explain", "--demo", "mazur"])
    #expect(text.status == 0)
    for line in [
      "net_h1 = w1·i1 + w2·i2 + b_h1         = 0.3775",
      "out_h1 = σ(net_h1)                    = 0.593269992",
      "E_total = E_o1 + E_o2       = 0.298371109",
      "δ_o1             = ∂E_total/∂out_o1 · ∂out_o1/∂net_o1 = 0.138498562",
      "∂E_total/∂w5     = δ_o1 · out_h1                      = 0.0821670406",
      "∂E_total/∂out_h1 = δ_o1·w5 + δ_o2·w7                  = 0.0363503064",
      "w1⁺   = w1 − η·∂E_total/∂w1, η = 0.5 = 0.149780716",
      "w5⁺   = w5 − η·∂E_total/∂w5, η = 0.5 = 0.35891648",
    ] {
      #expect(text.standardOutput.contains(line), "missing: \(line)")
    }
    let markdown = try runBackprop(["explain", "--demo", "mazur", "--format", "markdown"])
    #expect(
      markdown.standardOutput.contains(
        "| δ_h1 | ∂E_total/∂out_h1 · ∂out_h1/∂net_h1 | 0.00877135469 |"))
    let json = try runBackprop(["explain", "--demo", "mazur", "--format", "json"])
    let object =
      try JSONSerialization.jsonObject(with: Data(json.standardOutput.utf8)) as? [String: Any]
    #expect((object?["quantities"] as? [Any])?.count == 71)
  }

  @Test func explainDrawsTheStepsComputationGraph() throws {
    let result = try runBackprop(["explain", "--demo", "mazur", "--graph", path("graph.svg")])
    #expect(result.status == 0 && result.standardOutput.contains("E_total = E_o1 + E_o2"))
    let svg = try String(contentsOfFile: path("graph.svg"), encoding: .utf8)
    for text in ["net_h = add", "out_o = sigmoid", "value 0.298371109", "W_o"] {
      #expect(svg.contains(text), "missing \(text)")
    }
  }

  @Test func checkNamesTheBugInAHandWrittenTraceAndPassesACorrectOne() throws {
    // What numpy code with the weights updated too early prints: ∂E/∂out_h1 from the new w5, w7.
    let buggy = """
      {"net_h1": 0.3775, "out_h1": 0.593269992, "out_o1": 0.75136507, "E_total": 0.298371109,
       "delta_o1": 0.138498562, "dE_dw5": 0.0821670406, "w5_new": 0.35891648,
       "dE_dout_h1": 0.03022974, "delta_h1": 0.007294458, "w1_new": 0.1498176}
      """
    try buggy.write(toFile: path("mine.json"), atomically: true, encoding: .utf8)
    let report = try runBackprop([
      "explain", "--demo", "mazur", "--check", path("mine.json"), "--tolerance", "1e-4",
    ])
    #expect(report.status == 1)
    #expect(report.standardOutput.contains("first disagreement: ∂E_total/∂out_h1 (dE_dout_h1)"))
    #expect(report.standardOutput.contains("likely bug: weights updated before they were used"))
    try "name,value\nnet_h1,0.3775\nout_h1,0.593269992\nw5_new,0.35891648\n"
      .write(toFile: path("good.csv"), atomically: true, encoding: .utf8)
    let good = try runBackprop(["explain", "--demo", "mazur", "--check", path("good.csv")])
    #expect(good.status == 0 && good.standardOutput.contains("all 3 given quantities agree"))
  }

  @Test func explainAModelOnDataAndGradcheckIt() throws {
    let train = try runBackprop([
      "train", "--toy", "blobs", "--samples", "60", "--layers", "12", "--activation", "tanh",
      "--epochs", "3", "--quiet", "--output", path("blobs.json"),
    ])
    #expect(train.status == 0, "\(train.standardError)")
    var lines = ["x0,x1,label"]
    for index in 0..<10 { lines.append("\(Double(index) - 5),\(Double(index % 3)),\(index % 3)") }
    try (lines.joined(separator: "\n") + "\n").write(
      toFile: path("blobs.csv"), atomically: true, encoding: .utf8)
    let explain = try runBackprop([
      "explain", "--model", path("blobs.json"), "--data", path("blobs.csv"), "--rows", "0,4",
      "--neurons", "h3",
    ])
    #expect(explain.status == 0, "\(explain.standardError)")
    #expect(explain.standardOutput.contains("2 samples, loss cross-entropy"))
    #expect(explain.standardOutput.contains("netInput of layer 1 (12 neurons)"))
    #expect(
      explain.standardOutput.contains("net_h3 ") && !explain.standardOutput.contains("net_h4 "))
    #expect(explain.standardOutput.contains("δ_o1             = (out_o1 − t_o1) / 2"))

    let check = try runBackprop([
      "gradcheck", "--model", path("blobs.json"), "--data", path("blobs.csv"),
    ])
    #expect(check.status == 0, "\(check.standardOutput)\(check.standardError)")
    #expect(check.standardOutput.contains("0.weight") && check.standardOutput.contains("pass"))
    #expect(check.standardOutput.contains("gradient check passed"))
    // An impossible tolerance makes it fail, with exit status 1.
    let strict = try runBackprop([
      "gradcheck", "--model", path("blobs.json"), "--data", path("blobs.csv"), "--relative", "0",
      "--absolute", "0",
    ])
    #expect(strict.status == 1 && strict.standardOutput.contains("FAIL"))
  }

  @Test func doctorFindsTooLittleCapacityAndATooSmallLearningRate() throws {
    let small = try runBackprop([
      "doctor", "--toy", "xor", "--samples", "200", "--noise", "0", "--layers", "1",
      "--activation", "tanh", "--learning-rate", "0.05", "--epochs", "40",
    ])
    #expect(small.status == 0, "\(small.standardError)")
    #expect(small.standardOutput.contains("too little capacity: 2-1-2 ends at"))
    let slow = try runBackprop([
      "doctor", "--toy", "moons", "--optimizer", "sgd", "--learning-rate", "0.00001",
    ])
    #expect(slow.standardOutput.contains("learning rate too low"))
    let healthy = try runBackprop([
      "doctor", "--toy", "moons", "--layers", "16", "--activation", "tanh", "--learning-rate",
      "0.01",
    ])
    #expect(healthy.standardOutput.contains("no problem found"), "\(healthy.standardOutput)")

    try "x,y\n1000,2\n2000,9\n3000,5\n4000,7\n".write(
      toFile: path("big.csv"), atomically: true, encoding: .utf8)
    let model = try runBackprop([
      "train", "--data", path("big.csv"), "--target", "y", "--scale", "none", "--epochs", "2",
      "--quiet", "--output", path("big.json"), "--history", path("big-history.csv"),
    ])
    #expect(model.status == 0, "\(model.standardError)")
    let finished = try runBackprop([
      "doctor", "--model", path("big.json"), "--data", path("big.csv"), "--history",
      path("big-history.csv"),
    ])
    #expect(finished.standardOutput.contains("unscaled inputs"), "\(finished.standardOutput)")
  }

  /// `backprop check` on a JSON step: Mazur's numbers pass; the same step with the output's
  /// update going uphill names wrong-sign and exits 1.
  @Test func checkNamesTheBugOfAHandWrittenStep() throws {
    func step(updated: String) -> String {
      #"{"X": [[0.05, 0.1]], "Y": [[0.01, 0.99]], "W1": [[0.15, 0.2], [0.25, 0.3]], "#
        + #""b1": [0.35, 0.35], "W2": [[0.4, 0.45], [0.5, 0.55]], "b2": [0.6, 0.6], "#
        + #""h": [[0.593269992, 0.596884378]], "W2_new": \#(updated)}"#
    }
    try step(updated: "[[0.35891648, 0.408666186], [0.51130127, 0.561370121]]")
      .write(toFile: path("step.json"), atomically: true, encoding: .utf8)
    let flags = [
      "--activations", "sigmoid,sigmoid", "--loss", "half-sum-of-squares", "--lr", "0.5",
    ]
    let good = try runBackprop(["check", path("step.json")] + flags)
    #expect(good.status == 0, "\(good.standardError)")
    #expect(good.standardOutput.contains("all 2 arrays agree"))
    #expect(good.standardOutput.contains("weights out×in"))
    try step(updated: "[[0.44108352, 0.491333814], [0.48869873, 0.538629879]]")
      .write(toFile: path("uphill.json"), atomically: true, encoding: .utf8)
    let bad = try runBackprop(["check", path("uphill.json")] + flags + ["--format", "json"])
    #expect(bad.status == 1)
    let object =
      try JSONSerialization.jsonObject(with: Data(bad.standardOutput.utf8)) as? [String: Any]
    let first = object?["first_mismatch"] as? [String: Any]
    #expect(first?["name"] as? String == "W2_new" && first?["bug"] as? String == "wrong-sign")
    let broken = try runBackprop(
      ["check", path("step.json"), "--activations", "sigmoid"] + flags.suffix(4))
    #expect(broken.status != 0 && broken.standardError.contains("1 given for 2 layers"))
  }
}
