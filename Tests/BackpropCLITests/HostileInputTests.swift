import Foundation
import Testing

/// The reproductions of the hardening campaign (issue 22's table) fed to the built binary: each
/// is a clean error naming the problem, with exit status 1, never a trap or a NaN result.
@Suite("hostile input through the commands")
struct HostileInputTests {
  let files: TestFiles

  init() throws { files = try TestFiles("hostile") }

  func path(_ name: String) -> String { files.path(name) }

  /// Runs `arguments` and expects exit status 1 with every one of `messages` on standard error.
  func expectCleanFailure(_ arguments: [String], _ messages: String...) throws {
    let result = try runBackprop(arguments)
    #expect(result.status == 1, "\(arguments) exited \(result.status): \(result.standardError)")
    for message in messages {
      #expect(result.standardError.contains(message), "\(arguments): \(result.standardError)")
    }
  }

  /// D1: a gzip IDX file whose header's extra field runs past the end of the file.
  @Test func aGzipHeaderRunningPastTheEnd() throws {
    let images = path("d1-images-idx3-ubyte.gz")
    try Data([0x1f, 0x8b, 8, 0x04 | 0x08, 0, 0, 0, 0, 0, 3, 0xff, 0xff, 1, 2])
      .write(to: URL(fileURLWithPath: images))
    try expectCleanFailure(
      ["train", "--data", images, "--labels", images, "--quiet"], "d1-images-idx3-ubyte.gz, byte",
      "truncated")
  }

  /// A trained two-feature, three-class model as JSON, and a CSV of rows to predict.
  func trainedModel() throws -> (model: [String: Any], rows: String) {
    let model = path("model.json")
    let train = try runBackprop([
      "train", "--toy", "blobs", "--samples", "60", "--layers", "3", "--epochs", "2", "--quiet",
      "--output", model,
    ])
    #expect(train.status == 0, "\(train.standardError)")
    let rows = path("rows.csv")
    try "x0,x1\n1,2\n-3,0.5\n".write(toFile: rows, atomically: true, encoding: .utf8)
    let object = try JSONSerialization.jsonObject(
      with: Data(contentsOf: URL(fileURLWithPath: model)))
    return (try #require(object as? [String: Any]), rows)
  }

  /// Writes `model` changed by `edit` and runs predict on it.
  func predict(
    _ model: [String: Any], _ rows: String, editing edit: (inout [String: Any]) -> Void
  ) throws -> [String] {
    var changed = model
    edit(&changed)
    let file = path("changed-\(UUID().uuidString).json")
    try JSONSerialization.data(withJSONObject: changed).write(to: URL(fileURLWithPath: file))
    return ["predict", "--model", file, "--data", rows]
  }

  /// D3, D4, D5, D6: model files that decode but break the checks a model built in code gets.
  @Test func modelFilesAreHeldToTheChecksOfCode() throws {
    let (model, rows) = try trainedModel()
    var scaling = try #require(model["scaling"] as? [String: Any])
    // D3: fewer scales than offsets; a scale of 0.
    scaling["scales"] = [1.0]
    try expectCleanFailure(
      try predict(model, rows) { $0["scaling"] = scaling }, "feature scaling",
      "2 offsets and 1 scales must match")
    scaling["scales"] = [0.0, 1.0]
    try expectCleanFailure(
      try predict(model, rows) { $0["scaling"] = scaling }, "scales finite and non-zero")
    // D4: the same class name twice.
    try expectCleanFailure(
      try predict(model, rows) {
        $0["target"] = ["classification": ["column": "label", "classNames": ["a", "b", "a"]]]
      }, "the class names [\"a\"] repeat")
    // D5: no Linear layer and one class; an unknown scalar type.
    try expectCleanFailure(
      try predict(model, rows) {
        $0["layers"] = [["type": "relu"]]
        $0["target"] = ["classification": ["column": "label", "classNames": ["only"]]]
      }, "the network gives 2 outputs but the target has 1")
    try expectCleanFailure(
      try predict(model, rows) { $0["scalarType"] = "float02" }, "'float02' is neither")
    // D6: finite weights so large that the outputs overflow.
    try expectCleanFailure(
      try predict(model, rows) {
        var layers = $0["layers"] as? [[String: Any]] ?? []
        layers[0]["weights"] = Array(repeating: [3e38, 3e38], count: 3)
        $0["layers"] = layers
      }, "prediction for row 0", "not a finite number")
  }

  /// A process that mpirun's environment names one of several ranks, without libmpi to join
  /// them, says so and writes nothing.
  @Test func aRankWithoutMPIIsRefused() throws {
    let output = path("rank.json")
    let result = try runBackprop(
      ["train", "--toy", "xor", "--epochs", "1", "--output", output],
      environment: ["OMPI_COMM_WORLD_SIZE": "2", "BACKPROP_MPI_LIBRARY": path("no-libmpi.so")])
    #expect(result.status == 1)
    #expect(result.standardError.contains("started by mpirun as one of 2 ranks"))
    #expect(result.standardError.contains("libmpi could not be loaded"))
    #expect(!FileManager.default.fileExists(atPath: output))
  }

  /// D8 and D9: a network too large for the machine's memory, and real-valued flags that are NaN
  /// or out of range, refused before anything is trained or allocated.
  @Test func absurdSizesAndNaNFlagsAreRefusedFirst() throws {
    let run = ["train", "--toy", "xor", "--epochs", "1", "--quiet"]
    try expectCleanFailure(
      run + ["--layers", "100000,100000,100000"], "20000700002 parameters", "GB")
    for flag in ["--dropout", "--momentum", "--learning-rate", "--weight-decay", "--l1-penalty"] {
      try expectCleanFailure(run + [flag, "nan"], "\(flag) must be a finite number", "(got nan)")
    }
    try expectCleanFailure(run + ["--dropout=-0.5"], "--dropout must be a finite number in [0, 1)")
  }

  /// D10: an output that is not a regular file is refused before training; one reached through
  /// a symbolic link replaces the link's target and leaves the link.
  @Test func outputsReplaceOnlyRegularFiles() throws {
    let run = ["train", "--toy", "xor", "--epochs", "1", "--quiet"]
    try FileManager.default.createDirectory(
      atPath: path("a-directory"), withIntermediateDirectories: true)
    for target in ["/dev/null", path("a-directory")] {
      try expectCleanFailure(run + ["--output", target], target, "not a regular file")
    }
    try expectCleanFailure(run + ["--history", "/dev/null"], "/dev/null", "not a regular file")
    try "old".write(toFile: path("real.json"), atomically: true, encoding: .utf8)
    try FileManager.default.createSymbolicLink(
      atPath: path("link.json"), withDestinationPath: path("real.json"))
    #expect(try runBackprop(run + ["--output", path("link.json")]).status == 0)
    let link = try FileManager.default.destinationOfSymbolicLink(atPath: path("link.json"))
    #expect(link == path("real.json"))
    #expect(
      try String(contentsOfFile: path("real.json"), encoding: .utf8).contains("backprop-model"))
  }

  /// A file whose target has one class trains nothing: refused before training.
  @Test func aSingleClassIsRefused() throws {
    try "a,c\n1,x\n3,x\n5,x\n".write(toFile: path("one.csv"), atomically: true, encoding: .utf8)
    try expectCleanFailure(
      ["train", "--data", path("one.csv"), "--target", "c", "--quiet"], "1 class ('x')",
      "at least 2")
  }

  /// Found by the fuzzer: YAML 1.1 reads 7:8:8:… as a base-60 number, which Yams computed in
  /// overflowing Int arithmetic (a trap). Such an unquoted spec value is now an error.
  @Test func aBase60NumberInASpecIsAnError() throws {
    for text in ["7:8:8:8:7:8:8:7:8:7:8:8:7:8:8", "toy: xor\nepochs: 1:30\n"] {
      try text.write(toFile: path("spec.yaml"), atomically: true, encoding: .utf8)
      try expectCleanFailure(
        ["train", "--spec", path("spec.yaml"), "--quiet"], "spec.yaml", "base-60 number")
    }
  }

  /// The campaign's second Yams trap: a mapping key that is not text.
  @Test func aKeyThatIsNotTextIsAnError() throws {
    for text in ["toy: blobs\n? [a, b]\n: 1\n", "? {toy: xor}\n: 2\n", "a: &k x\n? *k\n: 1\n"] {
      try text.write(toFile: path("spec.yaml"), atomically: true, encoding: .utf8)
      let result = try runBackprop(["train", "--spec", path("spec.yaml"), "--quiet"])
      #expect(result.status == 1, "\(text): exit \(result.status)")
      #expect(result.standardError.contains("spec.yaml"), "\(text): \(result.standardError)")
    }
  }
}
