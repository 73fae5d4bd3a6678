import Foundation
import FuzzSupport

@testable import BackpropPlayground

/// The bytes a WebSocket client sends, split into reads as the first byte says: the scanner of
/// their frame headers must follow any stream without trapping, and give the same verdict
/// however the stream is split.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> CInt {
  guard count > 0 else { return 0 }
  let stream = UnsafeRawBufferPointer(start: bytes + 1, count: count - 1)
  let readSize = Int(bytes[0]) + 1
  var whole = ClientFrameScanner()
  let verdict = whole.scan(stream)
  var pieces = ClientFrameScanner()
  var split = true
  var offset = 0
  while offset < stream.count, split {
    let end = min(offset + readSize, stream.count)
    split = pieces.scan(UnsafeRawBufferPointer(rebasing: stream[offset..<end]))
    offset = end
  }
  precondition(verdict == split, "the verdict depends on how the stream is split")
  return 0
}
