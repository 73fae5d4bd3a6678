import Backprop
@testable import BackpropCLI
import Foundation
import FuzzSupport

/// The step of Mazur's worked example that `explain --demo mazur --check` compares with.
let mazurTrace: StepTrace? = {
  guard let example = try? Demo.mazurExample() else { return nil }
  return try? StepTrace(
    network: example.network, input: example.input, target: example.target, loss: example.loss,
    learningRate: example.learningRate)
}()

/// A `--check` file of hand-written values, JSON or CSV as the first byte's lowest bit says,
/// read as `explain --check` reads it and compared with the worked example's step.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> CInt {
  let json = count > 0 && bytes[0] & 1 == 1
  withScratchFile(fuzzData(bytes, count), ext: json ? "json" : "csv") { url in
    let values = try ExplainCommand.readValues(url.path)
    _ = mazurTrace?.check(values)
  }
  return 0
}
