@testable import Backprop
import BackpropCSV
import Foundation
import Testing

@Suite("The fast numeric CSV reader")
struct NumericCSVTests {
  /// Writes `text` to a temporary file and returns its URL.
  func file(_ text: String) throws -> URL {
    let url = FileManager.default.temporaryDirectory.appendingPathComponent(
      "numeric-\(UUID().uuidString).csv")
    try Data(text.utf8).write(to: url)
    return url
  }

  /// Every number parses to the bits the standard library's parser gives, on the fast path and
  /// off it (long mantissas, large exponents, hexadecimal, signs, spaces).
  @Test func numbersParseExactlyAsTheStandardLibraryParsesThem() {
    var generator = RandomGenerator(seed: 7)
    var cells = [
      "0", "-0", "+1", "1.", ".5", " 2.5 ", "1e5", "1E-5", "-3.25e+2", "123456789012345",
      "1234567890123456789", "0.1234567890123456789", "1e300", "4.9e-324", "1e-400",
      "00012.5000", "9007199254740993", "2.2250738585072014e-308",
    ]
    for _ in 0..<2000 {
      let value =
        generator.uniform(low: -1e6, high: 1e6) * pow(10, generator.uniform(low: -30, high: 30))
      cells.append("\(value)")
      cells.append(String(format: "%.6g", value))
      cells.append(String(format: "%.3f", value))
    }
    for cell in cells {
      let expected = Double(cell.trimmingCharacters(in: .whitespaces))
      let parsed = Data(cell.utf8).withUnsafeBytes { NumericCSV.number($0) }
      #expect(
        parsed?.bitPattern == expected?.bitPattern, "'\(cell)': \(String(describing: parsed))")
    }
    // Nor what Double(_:) takes that is not decimal: hexadecimal, infinities, NaN.
    for cell in [
      "", " ", "abc", "1e", "1.2.3", "--1", "1,5", "nan1", "0x1p3", "0x10", "inf", "nan",
    ] {
      #expect(Data(cell.utf8).withUnsafeBytes { NumericCSV.number($0) } == nil, "'\(cell)'")
    }
  }

  /// The fast reader gives the general reader's data set, bit for bit, with class names, a
  /// regression target, a BOM, CRLF line ends, blank lines and chosen feature columns.
  @Test func theFastReaderGivesTheGeneralReadersDataSet() throws {
    var generator = RandomGenerator(seed: 3)
    var lines = ["\u{FEFF}a,b,label,c\r"]
    for row in 0..<300 {
      let values = (0..<3).map { _ in String(format: "%.7g", generator.uniform(low: -5, high: 5)) }
      lines.append("\(values[0]),\(values[1]),\(["cat", "dog", "emu"][row % 3]),\(values[2])\r")
      if row % 50 == 0 { lines.append("") }
    }
    let url = try file(lines.joined(separator: "\n") + "\n")
    let general = try DataTable(csvFile: url)
    for (targets, features) in [(["label"], nil), (["c"], ["b", "a"]), (["label"], ["c"])]
      as [([String], [String]?)]
    {
      let fast: DataSet<Float> = try DataTable.dataSet(
        csvFile: url, targetColumns: targets, featureColumns: features)
      let slow: DataSet<Float> = try general.dataSet(
        targetColumns: targets, featureColumns: features)
      #expect(fast.features == slow.features && fast.targets == slow.targets)
      #expect(fast.featureNames == slow.featureNames && fast.targetKind == slow.targetKind)
    }
    let tensor: Tensor<Double> = try DataTable.features(csvFile: url, named: ["c", "a"])
    #expect(tensor == (try general.features(named: ["c", "a"]) as Tensor<Double>))
  }

  /// What the fast reader does not take goes to the general reader, whose errors name the line
  /// and column; quoted fields still parse.
  @Test func otherFilesFallBackToTheGeneralReader() throws {
    let quoted = try file("x,y\n\"1.5\",a\n2,\"b, c\"\n")
    let set: DataSet<Float> = try DataTable.dataSet(csvFile: quoted, targetColumns: ["y"])
    #expect(set.features.scalars == [1.5, 2] && set.targetKind.classNames == ["a", "b, c"])
    expectError(containing: "line 3", "column 'x'", "'oops' is not a number") {
      let _: DataSet<Float> = try DataTable.dataSet(
        csvFile: try file("x,y\n1,a\noops,b\n"), targetColumns: ["y"])
    }
    expectError(containing: "line 3", "2 fields but the header has 3") {
      let _: DataSet<Float> = try DataTable.dataSet(
        csvFile: try file("x,z,y\n1,2,a\n3,b\n"), targetColumns: ["y"])
    }
    expectError(containing: "not a finite number") {
      let _: DataSet<Float> = try DataTable.dataSet(
        csvFile: try file("x,y\n1e999,a\n"), targetColumns: ["y"])
    }
    expectError(containing: "no column 'w'") {
      let _: DataSet<Float> = try DataTable.dataSet(
        csvFile: try file("x,y\n1,a\n"), targetColumns: ["w"])
    }
  }
}
