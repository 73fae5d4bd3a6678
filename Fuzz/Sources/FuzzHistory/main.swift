import Backprop
import BackpropCSV
import Foundation
import FuzzSupport

/// Training histories, JSON and CSV, as `backprop plot` reads them.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> CInt {
  let data = fuzzData(bytes, count)
  _ = try? History(jsonData: data, source: "fuzz.json")
  withScratchFile(data, ext: "csv") { url in _ = try History(csvFile: url) }
  return 0
}
