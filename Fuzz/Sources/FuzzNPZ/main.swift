import Backprop
import Foundation
import FuzzSupport

/// An `.npz` archive: its directory, then every array it lists.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> CInt {
  guard let archive = try? NPZArchive(data: fuzzData(bytes, count), source: "fuzz.npz") else {
    return 0
  }
  for name in archive.names { _ = try? archive.array(named: name) }
  return 0
}
