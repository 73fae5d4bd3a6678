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
    let data = try FileData.read(url)
    guard let text = String(data: data, encoding: .utf8) else {
      throw BackpropError.malformedData(
        source: url.path, location: nil, detail: "the file is not UTF-8 text")
    }
    try self.init(csvText: text, source: url.path, delimiter: delimiter)
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

/// CSV output through CSV.swift's writer.
public enum CSVText {
  /// CSV text of a header and rows; the writer quotes the cells that need it.
  ///
  /// - Throws: ``BackpropError/invalidArgument(name:detail:)`` when the writer fails.
  public static func make(header: [String], rows: [[String]]) throws -> String {
    do {
      let writer = try CSVWriter(stream: .toMemory())
      for row in [header] + rows {
        try writer.write(row: row)
      }
      writer.stream.close()
      guard
        let data = writer.stream.property(forKey: .dataWrittenToMemoryStreamKey) as? Data,
        let text = String(data: data, encoding: .utf8)
      else {
        throw BackpropError.invalidArgument(
          name: "CSV output", detail: "the writer produced no text")
      }
      return text + "\n"
    } catch let error as BackpropError {
      throw error
    } catch {
      throw BackpropError.invalidArgument(name: "CSV output", detail: "\(error)")
    }
  }
}
