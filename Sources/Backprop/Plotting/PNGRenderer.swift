import Foundation

/// Turns an ``SVGCanvas`` into PNG with a headless Chromium, when one is installed.
///
/// Why Chromium: a faithful SVG rasterizer (text shaping, fonts, anti-aliasing) is a large
/// program; writing one would be worse than any browser's, and linking a library (librsvg,
/// cairo) would give the core a dependency. Chromium is optional and looked up at run time
/// (`BACKPROP_CHROMIUM`, then `chromium`, `chromium-browser`, `google-chrome` on the `PATH`):
/// without it SVG works as before and PNG fails with a message saying what to install.
public enum PNGRenderer {
  /// The browser executable that will render, if any.
  public static var browser: String? { browser(in: ProcessInfo.processInfo.environment) }

  /// The browser that `environment` (its `BACKPROP_CHROMIUM` and `PATH`) leads to.
  static func browser(in environment: [String: String]) -> String? {
    if let given = environment["BACKPROP_CHROMIUM"], !given.isEmpty { return given }
    let directories = (environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
    for name in ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"] {
      for directory in directories {
        let path = "\(directory)/\(name)"
        if FileManager.default.isExecutableFile(atPath: path) { return path }
      }
    }
    return nil
  }

  /// The PNG bytes of `canvas` at its own size.
  ///
  /// - Throws: ``BackpropError/invalidArgument(name:detail:)`` when no browser is installed or
  ///   it fails to render.
  public static func render(_ canvas: SVGCanvas) throws -> Data {
    try render(canvas, browser: browser)
  }

  static func render(_ canvas: SVGCanvas, browser: String?) throws -> Data {
    guard let browser else {
      throw BackpropError.invalidArgument(
        name: "PNG output",
        detail:
          "PNG needs a headless Chromium, and none was found (install it with `apt install "
          + "chromium` or set BACKPROP_CHROMIUM); write .svg instead, which needs nothing")
    }
    let directory = FileManager.default.temporaryDirectory
      .appendingPathComponent("backprop-png-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    let page = directory.appendingPathComponent("picture.html")
    let output = directory.appendingPathComponent("picture.png")
    // An HTML page with no margin shows the SVG at exactly the window's size.
    let html =
      "<!DOCTYPE html><html><head><style>html,body{margin:0;padding:0;overflow:hidden}"
      + "</style></head><body>\(canvas.svg.replacingOccurrences(of: "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n", with: ""))</body></html>"
    try Data(html.utf8).write(to: page)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: browser)
    process.arguments = [
      "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--mute-audio",
      "--user-data-dir=\(directory.path)/profile",
      "--window-size=\(Int(canvas.width)),\(Int(canvas.height))",
      "--screenshot=\(output.path)", page.absoluteString,
    ]
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    do {
      try process.run()
    } catch {
      throw BackpropError.invalidArgument(
        name: "PNG output", detail: "cannot start \(browser): \(error.localizedDescription)")
    }
    process.waitUntilExit()
    guard process.terminationStatus == 0, let data = try? Data(contentsOf: output) else {
      throw BackpropError.invalidArgument(
        name: "PNG output",
        detail: "\(browser) exited with status \(process.terminationStatus) without a picture")
    }
    return data
  }
}
