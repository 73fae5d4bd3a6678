@testable import BackpropCLI
import Foundation
import FuzzSupport

/// Spec files (YAML or JSON), then the checks `backprop train --spec` makes before training.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> CInt {
  withScratchFile(fuzzData(bytes, count), ext: "yaml") { url in
    let spec = try RunSpecification.load(from: url.path)
    _ = try TrainingRun(specification: spec)
  }
  return 0
}
