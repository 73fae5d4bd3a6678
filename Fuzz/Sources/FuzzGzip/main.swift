@testable import Backprop
import Foundation
import FuzzSupport

/// The gzip reader by itself: any split of reads over any bytes, then the end check.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> CInt {
  // The first byte chooses the read size, so that reads cross members and blocks anywhere.
  guard count > 0 else { return 0 }
  let step = Int(bytes[0]) + 1
  let data = fuzzData(bytes + 1, count - 1)
  guard GzipReader.isCompressed(data), let reader = try? GzipReader(data, source: "fuzz.gz") else {
    return 0
  }
  var total = 0
  // At most 16 MiB: a small input can claim to inflate to any size.
  while total < 16 << 20, let chunk = try? reader.read(step) {
    total += chunk.count
  }
  _ = try? reader.isAtEnd()
  return 0
}
