import Backprop
import Foundation
import FuzzSupport

/// NumPy `.npy` files: the in-memory parser and the streaming reader `backprop train` uses.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> CInt {
  let data = fuzzData(bytes, count)
  _ = try? NumPyArray(data: data, source: "fuzz.npy")
  withScratchFile(data, ext: "npy") { url in
    _ = try NumPyArray.readTensor(contentsOf: url, as: Float.self)
  }
  return 0
}
