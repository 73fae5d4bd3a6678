import Foundation
import Testing

/// `backprop export` and `backprop import`, run as the built binary.
@Suite("export and import commands")
struct InterchangeCommandTests {
  let files: TestFiles

  init() throws { files = try TestFiles("interchange") }

  func path(_ name: String) -> String { files.path(name) }

  func run(_ arguments: [String]) throws -> CommandResult {
    let result = try runBackprop(arguments)
    #expect(result.status == 0, "backprop \(arguments): \(result.standardError)")
    return result
  }

  /// A trained model goes out as ONNX and as weights with their metadata, and each comes back
  /// predicting exactly as the model did.
  @Test func aModelGoesOutAndComesBackTheSame() throws {
    let data = path("moons.csv")
    _ = try run([
      "train", "--toy", "moons", "--samples", "60", "--epochs", "5", "--layers", "6",
      "--output", path("m.json"), "--weights", path("w.safetensors"), "--quiet",
    ])
    var rows = ["x0,x1"]
    for index in 0..<20 { rows.append("\(Double(index) / 7 - 1),\(Double(index % 5) / 3)") }
    try (rows.joined(separator: "\n") + "\n").write(toFile: data, atomically: true, encoding: .utf8)
    let exported = try run(["export", "--model", path("m.json"), "--output", path("m.onnx")])
    #expect(exported.standardOutput.contains("ONNX opset 17"))
    _ = try run(["import", "--onnx", path("m.onnx"), "--output", path("from-onnx.json")])
    _ = try run(["import", "--weights", path("w.safetensors"), "--output", path("from-st.json")])
    func predictions(_ model: String) throws -> String {
      _ = try run(["predict", "--model", path(model), "--data", data, "--output", path("p.csv")])
      return try String(contentsOfFile: path("p.csv"), encoding: .utf8)
    }
    let original = try predictions("m.json")
    #expect(try predictions("from-onnx.json") == original)
    #expect(try predictions("from-st.json") == original)
  }

  @Test func badInputIsAnErrorNamingIt() throws {
    try Data("not a model".utf8).write(to: URL(fileURLWithPath: path("bad.onnx")))
    let bad = try runBackprop(["import", "--onnx", path("bad.onnx"), "--output", path("x.json")])
    #expect(bad.status == 1 && bad.standardError.contains("bad.onnx"))
    #expect(!FileManager.default.fileExists(atPath: path("x.json")))
    let both = try runBackprop([
      "import", "--onnx", path("bad.onnx"), "--weights", path("w.st"), "--output", path("x.json"),
    ])
    #expect(both.status != 0 && both.standardError.contains("give one of --weights"))
    let missing = try runBackprop(["export", "--model", path("none.json"), "--output", "m.onnx"])
    #expect(missing.status == 1 && missing.standardError.contains("none.json"))
  }
}
