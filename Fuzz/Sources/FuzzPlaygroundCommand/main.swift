import Foundation
import FuzzSupport

@testable import BackpropPlayground

/// A WebSocket message from a page, decoded and checked as a command (what a session then does
/// with a command is the unit tests' part; here it is the message's text that is hostile).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> CInt {
  let text = String(decoding: UnsafeBufferPointer(start: bytes, count: count), as: UTF8.self)
  _ = try? PlaygroundSocket.command(from: text, limits: PlaygroundLimits())
  return 0
}
