import Foundation

/// What to do with missing feature values in a table (cells that spell a missing value, see
/// ``DataTable/missingValueSpellings``): drop their rows, or fill them with their column's mean
/// or median, as scikit-learn's `SimpleImputer` does.
///
/// The fill values are fitted once, on the training file, and stored with the model, so that
/// `predict` fills a new file's gaps with the same numbers.
public struct MissingValueFill: Sendable, Equatable, Codable {
  /// How missing values are handled.
  public enum Strategy: String, Sendable, Codable, CaseIterable {
    /// Rows with a missing feature are left out (training only: a prediction is owed for every
    /// row, so `predict` refuses them).
    case drop
    /// A missing value becomes the mean of its column's values.
    case mean
    /// A missing value becomes the median of its column's values.
    case median
  }

  /// The strategy.
  public let strategy: Strategy
  /// The value that fills each feature column, in the features' order (none for ``Strategy/drop``).
  public let values: [Double]

  /// A fill with explicit values, checked.
  ///
  /// - Throws: ``BackpropError/invalidArgument(name:detail:)`` for a non-finite value, or for
  ///   values given with ``Strategy/drop``.
  public init(strategy: Strategy, values: [Double]) throws {
    guard strategy != .drop || values.isEmpty else {
      throw BackpropError.invalidArgument(
        name: "missing-value fill", detail: "drop takes no values (got \(values.count))")
    }
    if let index = values.firstIndex(where: { !$0.isFinite }) {
      throw BackpropError.invalidArgument(
        name: "missing-value fill of feature \(index)", detail: "\(values[index]) is not finite")
    }
    self.strategy = strategy
    self.values = values
  }

  /// Decodes a fill through the checking initializer, as a model file holds it.
  public init(from decoder: Decoder) throws {
    enum Keys: String, CodingKey { case strategy, values }
    let container = try decoder.container(keyedBy: Keys.self)
    try self.init(
      strategy: try container.decode(Strategy.self, forKey: .strategy),
      values: try container.decodeIfPresent([Double].self, forKey: .values) ?? [])
  }

  /// The fill of `strategy` fitted to the columns `columns` of `table`: each column's mean or
  /// median over its values that are not missing.
  ///
  /// - Throws: ``BackpropError/malformedData(source:location:detail:)`` for a column with no
  ///   value at all, or a cell that is neither a number nor missing.
  public static func fitted(
    to table: DataTable, columns: [String], strategy: Strategy
  ) throws -> MissingValueFill {
    guard strategy != .drop else { return try MissingValueFill(strategy: .drop, values: []) }
    let values = try columns.map { name -> Double in
      let index = try table.columnIndex(named: name)
      var numbers: [Double] = []
      for (row, cells) in table.rows.enumerated() where !DataTable.isMissing(cells[index]) {
        guard let value = DataTable.number(cells[index]), value.isFinite else {
          throw BackpropError.malformedData(
            source: table.source, location: "line \(table.lineNumbers[row]), column '\(name)'",
            detail: "'\(cells[index])' is neither a number nor a missing value")
        }
        numbers.append(value)
      }
      guard !numbers.isEmpty else {
        throw BackpropError.malformedData(
          source: table.source, location: "column '\(name)'",
          detail: "every value is missing, so there is nothing to fill it with")
      }
      if strategy == .mean { return numbers.reduce(0, +) / Double(numbers.count) }
      numbers.sort()
      let middle = numbers.count / 2
      return numbers.count % 2 == 1 ? numbers[middle] : (numbers[middle - 1] + numbers[middle]) / 2
    }
    return try MissingValueFill(strategy: strategy, values: values)
  }

  /// `table` with this fill applied to its columns `columns`: missing cells replaced by their
  /// column's value, or, for ``Strategy/drop``, the rows that have one left out. The second
  /// result counts the cells filled or the rows dropped.
  ///
  /// - Throws: ``BackpropError/malformedData(source:location:detail:)`` when dropping leaves
  ///   no row.
  public func apply(to table: DataTable, columns: [String]) throws -> (DataTable, Int) {
    let indices = try columns.map(table.columnIndex(named:))
    var rows: [[String]] = []
    var lines: [Int] = []
    var changed = 0
    for (cells, line) in zip(table.rows, table.lineNumbers) {
      var row = cells
      var missing = false
      for (position, index) in indices.enumerated() where DataTable.isMissing(cells[index]) {
        missing = true
        if strategy != .drop {
          row[index] = String(values[position])
          changed += 1
        }
      }
      if missing && strategy == .drop {
        changed += 1
        continue
      }
      rows.append(row)
      lines.append(line)
    }
    guard !rows.isEmpty else {
      throw BackpropError.malformedData(
        source: table.source, location: nil, detail: "every row has a missing value")
    }
    return (
      try DataTable(
        source: table.source, columnNames: table.columnNames, rows: rows, lineNumbers: lines),
      changed
    )
  }
}
