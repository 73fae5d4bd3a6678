import Foundation

/// A table of text cells with named columns, as read from a CSV file, that remembers where each
/// row came from so that every error names the file, the line and the column.
///
/// The CSV parsing itself lives in the `BackpropCSV` module; this type turns the cells into a
/// ``DataSet`` (numeric features; numeric or named targets) and into feature matrices for
/// prediction.
public struct DataTable: Sendable, Equatable {
  /// The name of the table's source (a file path), used in error messages.
  public let source: String
  /// The header: one name per column.
  public let columnNames: [String]
  /// The cells, one array per row, each as long as ``columnNames``.
  public let rows: [[String]]
  /// The line of the source on which each row starts (the header is line 1).
  public let lineNumbers: [Int]

  /// Creates a table, checking that it has a header of unique names, at least one row, and the
  /// same number of cells in every row.
  ///
  /// - Throws: ``BackpropError/malformedData(source:location:detail:)`` naming the line of a
  ///   ragged row, a duplicate or empty column name, or the absence of data rows.
  public init(source: String, columnNames: [String], rows: [[String]], lineNumbers: [Int]? = nil)
    throws
  {
    let lines = lineNumbers ?? rows.indices.map { $0 + 2 }
    guard lines.count == rows.count else {
      throw BackpropError.invalidArgument(
        name: "line numbers", detail: "\(lines.count) given for \(rows.count) rows")
    }
    guard !columnNames.isEmpty, !(columnNames.count == 1 && columnNames[0].isEmpty) else {
      throw BackpropError.malformedData(
        source: source, location: "line 1", detail: "the header row is empty")
    }
    var seen = Set<String>()
    for (index, name) in columnNames.enumerated() {
      let trimmed = name.trimmingCharacters(in: .whitespaces)
      guard !trimmed.isEmpty else {
        throw BackpropError.malformedData(
          source: source, location: "line 1, column \(index + 1)",
          detail: "the header has an empty column name")
      }
      guard seen.insert(trimmed).inserted else {
        throw BackpropError.malformedData(
          source: source, location: "line 1",
          detail: "the column name '\(trimmed)' appears more than once")
      }
    }
    guard !rows.isEmpty else {
      throw BackpropError.malformedData(
        source: source, location: nil, detail: "the file has a header but no data rows")
    }
    for (row, line) in zip(rows, lines) where row.count != columnNames.count {
      throw BackpropError.malformedData(
        source: source, location: "line \(line)",
        detail: "the row has \(row.count) fields but the header has \(columnNames.count)")
    }
    self.source = source
    self.columnNames = columnNames.map { $0.trimmingCharacters(in: .whitespaces) }
    self.rows = rows
    self.lineNumbers = lines
  }

  /// How a table's target columns become targets.
  public enum TargetEncoding: Sendable, Equatable {
    /// As scikit-learn reads a target: classes when the column holds text or whole numbers
    /// only, values when it holds a number with a fraction. Whole numbers with more than 10
    /// distinct values and fewer than 5 samples for each on average are values too (a count or
    /// a measurement, such as the diabetes data's disease progression, 214 values in 331
    /// samples), which scikit-learn would take for hundreds of classes. A column that mixes
    /// numbers and text is an error (it is usually a numeric target with a few bad cells).
    case automatic

    /// Whether whole-number targets taking `distinct` values over `count` samples are classes.
    public static func wholeNumbersAreClasses(distinct: Int, count: Int) -> Bool {
      distinct <= 10 || distinct * 5 <= count
    }
    /// Each distinct cell of the (single) target column is a class.
    case classes
    /// The target columns hold numbers to regress.
    case values
  }

  /// The spellings of a missing value that exporters write (pandas, R, Excel, ARFF): refused
  /// wherever a number or a class is expected.
  public static let missingValueSpellings: Set<String> = [
    "", "na", "n/a", "nan", "null", "none", "?", "-",
  ]

  /// Whether `cell` (trimmed) spells a missing value.
  static func isMissing(_ cell: String) -> Bool {
    missingValueSpellings.contains(cell.trimmingCharacters(in: .whitespaces).lowercased())
  }

  /// The index of the column called `name`.
  ///
  /// - Throws: ``BackpropError/malformedData(source:location:detail:)`` listing the columns
  ///   there are when none has that name.
  public func columnIndex(named name: String) throws -> Int {
    guard let index = columnNames.firstIndex(of: name) else {
      let known = columnNames.prefix(12).map { "'\($0)'" }.joined(separator: ", ")
      let more = columnNames.count > 12 ? ", … (\(columnNames.count) in all)" : ""
      throw BackpropError.malformedData(
        source: source, location: nil,
        detail: "there is no column '\(name)'; the columns are \(known)\(more)")
    }
    return index
  }

  /// A data set whose targets are the columns `targetColumns` and whose features are
  /// `featureColumns` (every other column when `nil`), in the order given.
  ///
  /// With ``TargetEncoding/classes`` (or `automatic` on text), the class names are the distinct
  /// cells sorted as numbers when they all are numbers, as text otherwise; pass `classNames` to
  /// fix them (a model's classes, say), and a cell outside them is an error.
  ///
  /// - Throws: ``BackpropError/malformedData(source:location:detail:)`` naming the line and
  ///   column of a feature cell that is not a finite number, or a missing column.
  public func dataSet<Scalar: TensorScalar>(
    targetColumns: [String], featureColumns: [String]? = nil,
    encoding: TargetEncoding = .automatic, classNames: [String]? = nil,
    as type: Scalar.Type = Scalar.self
  ) throws -> DataSet<Scalar> {
    guard !targetColumns.isEmpty else {
      throw BackpropError.invalidArgument(name: "target columns", detail: "none were given")
    }
    let targetIndices = try targetColumns.map(columnIndex(named:))
    let featureNames = featureColumns ?? columnNames.filter { !targetColumns.contains($0) }
    return try Self.dataSet(
      features: try self.features(named: featureNames), featureNames: featureNames,
      targetColumns: targetColumns,
      targetCells: targetIndices.map { index in rows.map { $0[index] } },
      lineNumbers: lineNumbers, source: source, encoding: encoding, classNames: classNames)
  }

  /// A data set from a feature matrix and the cells of the target columns (one array per
  /// column, one cell per row), as ``dataSet(targetColumns:featureColumns:encoding:classNames:as:)``
  /// makes it; every reader of tables ends here.
  ///
  /// - Throws: ``BackpropError/malformedData(source:location:detail:)`` naming the line and
  ///   column of a target cell that is not a class or a finite number.
  public static func dataSet<Scalar: TensorScalar>(
    features: Tensor<Scalar>, featureNames: [String], targetColumns: [String],
    targetCells: [[String]], lineNumbers: [Int], source: String,
    encoding: TargetEncoding = .automatic, classNames: [String]? = nil
  ) throws -> DataSet<Scalar> {
    for (column, cells) in zip(targetColumns, targetCells) {
      if let row = cells.firstIndex(where: isMissing) {
        throw BackpropError.malformedData(
          source: source, location: "line \(lineNumbers[row]), column '\(column)'",
          detail: "the target is missing ('\(cells[row])'); every sample needs one")
      }
    }
    let asClasses: Bool
    switch encoding {
    case .classes: asClasses = true
    case .values:
      try requireNumbers(targetCells, columns: targetColumns, lines: lineNumbers, source: source)
      asClasses = false
    case .automatic:
      try requireNumbers(
        targetCells, columns: targetColumns, lines: lineNumbers, source: source,
        unlessAllText: true)
      // Text, or whole numbers only: classes (one column); a fraction anywhere, or many
      // whole numbers with few samples each: values.
      let numbers = targetCells.first?.compactMap(number) ?? []
      asClasses =
        targetColumns.count == 1 && !numbers.contains { $0.rounded() != $0 }
        && (numbers.isEmpty
          || TargetEncoding.wholeNumbersAreClasses(
            distinct: Set(numbers).count, count: numbers.count))
    }
    if asClasses {
      guard targetColumns.count == 1 else {
        throw BackpropError.invalidArgument(
          name: "target columns",
          detail: "a classification target is one column, got \(targetColumns.count)")
      }
      let cells = targetCells[0].map { $0.trimmingCharacters(in: .whitespaces) }
      let spelling = ClassNames.spellings(of: cells)
      let names = classNames ?? ClassNames.sorted(Set(spelling.values))
      let indexOfName = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, $0) })
      let indexOfValue = Dictionary(
        names.enumerated().compactMap { index, name in number(name).map { ($0, index) } },
        uniquingKeysWith: min)
      let labels = try cells.enumerated().map { row, cell in
        guard let index = indexOfName[cell] ?? number(cell).flatMap({ indexOfValue[$0] }) else {
          throw BackpropError.malformedData(
            source: source, location: "line \(lineNumbers[row]), column '\(targetColumns[0])'",
            detail: "'\(cell)' is not one of the classes \(names)")
        }
        return index
      }
      return try DataSet(
        features: features, labels: labels, classNames: names, featureNames: featureNames,
        targetColumn: targetColumns[0])
    }
    let table = try DataTable(
      source: source, columnNames: targetColumns,
      rows: (0..<(targetCells.first?.count ?? 0)).map { row in targetCells.map { $0[row] } },
      lineNumbers: lineNumbers)
    let targets: Tensor<Scalar> = try table.features(named: targetColumns)
    return try DataSet(
      features: features, targets: targets, featureNames: featureNames,
      targetKind: .regression(columns: targetColumns))
  }

  /// The numeric matrix of the columns `names`, in that order, one row per table row; columns not
  /// named are ignored (so a file that still holds its target can be fed to a model).
  ///
  /// - Throws: ``BackpropError/malformedData(source:location:detail:)`` naming a missing column,
  ///   or the line and column of a cell that is not a finite number.
  public func features<Scalar: TensorScalar>(
    named names: [String], as type: Scalar.Type = Scalar.self
  ) throws -> Tensor<Scalar> {
    let indices = try names.map(columnIndex(named:))
    var scalars: [Scalar] = []
    scalars.reserveCapacity(rows.count * indices.count)
    for (row, cells) in rows.enumerated() {
      for index in indices {
        guard let value = Self.number(cells[index]), value.isFinite else {
          let cell = cells[index]
          let problem =
            Self.isMissing(cell)
            ? "the value is missing ('\(cell)'); fill it in, or give --missing drop|mean|median"
            : Self.number(cell) != nil
              ? "'\(cell)' is not a finite number"
              : CSVFormat.withDecimalPoint(cell) != cell
                ? "'\(cell)' is not a number: a decimal comma needs --decimal-comma"
                : "'\(cell)' is not a number (decimal numbers only, such as 1.5 or -2e-3)"
          throw BackpropError.malformedData(
            source: source, location: "line \(lineNumbers[row]), column '\(columnNames[index])'",
            detail: problem)
        }
        scalars.append(Scalar(value))
      }
    }
    return try Tensor(shape: [rows.count, indices.count], scalars: scalars)
  }

  /// Refuses target columns that are not numbers: every cell of a numeric target (with
  /// `unlessAllText`, the columns may instead be all text, which are classes). The error lists
  /// the cells that are not numbers, where a few spoil a numeric column.
  private static func requireNumbers(
    _ targetCells: [[String]], columns: [String], lines: [Int], source: String,
    unlessAllText: Bool = false
  ) throws {
    for (column, cells) in zip(columns, targetCells) {
      let odd = cells.indices.filter { number(cells[$0]) == nil }
      guard !odd.isEmpty, !(unlessAllText && odd.count == cells.count) else { continue }
      let listed = odd.prefix(5).map { "'\(cells[$0])' (line \(lines[$0]))" }
      let more = odd.count > 5 ? " and \(odd.count - 5) more" : ""
      let advice =
        unlessAllText
        ? "fix those cells, or give --task classify to take every value as a class"
        : "a target to regress must be numbers; give --task classify (or a classification "
          + "loss) to take the values as classes"
      throw BackpropError.malformedData(
        source: source, location: "column '\(column)'",
        detail: "the target mixes numbers and text: \(listed.joined(separator: ", "))\(more) "
          + "are not numbers (\(advice))")
    }
  }

  /// The cell as a number: a decimal such as `-1.5`, `2`, `.5` or `3e-4`, with spaces around it
  /// allowed; `nil` for anything else, including what `Double(_:)` would also take but a data
  /// file should not hold (`0x10`, `inf`, `nan`, `1_000`).
  static func number(_ cell: String) -> Double? {
    let text = cell.trimmingCharacters(in: .whitespaces)
    guard isDecimal(text.utf8) else { return nil }
    return Double(text)
  }

  /// Whether `bytes` spell a decimal number: an optional sign, digits with at most one point
  /// (at least one digit), and an optional exponent.
  static func isDecimal(_ bytes: some Collection<UInt8>) -> Bool {
    var iterator = bytes.makeIterator()
    var byte = iterator.next()
    if byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-") { byte = iterator.next() }
    var digits = 0
    var point = false
    while let current = byte {
      if current >= UInt8(ascii: "0") && current <= UInt8(ascii: "9") {
        digits += 1
      } else if current == UInt8(ascii: "."), !point {
        point = true
      } else {
        break
      }
      byte = iterator.next()
    }
    guard digits > 0 else { return false }
    guard let marker = byte else { return true }
    guard marker == UInt8(ascii: "e") || marker == UInt8(ascii: "E") else { return false }
    byte = iterator.next()
    if byte == UInt8(ascii: "+") || byte == UInt8(ascii: "-") { byte = iterator.next() }
    var exponentDigits = 0
    while let current = byte, current >= UInt8(ascii: "0") && current <= UInt8(ascii: "9") {
      exponentDigits += 1
      byte = iterator.next()
    }
    return exponentDigits > 0 && byte == nil
  }
}

/// The order of class names: numeric when every name is a number ("2" before "10"), text
/// otherwise, so that the same labels always give the same class indices.
public enum ClassNames {
  /// The class each distinct cell names: numbers of the same value (`1`, `1.0`, `01`) are one
  /// class, spelled as the first of them in `cells`; text is its own class.
  public static func spellings(of cells: [String]) -> [String: String] {
    var firstOfValue: [Double: String] = [:]
    var spelling: [String: String] = [:]
    for cell in cells where spelling[cell] == nil {
      if let value = DataTable.number(cell) {
        let first = firstOfValue[value] ?? cell
        firstOfValue[value] = first
        spelling[cell] = first
      } else {
        spelling[cell] = cell
      }
    }
    return spelling
  }

  /// The names in their canonical order.
  public static func sorted(_ names: some Collection<String>) -> [String] {
    let numbers = names.map { (name: $0, value: Double($0)) }
    if numbers.allSatisfy({ $0.value != nil }) {
      return numbers.sorted { ($0.value ?? 0, $0.name) < ($1.value ?? 0, $1.name) }.map(\.name)
    }
    return names.sorted()
  }
}
