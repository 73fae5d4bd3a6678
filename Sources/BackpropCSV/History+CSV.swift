import Backprop
import Foundation

extension History {
  /// Reads a history written as CSV by `History.csv` (an `epoch` column, then one column per
  /// metric); `nan` cells stay NaN.
  ///
  /// - Throws: `BackpropError.malformedData(source:location:detail:)` naming the line and
  ///   column of a cell that is not a number.
  public init(csvFile url: URL) throws {
    let table = try DataTable(csvFile: url)
    let columns = table.columnNames.filter { $0 != "epoch" }
    let indices = try columns.map(table.columnIndex(named:))
    let rows = try table.rows.enumerated().map { row, cells in
      try indices.map { index -> Double in
        guard let value = Double(cells[index].trimmingCharacters(in: .whitespaces)) else {
          throw BackpropError.malformedData(
            source: table.source,
            location: "line \(table.lineNumbers[row]), column '\(table.columnNames[index])'",
            detail: "'\(cells[index])' is not a number")
        }
        return value
      }
    }
    try self.init(columns: columns, rows: rows)
  }

  /// Reads a history file: JSON when the name ends in `.json`, CSV otherwise.
  public init(contentsOf url: URL) throws {
    if url.pathExtension.lowercased() == "json" {
      let data = try FileData.read(url)
      try self.init(jsonData: data, source: url.path)
    } else {
      try self.init(csvFile: url)
    }
  }
}
