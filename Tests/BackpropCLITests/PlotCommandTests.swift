import Foundation
import Testing

/// Whether a headless Chromium is installed (`Scripts/test` installs one).
let chromiumInstalled = ["chromium", "chromium-browser", "google-chrome"].contains { name in
  (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":").contains {
    FileManager.default.isExecutableFile(atPath: "\($0)/\(name)")
  }
}

/// `backprop plot …`, `train --plots` and `demo --plots`, run as the built binary.
@Suite("plot command and the pictures of train and demo")
struct PlotCommandTests {
  let files: TestFiles

  init() throws { files = try TestFiles("plot") }

  func path(_ name: String) -> String { files.path(name) }

  func contents(_ name: String) throws -> String {
    try String(contentsOfFile: path(name), encoding: .utf8)
  }

  @Test func trainWritesItsPicturesAndPlotRedrawsThem() throws {
    let train = try runBackprop([
      "train", "--toy", "moons", "--samples", "200", "--layers", "8", "--epochs", "12",
      "--learning-rate", "0.02", "--validation-split", "0.2", "--quiet", "--plots", path("plots"),
      "--snapshot-every", "4",
      "--output", path("model.json"), "--history", path("history.csv"),
    ])
    #expect(train.status == 0, "\(train.standardError)")
    let written = try FileManager.default.contentsOfDirectory(atPath: path("plots")).sorted()
    #expect(
      written == [
        "accuracy.svg", "boundary-snapshots.svg", "boundary.svg", "loss.svg", "network.svg",
      ])
    let snapshots = try contents("plots/boundary-snapshots.svg")
    #expect(
      ["epoch 1<", "epoch 5<", "epoch 9<", "epoch 12<"].allSatisfy { snapshots.contains($0) })
    #expect(!snapshots.contains("epoch 2<"))

    let loss = try runBackprop([
      "plot", "loss", "--history", path("history.csv"), "--output", path("loss.svg"),
    ])
    #expect(loss.status == 0, "\(loss.standardError)")
    #expect(try contents("loss.svg").contains("curve-val_loss"))
    let boundary = try runBackprop([
      "plot", "boundary", "--model", path("model.json"), "--data", path("plots/../model.json"),
      "--output", path("boundary.svg"),
    ])
    #expect(boundary.status == 1)
    let network = try runBackprop([
      "plot", "network", "--model", path("model.json"), "--output", path("network.svg"),
    ])
    let networkSVG = try contents("network.svg")
    #expect(network.status == 0 && networkSVG.contains("class='edge'"))
    let missing = try runBackprop([
      "plot", "network", "--model", path("model.json"), "--edges", "gradients", "--output",
      path("g.svg"),
    ])
    #expect(missing.status == 1 && missing.standardError.contains("--edges gradients needs --data"))
    let badName = try runBackprop([
      "plot", "network", "--model", path("model.json"), "--output", path("n.gif"),
    ])
    #expect(badName.status == 1 && badName.standardError.contains(".svg or .png"))
  }

  @Test func boundaryAndFitFromCSVData() throws {
    var lines = ["u,v,kind,w"]
    for index in 0..<80 {
      let u = Double(index % 9) / 4 - 1
      let v = Double(index % 7) / 3 - 1
      lines.append("\(u),\(v),\(u > v ? "left" : "right"),\(u * u)")
    }
    try (lines.joined(separator: "\n") + "\n").write(
      toFile: path("d.csv"), atomically: true, encoding: .utf8)
    let classifier = try runBackprop([
      "train", "--data", path("d.csv"), "--target", "kind", "--features", "u,v", "--epochs", "5",
      "--quiet", "--output", path("c.json"),
    ])
    #expect(classifier.status == 0, "\(classifier.standardError)")
    let boundary = try runBackprop([
      "plot", "boundary", "--model", path("c.json"), "--data", path("d.csv"), "--resolution", "30",
      "--output", path("b.svg"),
    ])
    #expect(boundary.status == 0, "\(boundary.standardError)")
    let boundarySVG = try contents("b.svg")
    #expect(boundarySVG.contains("point point-1") && boundarySVG.contains("right"))
    // --raster: one PNG image inside the SVG instead of rectangles, 160 pixels a side.
    let raster = try runBackprop([
      "plot", "boundary", "--model", path("c.json"), "--data", path("d.csv"), "--raster",
      "--output", path("raster.svg"),
    ])
    #expect(raster.status == 0, "\(raster.standardError)")
    let rasterSVG = try contents("raster.svg")
    #expect(rasterSVG.contains("<image") && rasterSVG.contains("data:image/png;base64,"))
    #expect(!rasterSVG.contains("class='region ") && rasterSVG.contains("point point-1"))
    let plane = try runBackprop([
      "train", "--data", path("d.csv"), "--target", "w", "--features", "u,v", "--loss", "mse",
      "--epochs", "5", "--quiet", "--output", path("plane.json"),
    ])
    #expect(plane.status == 0, "\(plane.standardError)")
    let map = try runBackprop([
      "plot", "boundary", "--model", path("plane.json"), "--data", path("d.csv"),
      "--output", path("map.svg"),
    ])
    #expect(map.status == 0, "\(map.standardError)")
    #expect(try contents("map.svg").contains("class='regions'"))
    let regressor = try runBackprop([
      "train", "--data", path("d.csv"), "--target", "w", "--features", "u", "--loss", "mse",
      "--epochs", "5", "--quiet", "--output", path("r.json"), "--plots", path("rplots"),
    ])
    #expect(regressor.status == 0, "\(regressor.standardError)")
    #expect(FileManager.default.fileExists(atPath: path("rplots/fit.svg")))
    let fit = try runBackprop([
      "plot", "fit", "--model", path("r.json"), "--data", path("d.csv"), "--output", path("f.svg"),
    ])
    let fitSVG = try contents("f.svg")
    #expect(fit.status == 0 && fitSVG.contains("curve-prediction"))
    let wrong = try runBackprop([
      "plot", "fit", "--model", path("c.json"), "--data", path("d.csv"), "--output", path("x.svg"),
    ])
    #expect(wrong.status == 1 && wrong.standardError.contains("one numeric target"))
  }

  @Test func demosWriteThePicturesOfTheirRun() throws {
    let result = try runBackprop(["demo", "xor", "--epochs", "50", "--plots", path("xor")])
    #expect(result.status == 0, "\(result.standardError)")
    #expect(result.standardOutput.contains("wrote loss.svg, network.svg, boundary.svg"))
    #expect(try contents("xor/boundary.svg").contains("region"))
  }

  /// PNG comes from rsvg-convert, or Chromium when asked for (or when rsvg-convert is missing),
  /// at the picture's size; with neither, the message says what to install.
  @Test(
    .enabled(if: chromiumInstalled && rsvgConvertInstalled, "needs Chromium and rsvg-convert"),
    arguments: ["rsvg-convert", "chromium"])
  func pngIsRenderedByEitherProgram(renderer: String) throws {
    try "epoch,loss\n1,0.5\n2,0.25\n".write(
      toFile: path("h.csv"), atomically: true, encoding: .utf8)
    let png = try runBackprop(
      ["plot", "loss", "--history", path("h.csv"), "--output", path("loss-\(renderer).png")],
      environment: ["BACKPROP_PNG_RENDERER": renderer])
    #expect(png.status == 0, "\(png.standardError)")
    let bytes = try Data(contentsOf: files.directory.appendingPathComponent("loss-\(renderer).png"))
    #expect(bytes.prefix(8) == Data([0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]))
    // The IHDR chunk: 800 × 600.
    #expect(bytes[16..<24] == Data([0, 0, 3, 0x20, 0, 0, 2, 0x58]))
    let none = try runBackprop(
      ["plot", "loss", "--history", path("h.csv"), "--output", path("none.png")],
      environment: ["BACKPROP_PNG_RENDERER": renderer, "PATH": "/nonexistent"])
    #expect(none.status == 1 && none.standardError.contains("apt install librsvg2-bin"))
    #expect(none.standardError.contains("write .svg instead"))
  }
}

/// Whether librsvg's rsvg-convert is installed (`Scripts/test` installs it).
let rsvgConvertInstalled = (ProcessInfo.processInfo.environment["PATH"] ?? "").split(
  separator: ":"
).contains { FileManager.default.isExecutableFile(atPath: "\($0)/rsvg-convert") }
