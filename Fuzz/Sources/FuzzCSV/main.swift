import Backprop
import BackpropCSV
import Foundation
import FuzzSupport

/// CSV as `backprop train --data x.csv` reads it: the numeric fast reader (targets: the last
/// header column) and the general RFC 4180 reader.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> CInt {
  let data = fuzzData(bytes, count)
  let text = String(decoding: data, as: UTF8.self)
  let header = text.prefix { $0 != "\n" }.split(separator: ",", omittingEmptySubsequences: false)
  if let last = header.last {
    _ = NumericCSV.read(data, targetColumns: [String(last)], featureColumns: nil, as: Float.self)
  }
  if let table = try? DataTable(csvText: text, source: "fuzz.csv"),
    let last = table.columnNames.last
  {
    _ = try? table.dataSet(targetColumns: [last], as: Float.self)
  }
  return 0
}
