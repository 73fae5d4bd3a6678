import Backprop
import Foundation
import FuzzSupport

/// Model files (JSON), then a prediction on a row of ones, as `backprop predict` makes it.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> CInt {
  guard let model = try? Model<Float>(jsonData: fuzzData(bytes, count), source: "fuzz.json"),
    model.featureNames.count <= 4096,
    let row = try? Tensor<Float>(shape: [1, model.featureNames.count], repeating: 1)
  else { return 0 }
  _ = model.summary
  if let output = try? model.predict(row), model.targetKind.classNames != nil {
    _ = try? Model<Float>.predictedClasses(output)
  }
  return 0
}
