import Backprop
import CSV
import Foundation

extension DataTable {
  /// Reads a CSV file whose first row names the columns (RFC 4180: quoted fields may hold the
  /// delimiter, quotes and line breaks), parsed by CSV.swift.
  ///
  /// - Throws: ``BackpropError/fileError(path:detail:)`` when the file cannot be read;
  ///   ``BackpropError/malformedData(source:location:detail:)`` for an empty file, text that is
  ///   not UTF-8, a parse error, or a row whose number of fields differs from the header's,
  ///   naming the line.
  public init(csvFile url: URL, delimiter: Unicode.Scalar = ",") throws {
    try self.init(csvData: try FileData.read(url), source: url.path, delimiter: delimiter)
  }

  /// Parses the bytes of a CSV file; `source` names it in errors.
  init(csvData data: Data, source: String, delimiter: Unicode.Scalar) throws {
    guard let text = String(data: data, encoding: .utf8) else {
      throw BackpropError.malformedData(
        source: source, location: nil, detail: "the file is not UTF-8 text")
    }
    try self.init(csvText: text, source: source, delimiter: delimiter)
  }

  /// The data set in a CSV file with a header, as
  /// ``DataTable/dataSet(targetColumns:featureColumns:encoding:classNames:as:)`` makes it: a file
  /// of unquoted fields with numeric features is parsed straight into the feature tensor
  /// (``NumericCSV``), any other by the general reader, which names the line and column of every
  /// problem.
  ///
  /// - Throws: as ``init(csvFile:delimiter:)`` and
  ///   ``DataTable/dataSet(targetColumns:featureColumns:encoding:classNames:as:)``.
  public static func dataSet<Scalar: TensorScalar>(
    csvFile url: URL, targetColumns: [String], featureColumns: [String]? = nil,
    encoding: TargetEncoding = .automatic, classNames: [String]? = nil,
    delimiter: Unicode.Scalar = ",", as type: Scalar.Type = Scalar.self
  ) throws -> DataSet<Scalar> {
    let data = try FileData.read(url)
    if let table: NumericCSV.Table<Scalar> = NumericCSV.read(
      data, delimiter: delimiter, targetColumns: targetColumns,
      featureColumns: featureColumns),
      let set = try? DataTable.dataSet(
        features: table.features, featureNames: table.featureNames, targetColumns: targetColumns,
        targetCells: table.targetCells, lineNumbers: table.lineNumbers, source: url.path,
        encoding: encoding, classNames: classNames)
    {
      return set
    }
    return try DataTable(csvData: data, source: url.path, delimiter: delimiter).dataSet(
      targetColumns: targetColumns, featureColumns: featureColumns, encoding: encoding,
      classNames: classNames)
  }

  /// The feature matrix of the columns `names` in a CSV file with a header, by the fast reader
  /// where it can, as ``DataTable/features(named:as:)`` gives it.
  ///
  /// - Throws: as ``init(csvFile:delimiter:)`` and ``DataTable/features(named:as:)``.
  public static func features<Scalar: TensorScalar>(
    csvFile url: URL, named names: [String], delimiter: Unicode.Scalar = ",",
    as type: Scalar.Type = Scalar.self
  ) throws -> Tensor<Scalar> {
    let data = try FileData.read(url)
    if let table: NumericCSV.Table<Scalar> = NumericCSV.read(
      data, delimiter: delimiter, targetColumns: [], featureColumns: names)
    {
      return table.features
    }
    return try DataTable(csvData: data, source: url.path, delimiter: delimiter).features(
      named: names)
  }

  /// Parses CSV text whose first row names the columns; `source` names it in errors.
  ///
  /// - Throws: as ``init(csvFile:delimiter:)``.
  public init(csvText text: String, source: String, delimiter: Unicode.Scalar = ",") throws {
    let body = text.hasPrefix("\u{FEFF}") ? String(text.dropFirst()) : text
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
    let header = reader.headerRow ?? []
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
    try self.init(source: source, columnNames: header, rows: rows, lineNumbers: lines)
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
  /// comma, a quote or a line break is quoted, its quotes doubled. Written in one pass into one
  /// buffer (a 60000-row prediction file takes a few tens of milliseconds).
  ///
  /// - Throws: nothing today; the signature leaves room for a writer that can fail.
  public static func make(header: [String], rows: [[String]]) throws -> String {
    var bytes: [UInt8] = []
    bytes.reserveCapacity((rows.count + 1) * (header.count * 12 + 1))
    for row in [header] + rows {
      for (index, cell) in row.enumerated() {
        if index > 0 { bytes.append(UInt8(ascii: ",")) }
        let utf8 = cell.utf8
        let needsQuotes = utf8.contains {
          $0 == UInt8(ascii: ",") || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\n")
            || $0 == UInt8(ascii: "\r")
        }
        guard needsQuotes else {
          bytes.append(contentsOf: utf8)
          continue
        }
        bytes.append(UInt8(ascii: "\""))
        for byte in utf8 {
          bytes.append(byte)
          if byte == UInt8(ascii: "\"") { bytes.append(byte) }
        }
        bytes.append(UInt8(ascii: "\""))
      }
      bytes.append(UInt8(ascii: "\n"))
    }
    return String(decoding: bytes, as: UTF8.self)
  }
}
