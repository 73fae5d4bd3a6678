import Foundation
import Testing

/// The result of running the built `backprop` executable.
struct CommandResult {
  var status: Int32
  var standardOutput: String
  var standardError: String
}

/// The directory that holds the built products: next to the test executable (Linux) or the test
/// bundle (macOS).
let productsDirectory: URL = {
  if let bundle = Bundle.allBundles.first(where: { $0.bundlePath.hasSuffix(".xctest") }) {
    return bundle.bundleURL.deletingLastPathComponent()
  }
  return URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
}()

/// Runs `backprop` with `arguments` and collects its output; `environment` is added to the test
/// process's own.
func runBackprop(_ arguments: [String], environment: [String: String] = [:]) throws
  -> CommandResult
{
  let process = Process()
  process.executableURL = productsDirectory.appendingPathComponent("backprop")
  process.arguments = arguments
  process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
  let output = Pipe()
  let error = Pipe()
  process.standardOutput = output
  process.standardError = error
  try process.run()
  // Read before waiting, so a full pipe cannot block the child.
  let outputData = output.fileHandleForReading.readDataToEndOfFile()
  let errorData = error.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  return CommandResult(
    status: process.terminationStatus,
    standardOutput: String(decoding: outputData, as: UTF8.self),
    standardError: String(decoding: errorData, as: UTF8.self))
}

/// A fresh temporary directory for one test's files.
struct TestFiles {
  let directory: URL

  /// Creates `backprop-<name>-<UUID>` in the temporary directory.
  init(_ name: String) throws {
    directory = FileManager.default.temporaryDirectory
      .appendingPathComponent("backprop-\(name)-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
  }

  /// The path of `name` in the directory.
  func path(_ name: String) -> String { directory.appendingPathComponent(name).path }
}
