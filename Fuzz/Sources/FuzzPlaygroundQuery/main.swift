import BackpropPlayground
import Foundation
import FuzzSupport

/// The playground's URL query, in both dialects (its own and TensorFlow Playground's).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> CInt {
  let query = String(decoding: UnsafeBufferPointer(start: bytes, count: count), as: UTF8.self)
  _ = try? PlaygroundSettings.parse(query, dialect: .backprop)
  _ = try? PlaygroundSettings.parse(query, dialect: .tensorFlowPlayground)
  return 0
}
