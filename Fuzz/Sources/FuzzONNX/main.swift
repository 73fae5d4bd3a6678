import Backprop
import BackpropONNX
import Foundation
import FuzzSupport

/// An ONNX file as `backprop import --onnx` reads it; a model it gives is exported again and
/// the export read back.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> CInt {
  guard let model = try? Model<Float>(onnxData: fuzzData(bytes, count), source: "fuzz.onnx"),
    let exported = try? model.onnxData()
  else { return 0 }
  _ = try? Model<Float>(onnxData: exported, source: "exported.onnx")
  return 0
}
