import Foundation
import FuzzSupport

@testable import BackpropPlayground

/// An uploaded file, read as a session reads it (CSV, then a training of it), and one step of
/// that training.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> CInt {
  let text = String(decoding: UnsafeBufferPointer(start: bytes, count: count), as: UTF8.self)
  guard
    let (trainer, _) = try? PlaygroundSession.trainer(
      forUpload: text, name: "fuzz.csv", settings: PlaygroundSettings(),
      limits: PlaygroundLimits())
  else { return 0 }
  trainer.advance(steps: 1)
  return 0
}
