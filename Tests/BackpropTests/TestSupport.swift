import Backprop
import Foundation
import Testing

/// Expects `body` to throw a ``BackpropError`` whose message contains every one of `fragments`.
func expectError(
  containing fragments: String..., sourceLocation: SourceLocation = #_sourceLocation,
  _ body: () throws -> Void
) {
  do {
    try body()
    Issue.record("expected an error containing \(fragments)", sourceLocation: sourceLocation)
  } catch let error as BackpropError {
    for fragment in fragments {
      #expect(
        error.description.contains(fragment), "\(error.description) lacks \(fragment)",
        sourceLocation: sourceLocation)
    }
  } catch {
    Issue.record("expected a BackpropError, got \(error)", sourceLocation: sourceLocation)
  }
}

/// Whether two arrays agree elementwise within `tolerance · max(1, |a|, |b|)`, as
/// ``Tensor/isApproximatelyEqual(to:tolerance:)`` decides.
func approximatelyEqual<S: TensorScalar>(_ a: [S], _ b: [S], tolerance: S) -> Bool {
  Tensor(a).isApproximatelyEqual(to: Tensor(b), tolerance: tolerance)
}

/// A tensor of seeded values uniform in [low, high).
func randomTensor<S: TensorScalar>(
  _ shape: [Int], _ generator: inout RandomGenerator, low: Double = -1, high: Double = 1
) throws -> Tensor<S> {
  try Tensor(
    shape: shape,
    scalars: (0..<shape.reduce(1, *)).map { _ in S(generator.uniform(low: low, high: high)) })
}

/// A new empty directory for one test's files.
func temporaryDirectory() throws -> URL {
  let url = FileManager.default.temporaryDirectory
    .appendingPathComponent("backprop-tests-\(UUID().uuidString)")
  try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  return url
}

/// The Python interpreter with numpy and safetensors that `Scripts/python-env` sets up, when the
/// test run was given one (`Scripts/test` does); the cross-checks with Python need it.
let testPython: String? = ProcessInfo.processInfo.environment["BACKPROP_TEST_PYTHON"]

/// Runs `script` with the test Python and `arguments`; returns its standard output.
func runPython(_ script: String, _ arguments: [String] = []) throws -> String {
  let process = Process()
  process.executableURL = URL(fileURLWithPath: testPython ?? "/usr/bin/python3")
  process.arguments = ["-c", script] + arguments
  let output = Pipe()
  process.standardOutput = output
  try process.run()
  let data = output.fileHandleForReading.readDataToEndOfFile()
  process.waitUntilExit()
  #expect(process.terminationStatus == 0, "python failed: \(script)")
  return String(decoding: data, as: UTF8.self)
}

/// Serializes the tests that change or depend on the global kernel settings (instruction set,
/// threads, BLAS), which other suites would otherwise change under them.
private let kernelSettingsLock = NSLock()

/// Runs `body` with the given kernel settings (nil leaves one as it is), holding the settings
/// lock, and restores them afterwards.
func withKernelSettings<T>(
  level: Kernels.InstructionSet? = nil, threads: Int? = nil, blas: Bool? = nil,
  _ body: () throws -> T
) rethrows -> T {
  kernelSettingsLock.lock()
  let saved = (Kernels.instructionSet, Kernels.threadCount, Kernels.usesBLAS)
  defer {
    (Kernels.instructionSet, Kernels.threadCount, Kernels.usesBLAS) = saved
    kernelSettingsLock.unlock()
  }
  if let level { Kernels.instructionSet = level }
  if let threads { Kernels.threadCount = threads }
  if let blas { Kernels.usesBLAS = blas }
  return try body()
}
