import Backprop
import BackpropCSV
import Foundation
import Testing

/// CSV as spreadsheet programs and data libraries export it, and targets read as scikit-learn
/// reads them.
@Suite("CSV formats and targets")
struct CSVFormatTests {
  private func dataSet(_ text: String, target: String = "y", format: CSVFormat = CSVFormat())
    throws -> DataSet<Float>
  {
    try DataTable(csvText: text, source: "t.csv", format: format).dataSet(targetColumns: [target])
  }

  @Test func theDelimiterIsDetectedFromTheHeaderOutsideQuotes() {
    let format = CSVFormat()
    #expect(format.delimiter(of: "a,b,c\n1;2") == ",")
    #expect(format.delimiter(of: "a;b;c\n1,5;2;3") == ";")
    #expect(format.delimiter(of: "a\tb\n1\t2") == "\t")
    #expect(format.delimiter(of: "\"x;y\",b\n1,2") == ",")
    #expect(format.delimiter(of: "single\n1") == ",")
    #expect(CSVFormat(delimiter: "|").delimiter(of: "a,b") == "|")
  }

  @Test func encodingsDecodeWhatTheirWritersWrote() throws {
    // "café €5" in Windows-1252, in Latin-1 (no euro sign there), and UTF-8 with a BOM.
    let cp1252 = Data([0x63, 0x61, 0x66, 0xE9, 0x20, 0x80, 0x35])
    #expect(try CSVFormat(encoding: .cp1252).text(of: cp1252, source: "s") == "café €5")
    #expect(try CSVFormat(encoding: .latin1).text(of: cp1252, source: "s") == "café \u{80}5")
    let bom = Data([0xEF, 0xBB, 0xBF] + Array("a,b".utf8))
    #expect(try CSVFormat().text(of: bom, source: "s") == "a,b")
    expectError(containing: "s, line 2", "not UTF-8", "--encoding cp1252") {
      _ = try CSVFormat().text(of: Data("a\n".utf8) + cp1252, source: "s")
    }
  }

  @Test func decimalCommasAndPandasIndexAreRead() throws {
    let semicolons = "x;y\n1,5;a\n-2,25e1;b\n3;a\n"
    let read = try dataSet(semicolons, format: CSVFormat(decimalComma: true))
    #expect(read.features.scalars == [1.5, -22.5, 3])
    expectError(containing: "line 2, column 'x'", "'1,5' is not a number", "--decimal-comma") {
      _ = try dataSet(semicolons)
    }
    let pandas = ",x,y\n0,1.5,a\n1,2.5,b\n2,3.5,a\n"
    #expect(try dataSet(pandas).featureNames == ["x"])
    // An unnamed first column that is not 0, 1, 2, … is not an index, and stays an error.
    expectError(containing: "empty column name") { _ = try dataSet(",x,y\n5,1.5,a\n7,2.5,b\n") }
    #expect(DataTable.hasIndexColumn(header: ["", "x"], rows: [["0", "1"], ["1", "2"]]))
    #expect(!DataTable.hasIndexColumn(header: ["", "x"], rows: [["1", "1"], ["2", "2"]]))
  }

  @Test func targetsAreReadAsScikitLearnReadsThem() throws {
    let whole = try dataSet("x,y\n0.5,0\n1.5,2\n2.5,1\n3.5,2\n")
    #expect(whole.targetKind.classNames == ["0", "1", "2"])
    let fractions = try dataSet("x,y\n0.5,0\n1.5,2.5\n2.5,1\n")
    #expect(fractions.targetKind.classNames == nil)
    let text = try dataSet("x,y\n0.5,cat\n1.5,dog\n")
    #expect(text.targetKind.classNames == ["cat", "dog"])
    // 1 and 1.0 are one class, spelled as first written.
    let spellings = try dataSet("x,y\n0.5,1.0\n1.5,0\n2.5,1\n3.5,01\n")
    #expect(spellings.targetKind.classNames == ["0", "1.0"] && spellings.labels == [1, 0, 1, 1])
    // Several target columns are values to regress, whole or not.
    let table = try DataTable(csvText: "x,a,b\n1,2,3\n4,5,6\n", source: "t.csv")
    #expect(
      try table.dataSet(targetColumns: ["a", "b"], as: Float.self).targetKind.classNames == nil)
  }

  @Test func badTargetsAndNumbersAreErrorsNamingTheirCells() {
    expectError(containing: "line 3, column 'y'", "the target is missing ('NA')") {
      _ = try dataSet("x,y\n1,a\n2,NA\n")
    }
    expectError(
      containing: "column 'y'", "mixes numbers and text", "'unknown' (line 3)", "'tbd' (line 5)",
      "--task classify"
    ) {
      _ = try DataTable(
        csvText: "x,y\n1,2.5\n2,unknown\n3,1.5\n4,tbd\n", source: "t.csv"
      ).dataSet(targetColumns: ["y"], encoding: .values, as: Float.self)
    }
    expectError(containing: "mixes numbers and text", "'unknown' (line 3)") {
      _ = try dataSet("x,y\n1,2.5\n2,unknown\n3,1.5\n")
    }
    for (cell, problem) in [
      ("0x10", "'0x10' is not a number"), ("inf", "'inf' is not a number"),
      ("1_000", "'1_000' is not a number"), ("null", "the value is missing ('null')"),
      ("1e999", "'1e999' is not a finite number"),
    ] {
      expectError(containing: "line 3, column 'x'", problem) {
        _ = try dataSet("x,y\n1,a\n\(cell),b\n")
      }
    }
  }

  @Test func missingValuesAreFilledWithTheirColumnsMeanOrMedianOrDropped() throws {
    let table = try DataTable(
      csvText: "a,b,y\n1,10,p\nNA,20,q\n3,,p\n8,40,q\n", source: "t.csv")
    let mean = try MissingValueFill.fitted(to: table, columns: ["a", "b"], strategy: .mean)
    #expect(mean.values == [4, 70.0 / 3])
    let median = try MissingValueFill.fitted(to: table, columns: ["a", "b"], strategy: .median)
    #expect(median.values == [3, 20])
    let (filled, changed) = try median.apply(to: table, columns: ["a", "b"])
    #expect(changed == 2 && filled.rows.map { $0[0] } == ["1", "3.0", "3", "8"])
    let (dropped, rows) = try MissingValueFill.fitted(
      to: table, columns: ["a", "b"], strategy: .drop
    )
    .apply(to: table, columns: ["a", "b"])
    #expect(rows == 2 && dropped.lineNumbers == [2, 5])
    expectError(containing: "column 'a'", "every value is missing") {
      _ = try MissingValueFill.fitted(
        to: try DataTable(csvText: "a,y\nNA,p\n?,q\n", source: "t.csv"), columns: ["a"],
        strategy: .mean)
    }
    expectError(containing: "not finite") {
      _ = try MissingValueFill(strategy: .mean, values: [.nan])
    }
    // A model keeps its fill through its file, and refuses one of the wrong length.
    let network = try Sequential<Float>.perceptron(sizes: [2, 2], activation: .tanh, seed: 1)
    let model = try Model(
      network: network, featureNames: ["a", "b"],
      targetKind: .classification(column: "y", classNames: ["p", "q"]), missingValues: mean,
      loss: .crossEntropy)
    #expect(try Model<Float>(jsonData: model.jsonData(), source: "m").missingValues == mean)
    expectError(containing: "2 values, not one for each of 3 features") {
      _ = try Model(
        network: try Sequential<Float>.perceptron(sizes: [3, 2], activation: .tanh, seed: 1),
        featureNames: ["a", "b", "c"],
        targetKind: .classification(column: "y", classNames: ["p", "q"]), missingValues: mean,
        loss: .crossEntropy)
    }
  }
}
