import Backprop
import Foundation
import FuzzSupport

/// IDX files as MNIST ships them, plain or gzip-compressed, read from a file as users read them.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> CInt {
  let data = fuzzData(bytes, count)
  _ = try? IDXFile(data: data, source: "fuzz.idx")
  withScratchFile(data, ext: "gz") { url in _ = try IDXFile(contentsOf: url) }
  return 0
}
