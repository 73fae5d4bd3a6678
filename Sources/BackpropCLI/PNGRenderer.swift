import Backprop
import Foundation

/// Turns an ``SVGCanvas`` into PNG with a program that renders SVG, found at run time: librsvg's
/// `rsvg-convert` (0.04–0.09 s a picture, text included), else a headless Chromium (a second or
/// more). The core library draws SVG only; spawning a renderer is the command's side effect.
///
/// `BACKPROP_PNG_RENDERER` picks one (`rsvg-convert` or `chromium`); `BACKPROP_RSVG_CONVERT` and
/// `BACKPROP_CHROMIUM` give their paths; otherwise both are looked up on the `PATH`.
enum PNGRenderer: Equatable {
  /// librsvg's converter at the path.
  case rsvgConvert(String)
  /// A headless Chromium at the path.
  case chromium(String)

  /// The renderer the process's environment leads to, if any.
  static var installed: PNGRenderer? { find(in: ProcessInfo.processInfo.environment) }

  /// The renderer that `environment` leads to: the one `BACKPROP_PNG_RENDERER` names, or
  /// rsvg-convert, or Chromium, by their variables or on its `PATH`.
  static func find(in environment: [String: String]) -> PNGRenderer? {
    let directories = (environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
    func lookUp(_ variable: String, _ names: [String]) -> String? {
      if let given = environment[variable], !given.isEmpty { return given }
      for name in names {
        for directory in directories {
          let path = "\(directory)/\(name)"
          if FileManager.default.isExecutableFile(atPath: path) { return path }
        }
      }
      return nil
    }
    let rsvg = { lookUp("BACKPROP_RSVG_CONVERT", ["rsvg-convert"]).map(PNGRenderer.rsvgConvert) }
    let chromium = {
      lookUp(
        "BACKPROP_CHROMIUM",
        ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"]
      ).map(PNGRenderer.chromium)
    }
    switch environment["BACKPROP_PNG_RENDERER"] {
    case "rsvg-convert": return rsvg()
    case "chromium": return chromium()
    default: return rsvg() ?? chromium()
    }
  }

  /// The bytes of a picture file named `url`: SVG for `.svg`, PNG by the installed renderer for
  /// `.png`.
  ///
  /// - Throws: ``BackpropError/invalidArgument(name:detail:)`` for another name, and as
  ///   ``render(_:with:)``.
  static func fileData(of canvas: SVGCanvas, for url: URL) throws -> Data {
    switch url.pathExtension.lowercased() {
    case "svg": return try canvas.fileData(for: url)
    case "png": return try render(canvas, with: installed)
    default:
      throw BackpropError.invalidArgument(
        name: "picture file '\(url.lastPathComponent)'", detail: "the name must end in .svg or .png"
      )
    }
  }

  /// The PNG bytes of `canvas` at its own size.
  ///
  /// - Throws: ``BackpropError/invalidArgument(name:detail:)`` when no renderer is installed or
  ///   it fails to render.
  static func render(_ canvas: SVGCanvas, with renderer: PNGRenderer?) throws -> Data {
    switch renderer {
    case nil:
      throw BackpropError.invalidArgument(
        name: "PNG output",
        detail:
          "PNG needs librsvg's rsvg-convert or a headless Chromium, and neither was found "
          + "(install one with `apt install librsvg2-bin`); write .svg instead, which needs "
          + "nothing")
    case .rsvgConvert(let program):
      return try withScratchDirectory { directory in
        let picture = directory.appendingPathComponent("picture.svg")
        try Data(canvas.svg.utf8).write(to: picture)
        return try run(
          program,
          [
            "--format=png", "--width=\(Int(canvas.width))", "--height=\(Int(canvas.height))",
            picture.path,
          ])
      }
    case .chromium(let program):
      return try withScratchDirectory { try screenshot(canvas, browser: program, in: $0) }
    }
  }

  /// Runs `body` with a new temporary directory, removed afterwards.
  private static func withScratchDirectory<Result>(_ body: (URL) throws -> Result) throws
    -> Result
  {
    let directory = FileManager.default.temporaryDirectory
      .appendingPathComponent("backprop-png-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    return try body(directory)
  }

  /// Renders in Chromium: an HTML page with no margin shows the SVG at exactly the window's size.
  private static func screenshot(_ canvas: SVGCanvas, browser: String, in directory: URL) throws
    -> Data
  {
    let page = directory.appendingPathComponent("picture.html")
    let output = directory.appendingPathComponent("picture.png")
    let svg = canvas.svg.replacingOccurrences(
      of: "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", with: "")
    let html =
      "<!DOCTYPE html><html><head><style>html,body{margin:0;padding:0;overflow:hidden}"
      + "</style></head><body>\(svg)</body></html>"
    try Data(html.utf8).write(to: page)
    _ = try run(
      browser,
      [
        "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--mute-audio",
        "--user-data-dir=\(directory.path)/profile",
        "--window-size=\(Int(canvas.width)),\(Int(canvas.height))",
        "--screenshot=\(output.path)", page.absoluteString,
      ])
    guard let data = try? Data(contentsOf: output) else {
      throw BackpropError.invalidArgument(
        name: "PNG output", detail: "\(browser) exited without a picture")
    }
    return data
  }

  /// Runs `program`; returns its standard output.
  private static func run(_ program: String, _ arguments: [String]) throws -> Data {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: program)
    process.arguments = arguments
    let stdout = Pipe()
    process.standardInput = FileHandle.nullDevice
    process.standardOutput = stdout
    process.standardError = FileHandle.nullDevice
    do {
      try process.run()
    } catch {
      throw BackpropError.invalidArgument(
        name: "PNG output", detail: "cannot start \(program): \(error.localizedDescription)")
    }
    let output = stdout.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
      throw BackpropError.invalidArgument(
        name: "PNG output",
        detail: "\(program) exited with status \(process.terminationStatus) without a picture")
    }
    return output
  }
}
