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
/// read as `explain --check` reads it and compared with the worked example's step; or, when it
/// starts as a zip archive does ("P") or with a space (then JSON), a `backprop check` step file,
/// checked as a 2-layer network with softmax and cross-entropy and with a sigmoid and MSE.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> CInt {
  let first = count > 0 ? bytes[0] : 0
  let step = first == UInt8(ascii: "P") || first == UInt8(ascii: " ")
  let json = first & 1 == 1
  withScratchFile(fuzzData(bytes, count), ext: step ? "npz" : json ? "json" : "csv") { url in
    guard step else {
      _ = mazurTrace?.check(try ExplainCommand.readValues(url.path))
      return
    }
    let arrays = try ArrayStepCheck.arrays(contentsOf: url)
    for loss in [LossFunction.crossEntropy, .meanSquaredError] {
      let check = try? ArrayStepCheck(
        arrays: arrays, activations: ["tanh", loss == .crossEntropy ? "softmax" : "sigmoid"],
        loss: loss, learningRate: 0.1)
      _ = check?.description
      _ = try check?.json()
    }
  }
  return 0
}
