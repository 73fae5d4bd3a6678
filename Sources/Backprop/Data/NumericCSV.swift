import Foundation

/// The common case of CSV read at the speed of memory: a header, then rows of unquoted fields,
/// with a number in every feature cell. The feature cells are parsed straight into the tensor,
/// and only the target cells are kept as text.
///
/// Anything else (a quote, a ragged row, a cell that is not a number, a missing column) makes
/// ``read(_:delimiter:targetColumns:featureColumns:as:)`` return nil, and the general
/// reader (`DataTable(csvFile:)` in `BackpropCSV`), which names the line and column of every
/// problem, reads the file instead.
public enum NumericCSV {
  /// What the fast reader found: the features, their names, and the cells of the target columns.
  public struct Table<Scalar: TensorScalar> {
    /// The feature matrix, one row per data row.
    public let features: Tensor<Scalar>
    /// The feature columns, in the order of the matrix's columns.
    public let featureNames: [String]
    /// The cells of each target column, one per data row.
    public let targetCells: [[String]]
    /// The line of the file on which each row stands (the header is line 1).
    public let lineNumbers: [Int]
  }

  /// The signal to leave the file to the general reader.
  private struct NotSimple: Error {}

  /// Reads CSV bytes whose first row names the columns, when they are of the simple kind;
  /// `featureColumns` nil means every column but the targets.
  public static func read<Scalar: TensorScalar>(
    _ data: Data, delimiter: Unicode.Scalar = ",", targetColumns: [String],
    featureColumns: [String]?, as type: Scalar.Type = Scalar.self
  ) -> Table<Scalar>? {
    guard delimiter.isASCII, delimiter != "\"" else { return nil }
    return try? data.withUnsafeBytes { bytes in
      try parse(
        bytes, delimiter: UInt8(delimiter.value), targetColumns: targetColumns,
        featureColumns: featureColumns)
    }
  }

  private static func parse<Scalar: TensorScalar>(
    _ bytes: UnsafeRawBufferPointer, delimiter: UInt8, targetColumns: [String],
    featureColumns: [String]?
  ) throws -> Table<Scalar> {
    let (newline, carriageReturn, quote) = (
      UInt8(ascii: "\n"), UInt8(ascii: "\r"), UInt8(ascii: "\"")
    )
    var position = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? 3 : 0
    /// The end of the line starting at `start`, without its line break.
    func lineEnd(from start: Int) -> (end: Int, next: Int) {
      var end = start
      while end < bytes.count && bytes[end] != newline { end += 1 }
      let next = min(end + 1, bytes.count)
      return (end > start && bytes[end - 1] == carriageReturn ? end - 1 : end, next)
    }
    // The header.
    let header = lineEnd(from: position)
    let headerBytes = UnsafeRawBufferPointer(rebasing: bytes[position..<header.end])
    guard !headerBytes.contains(quote) else { throw NotSimple() }
    let names = try headerBytes.split(separator: delimiter, omittingEmptySubsequences: false).map {
      guard let name = String(validating: $0, as: UTF8.self) else { throw NotSimple() }
      return name.trimmingCharacters(in: .whitespaces)
    }
    // An unnamed first column is pandas' index when it holds 0, 1, 2, …: it is not read.
    let indexColumn = names.first == ""
    guard Set(names).count == names.count, !names.dropFirst(indexColumn ? 1 : 0).contains("")
    else { throw NotSimple() }
    position = header.next
    let featureNames = featureColumns ?? names.filter { !$0.isEmpty && !targetColumns.contains($0) }
    // Each column's role: its feature position, −2 − its target position, or −1 (ignored).
    var roles = [Int](repeating: -1, count: names.count)
    for (position, name) in featureNames.enumerated() {
      guard let column = names.firstIndex(of: name) else { throw NotSimple() }
      roles[column] = position
    }
    for (position, name) in targetColumns.enumerated() {
      guard let column = names.firstIndex(of: name), roles[column] == -1 else { throw NotSimple() }
      roles[column] = -2 - position
    }
    // Every line but the header may be a row.
    var capacity = 1
    for index in position..<bytes.count where bytes[index] == newline { capacity += 1 }
    let width = featureNames.count
    let storage = UnsafeMutablePointer<Scalar>.allocate(capacity: max(capacity * width, 1))
    defer { storage.deallocate() }
    var targetCells = [[String]](repeating: [], count: targetColumns.count)
    var lineNumbers: [Int] = []
    var (rows, line) = (0, 1)
    while position < bytes.count {
      let (end, next) = lineEnd(from: position)
      line += 1
      defer { position = next }
      // An empty line holds no row, as the general reader skips it.
      if end == position { continue }
      var (column, start) = (0, position)
      while start <= end {
        var stop = start
        while stop < end && bytes[stop] != delimiter {
          if bytes[stop] == quote { throw NotSimple() }
          stop += 1
        }
        guard column < roles.count else { throw NotSimple() }
        let role = roles[column]
        let field = UnsafeRawBufferPointer(rebasing: bytes[start..<stop])
        if column == 0 && indexColumn {
          guard number(field) == Double(rows) else { throw NotSimple() }
        } else if role >= 0 {
          guard let value = number(field), value.isFinite else { throw NotSimple() }
          storage[rows * width + role] = Scalar(value)
        } else if role <= -2 {
          // Text that is not UTF-8 is left to the general reader, which names its line.
          guard let cell = String(validating: field, as: UTF8.self) else { throw NotSimple() }
          targetCells[-2 - role].append(cell)
        }
        column += 1
        start = stop + 1
      }
      guard column == roles.count else { throw NotSimple() }
      lineNumbers.append(line)
      rows += 1
    }
    guard rows > 0 else { throw NotSimple() }
    return Table(
      features: Tensor(copying: storage, shape: [rows, width]), featureNames: featureNames,
      targetCells: targetCells, lineNumbers: lineNumbers)
  }

  /// The decimal number in `field` (spaces around it allowed), correctly rounded: digits,
  /// a point and an exponent by exact arithmetic when the digits fit in 2⁵³ and the power of ten
  /// in 10²², as most data files' numbers do; the standard library's parser otherwise.
  @inline(__always)
  static func number(_ field: UnsafeRawBufferPointer) -> Double? {
    var (start, end) = (0, field.count)
    while start < end && field[start] == UInt8(ascii: " ") { start += 1 }
    while end > start && field[end - 1] == UInt8(ascii: " ") { end -= 1 }
    guard start < end else { return nil }
    var index = start
    let negative = field[index] == UInt8(ascii: "-")
    if negative || field[index] == UInt8(ascii: "+") { index += 1 }
    var (mantissa, digits, exponent, sawDigit) = (UInt64(0), 0, 0, false)
    func digit(_ byte: UInt8) -> UInt64? {
      byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
        ? UInt64(byte - UInt8(ascii: "0")) : nil
    }
    while index < end, let value = digit(field[index]) {
      if digits < 19 { mantissa = mantissa * 10 + value } else { exponent += 1 }
      if mantissa != 0 { digits += 1 }
      sawDigit = true
      index += 1
    }
    if index < end && field[index] == UInt8(ascii: ".") {
      index += 1
      while index < end, let value = digit(field[index]) {
        if digits < 19 {
          mantissa = mantissa * 10 + value
          exponent -= 1
          if mantissa != 0 { digits += 1 }
        }
        sawDigit = true
        index += 1
      }
    }
    if sawDigit && index < end && (field[index] | 0x20) == UInt8(ascii: "e") {
      index += 1
      let negativeExponent = index < end && field[index] == UInt8(ascii: "-")
      if index < end && (negativeExponent || field[index] == UInt8(ascii: "+")) { index += 1 }
      var (power, sawExponent) = (0, false)
      while index < end, let value = digit(field[index]) {
        power = min(power * 10 + Int(value), 100_000)
        sawExponent = true
        index += 1
      }
      guard sawExponent else { return slowNumber(field, start, end) }
      exponent += negativeExponent ? -power : power
    }
    guard sawDigit, index == end, digits <= 15, mantissa < 1 << 53, abs(exponent) <= 22 else {
      return slowNumber(field, start, end)
    }
    let magnitude =
      exponent >= 0
      ? Double(mantissa) * powersOfTen[exponent] : Double(mantissa) / powersOfTen[-exponent]
    return negative ? -magnitude : magnitude
  }

  /// The standard library's parse of the trimmed field, for what the fast path does not take.
  private static func slowNumber(_ field: UnsafeRawBufferPointer, _ start: Int, _ end: Int)
    -> Double?
  {
    let text = UnsafeRawBufferPointer(rebasing: field[start..<end])
    guard DataTable.isDecimal(text) else { return nil }
    return Double(String(decoding: text, as: UTF8.self))
  }

  /// 10⁰ … 10²², each exact in a Double.
  private static let powersOfTen: [Double] = (0...22).map { power in
    (0..<power).reduce(1.0) { value, _ in value * 10 }
  }
}
