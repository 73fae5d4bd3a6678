import Backprop
import BackpropCSV
import Foundation
import Testing

/// Expects `body` to throw a ``BackpropError`` whose message contains every one of `fragments`.
func expectError(
  containing fragments: String..., sourceLocation: SourceLocation = #_sourceLocation,
  _ body: () throws -> Void
) {
  do {
    try body()
    Issue.record("expected an error containing \(fragments)", sourceLocation: sourceLocation)
  } catch {
    for fragment in fragments {
      #expect(
        "\(error)".contains(fragment), "\(error) lacks \(fragment)", sourceLocation: sourceLocation)
    }
  }
}

@Suite("CSV files")
struct CSVTests {
  @Test func quotedFieldsAndLineNumbersSurviveParsing() throws {
    let text = "name,x,label\n\"Smith, J\",1.5,a\n\"two\nlines\",2,\"b\"\"\"\n\nplain,3,a\n"
    let table = try DataTable(csvText: text, source: "people.csv")
    #expect(table.columnNames == ["name", "x", "label"])
    #expect(
      table.rows == [["Smith, J", "1.5", "a"], ["two\nlines", "2", "b\""], ["plain", "3", "a"]])
    // The quoted line break moves the later rows down a line; the blank line is skipped.
    #expect(table.lineNumbers == [2, 3, 6])
    let data: DataSet<Double> = try table.dataSet(targetColumns: ["label"], featureColumns: ["x"])
    #expect(data.targetKind.classNames == ["a", "b\""])
    let broken = try DataTable(
      csvText: text.replacingOccurrences(of: "plain,3", with: "plain,n/a"), source: "people.csv")
    expectError(containing: "people.csv, line 6, column 'x'", "the value is missing ('n/a')") {
      let _: DataSet<Double> = try broken.dataSet(targetColumns: ["label"], featureColumns: ["x"])
    }
  }

  @Test func aByteOrderMarkAndWindowsLineEndingsAreAccepted() throws {
    let table = try DataTable(csvText: "\u{FEFF}a,b\r\n1,2\r\n3,4\r\n", source: "w.csv")
    #expect(table.columnNames == ["a", "b"] && table.rows == [["1", "2"], ["3", "4"]])
  }

  @Test func malformedFilesNameTheFileAndLine() throws {
    let directory = FileManager.default.temporaryDirectory
      .appendingPathComponent("backprop-csv-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    let empty = directory.appendingPathComponent("empty.csv")
    try Data().write(to: empty)
    expectError(containing: "empty.csv", "the file is empty") { _ = try DataTable(csvFile: empty) }
    let ragged = directory.appendingPathComponent("ragged.csv")
    try Data("a,b,c\n1,2,3\n4,5\n".utf8).write(to: ragged)
    expectError(containing: "ragged.csv, line 3", "2 fields but the header has 3") {
      _ = try DataTable(csvFile: ragged)
    }
    let headerOnly = directory.appendingPathComponent("header.csv")
    try Data("a,b\n".utf8).write(to: headerOnly)
    expectError(containing: "header.csv", "no data rows") { _ = try DataTable(csvFile: headerOnly) }
    let binary = directory.appendingPathComponent("binary.csv")
    try Data([0xff, 0xfe, 0x00, 0x41]).write(to: binary)
    expectError(containing: "binary.csv", "not UTF-8") { _ = try DataTable(csvFile: binary) }
    expectError(containing: "missing.csv", "cannot read the file") {
      _ = try DataTable(csvFile: directory.appendingPathComponent("missing.csv"))
    }
    // A quote that is never closed would make the rest of the file one cell; quotes that are
    // closed, doubled, or inside an unquoted field are fine.
    let unclosed = directory.appendingPathComponent("unclosed.csv")
    try Data("a,b,c\n1,2,x\n3,\"4,y\n5,6,z\n".utf8).write(to: unclosed)
    expectError(containing: "unclosed.csv, line 3", "never closed") {
      _ = try DataTable(csvFile: unclosed)
    }
    let closed = directory.appendingPathComponent("closed.csv")
    try Data("a,b\n\"x\"\"y\",\"two\nlines\"\n3in\"ch,\"\"\n".utf8).write(to: closed)
    #expect(try DataTable(csvFile: closed).rows == [["x\"y", "two\nlines"], ["3in\"ch", ""]])
  }

  @Test func writtenCSVReadsBackTheSameCells() throws {
    let rows = [["1", "a, b"], ["2", "say \"hi\""], ["3", "two\nlines"]]
    let text = try CSVText.make(header: ["id", "text"], rows: rows)
    #expect(text.hasPrefix("id,text\n1,\"a, b\"\n"))
    let table = try DataTable(csvText: text, source: "out.csv")
    #expect(table.rows == rows)
    #expect(try table.csvText() == text)
  }

  @Test func numbersAreWrittenAsTheirShortestRoundTripText() throws {
    let values: [Float] = [0.1, 1 / 3, -2.5e-8, 3.4028235e38, 0]
    var writer = CSVWriter(header: ["name", "value"])
    for value in values {
      writer.append("row, \(value)")
      writer.append(value)
      writer.endRow()
    }
    let table = try DataTable(csvText: writer.text, source: "numbers.csv")
    #expect(table.rows.map { Float($0[1]) } == values)
    #expect(table.rows.map(\.[0]) == values.map { "row, \($0)" })
    #expect(writer.text.contains("\"row, 0.1\",0.1\n"))
  }
}
