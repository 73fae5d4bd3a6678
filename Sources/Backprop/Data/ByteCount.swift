/// The number of bytes an array of `shape` takes at `elementSize` bytes per element, or `nil`
/// when a dimension is negative or the product overflows: file headers are checked with it
/// before anything is allocated, so an absurd header is an error rather than a trap.
func byteCount(shape: [Int], elementSize: Int) -> Int? {
  var total = elementSize
  for size in shape {
    guard size >= 0 else { return nil }
    let (product, overflow) = total.multipliedReportingOverflow(by: size)
    if overflow { return nil }
    total = product
  }
  return total
}
