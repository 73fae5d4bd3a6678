import Backprop
import CSV
import Foundation

extension DataTable {
  /// Reads a CSV file whose first row names the columns (RFC 4180: quoted fields may hold the
  /// delimiter, quotes and line breaks), parsed by CSV.swift, written as `format` says (by
  /// default: the delimiter detected, UTF-8).
  ///
  /// - Throws: `BackpropError.fileError(path:detail:)` when the file cannot be read;
  ///   `BackpropError.malformedData(source:location:detail:)` for an empty file, text that is
  ///   not in the encoding, a parse error, or a row whose number of fields differs from the
  ///   header's, naming the line.
  public init(csvFile url: URL, format: CSVFormat = CSVFormat()) throws {
    try self.init(csvData: try FileData.read(url), source: url.path, format: format)
  }

  /// Parses the bytes of a CSV file; `source` names it in errors.
  init(csvData data: Data, source: String, format: CSVFormat) throws {
    try self.init(
      csvText: try format.text(of: data, source: source), source: source, format: format)
  }

  /// The delimiter of CSV bytes as `format` gives or detects it, and whether the fast reader
  /// (`NumericCSV`: UTF-8, decimal points) may read them.
  private static func fastDelimiter(of data: Data, format: CSVFormat) -> Unicode.Scalar? {
    guard format.encoding == .utf8, !format.decimalComma else { return nil }
    let header = data.prefix(while: { $0 != UInt8(ascii: "\n") })
    return format.delimiter(of: String(decoding: header, as: UTF8.self))
  }

  /// The data set in a CSV file with a header, as
  /// `DataTable.dataSet(targetColumns:featureColumns:encoding:classNames:as:)` makes it: a file
  /// of unquoted fields with numeric features is parsed straight into the feature tensor
  /// (`NumericCSV`), any other by the general reader, which names the line and column of every
  /// problem. `fill` (a model's, with the model's `featureColumns`) fills missing values.
  ///
  /// - Throws: as ``init(csvFile:format:)`` and
  ///   `DataTable.dataSet(targetColumns:featureColumns:encoding:classNames:as:)`.
  public static func dataSet<Scalar: TensorScalar>(
    csvFile url: URL, targetColumns: [String], featureColumns: [String]? = nil,
    encoding: TargetEncoding = .automatic, classNames: [String]? = nil,
    format: CSVFormat = CSVFormat(), fill: MissingValueFill? = nil,
    as type: Scalar.Type = Scalar.self
  ) throws -> DataSet<Scalar> {
    let data = try FileData.read(url)
    if let delimiter = fastDelimiter(of: data, format: format),
      let table: NumericCSV.Table<Scalar> = NumericCSV.read(
        data, delimiter: delimiter, targetColumns: targetColumns,
        featureColumns: featureColumns),
      let set = try? DataTable.dataSet(
        features: table.features, featureNames: table.featureNames, targetColumns: targetColumns,
        targetCells: table.targetCells, lineNumbers: table.lineNumbers, source: url.path,
        encoding: encoding, classNames: classNames)
    {
      return set
    }
    var table = try DataTable(csvData: data, source: url.path, format: format)
    if let fill, fill.strategy != .drop, let featureColumns {
      table = try fill.apply(to: table, columns: featureColumns).0
    }
    return try table.dataSet(
      targetColumns: targetColumns, featureColumns: featureColumns, encoding: encoding,
      classNames: classNames)
  }

  /// The data set in a CSV file as ``dataSet(csvFile:targetColumns:featureColumns:encoding:classNames:format:fill:as:)``
  /// reads it, with the missing values of its feature columns handled by `missing`: the fill
  /// fitted to the file, and the number of cells filled (or rows dropped) come with it.
  ///
  /// - Throws: as ``dataSet(csvFile:targetColumns:featureColumns:encoding:classNames:format:fill:as:)``
  ///   and `MissingValueFill.fitted(to:columns:strategy:)`.
  public static func dataSet<Scalar: TensorScalar>(
    csvFile url: URL, targetColumns: [String], featureColumns: [String]? = nil,
    encoding: TargetEncoding = .automatic, classNames: [String]? = nil,
    format: CSVFormat = CSVFormat(), missing: MissingValueFill.Strategy,
    as type: Scalar.Type = Scalar.self
  ) throws -> (data: DataSet<Scalar>, fill: MissingValueFill, changed: Int) {
    let table = try DataTable(csvFile: url, format: format)
    let features = featureColumns ?? table.columnNames.filter { !targetColumns.contains($0) }
    let fill = try MissingValueFill.fitted(to: table, columns: features, strategy: missing)
    let (filled, changed) = try fill.apply(to: table, columns: features)
    let data: DataSet<Scalar> = try filled.dataSet(
      targetColumns: targetColumns, featureColumns: features, encoding: encoding,
      classNames: classNames)
    return (data, fill, changed)
  }

  /// The feature matrix of the columns `names` in a CSV file with a header, by the fast reader
  /// where it can, as `DataTable.features(named:as:)` gives it; `fill` (a model's) fills the
  /// missing values it can.
  ///
  /// - Throws: as ``init(csvFile:format:)`` and `DataTable.features(named:as:)`.
  public static func features<Scalar: TensorScalar>(
    csvFile url: URL, named names: [String], format: CSVFormat = CSVFormat(),
    fill: MissingValueFill? = nil, as type: Scalar.Type = Scalar.self
  ) throws -> Tensor<Scalar> {
    let data = try FileData.read(url)
    if let delimiter = fastDelimiter(of: data, format: format),
      let table: NumericCSV.Table<Scalar> = NumericCSV.read(
        data, delimiter: delimiter, targetColumns: [], featureColumns: names)
    {
      return table.features
    }
    var table = try DataTable(csvData: data, source: url.path, format: format)
    if let fill, fill.strategy != .drop { table = try fill.apply(to: table, columns: names).0 }
    return try table.features(named: names)
  }

  /// Parses CSV text whose first row names the columns; `source` names it in errors. Its
  /// delimiter and decimal mark are `format`'s.
  ///
  /// - Throws: as ``init(csvFile:format:)``.
  public init(csvText text: String, source: String, format: CSVFormat = CSVFormat()) throws {
    let body = text.hasPrefix("\u{FEFF}") ? String(text.dropFirst()) : text
    let delimiter = format.delimiter(of: body)
    guard !body.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
      throw BackpropError.malformedData(
        source: source, location: nil, detail: "the file is empty (a header row is needed)")
    }
    if let line = Self.unterminatedQuoteLine(in: body, delimiter: delimiter) {
      throw BackpropError.malformedData(
        source: source, location: "line \(line)",
        detail: "a quoted field opened here is never closed (a missing \")")
    }
    let reader: CSVReader
    do {
      reader = try CSVReader(string: body, hasHeaderRow: true, delimiter: delimiter)
    } catch {
      throw BackpropError.malformedData(
        source: source, location: "line 1", detail: "cannot read the header row (\(error))")
    }
    var header = reader.headerRow ?? []
    var rows: [[String]] = []
    var lines: [Int] = []
    // A row starts one line after the previous row, plus the line breaks inside its quoted fields.
    var line = 2 + Self.lineBreaks(in: header)
    while let row = reader.next() {
      defer { line += 1 + Self.lineBreaks(in: row) }
      if row == [""] { continue }
      rows.append(row)
      lines.append(line)
    }
    if let error = reader.error {
      throw BackpropError.malformedData(
        source: source, location: "line \(line)", detail: "CSV syntax error (\(error))")
    }
    if Self.hasIndexColumn(header: header, rows: rows) {
      header.removeFirst()
      rows = rows.map { Array($0.dropFirst()) }
    }
    if format.decimalComma { rows = rows.map { $0.map(CSVFormat.withDecimalPoint) } }
    try self.init(source: source, columnNames: header, rows: rows, lineNumbers: lines)
  }

  /// Whether the first column is pandas' index, which `DataFrame.to_csv` writes by default: an
  /// unnamed column holding 0, 1, 2, … It is not read.
  public static func hasIndexColumn(header: [String], rows: [[String]]) -> Bool {
    guard header.count > 1, header[0].trimmingCharacters(in: .whitespaces).isEmpty else {
      return false
    }
    return rows.enumerated().allSatisfy { index, row in
      row.first.map { $0.trimmingCharacters(in: .whitespaces) == String(index) } ?? false
    }
  }

  /// The line on which a quoted field opens that the text never closes, or nil: RFC 4180's
  /// quoting (a field that starts with a quote runs to the next lone quote; "" inside is a
  /// quote), without which the rest of the file would be read as one cell.
  static func unterminatedQuoteLine(in text: String, delimiter: Unicode.Scalar) -> Int? {
    let (quote, newline) = (UInt8(ascii: "\""), UInt8(ascii: "\n"))
    let separator = UInt8(truncatingIfNeeded: delimiter.value)
    var (line, openedOn) = (1, 0)
    var (inQuotes, atFieldStart, pendingQuote) = (false, true, false)
    for byte in text.utf8 {
      if inQuotes {
        if pendingQuote {
          pendingQuote = false
          if byte != quote {
            inQuotes = false  // the quote closed the field; this byte follows it
          } else {
            continue  // "" is a quote inside the field
          }
        } else if byte == quote {
          pendingQuote = true
          continue
        }
      }
      if !inQuotes {
        if byte == quote && atFieldStart {
          (inQuotes, openedOn) = (true, line)
        }
        atFieldStart = byte == separator || byte == newline
      }
      if byte == newline { line += 1 }
    }
    return inQuotes && !pendingQuote ? openedOn : nil
  }

  private static func lineBreaks(in fields: [String]) -> Int {
    fields.reduce(0) { count, field in
      count + field.unicodeScalars.reduce(0) { $0 + ($1 == "\n" ? 1 : 0) }
    }
  }

  /// The table as CSV text (RFC 4180 quoting where a cell needs it), header first.
  public func csvText() throws -> String {
    try CSVText.make(header: columnNames, rows: rows)
  }
}

/// CSV output as RFC 4180 writes it.
public enum CSVText {
  /// CSV text of a header and rows, one line each ending in a line feed; a cell that holds a
  /// comma, a quote or a line break is quoted, its quotes doubled.
  ///
  /// - Throws: nothing today; the signature leaves room for a writer that can fail.
  public static func make(header: [String], rows: [[String]]) throws -> String {
    var writer = CSVWriter(header: header, rowCapacity: rows.count)
    for row in rows {
      for cell in row { writer.append(cell) }
      writer.endRow()
    }
    return writer.text
  }
}

/// CSV written a cell at a time into one buffer, header first, as ``CSVText`` describes: numbers
/// go straight in as their shortest round-trip text, so a 60000-row prediction file is written
/// with no string per cell and no array per row.
public struct CSVWriter {
  /// The CSV so far, as UTF-8.
  public private(set) var bytes: [UInt8] = []
  private var atRowStart = true

  /// Starts a file with its header line, with room for about `rowCapacity` rows as wide.
  public init(header: [String], rowCapacity: Int = 0) {
    bytes.reserveCapacity((rowCapacity + 1) * (header.count * 12 + 1))
    for name in header { append(name) }
    endRow()
  }

  /// The CSV so far, as text.
  public var text: String { String(decoding: bytes, as: UTF8.self) }

  /// Appends a text cell, quoted when it holds a comma, a quote or a line break.
  public mutating func append(_ cell: String) {
    separate()
    let utf8 = cell.utf8
    let needsQuotes = utf8.contains {
      $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\n")
        || $0 == UInt8(ascii: "\r")
    }
    guard needsQuotes else {
      bytes.append(contentsOf: utf8)
      return
    }
    bytes.append(UInt8(ascii: "\""))
    for byte in utf8 {
      bytes.append(byte)
      if byte == UInt8(ascii: "\"") { bytes.append(byte) }
    }
    bytes.append(UInt8(ascii: "\""))
  }

  /// Appends a number cell, as Swift's `description` writes it (the shortest text that reads
  /// back to the same value).
  public mutating func append<Number: BinaryFloatingPoint & CustomStringConvertible>(
    _ number: Number
  ) {
    separate()
    bytes.append(contentsOf: number.description.utf8)
  }

  /// Ends the current row with a line feed.
  public mutating func endRow() {
    bytes.append(UInt8(ascii: "\n"))
    atRowStart = true
  }

  private mutating func separate() {
    if !atRowStart { bytes.append(UInt8(ascii: ",")) }
    atRowStart = false
  }
}
