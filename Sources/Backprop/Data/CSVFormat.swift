import Foundation

/// How a CSV file is written: its field delimiter, its text encoding and its decimal mark, as
/// spreadsheet programs and data libraries export them.
///
/// By default the delimiter is detected (comma, semicolon or tab, from the header line), the
/// text is UTF-8 (a byte-order mark is skipped) and numbers use a decimal point.
public struct CSVFormat: Sendable, Equatable {
  /// A text encoding of CSV files.
  public enum Encoding: String, Sendable, CaseIterable {
    /// UTF-8, with or without a byte-order mark.
    case utf8 = "utf-8"
    /// ISO 8859-1: one byte a character, U+0000…U+00FF.
    case latin1
    /// Windows-1252, Excel's "CSV" on Western-European Windows: Latin-1 with printable
    /// characters (€, ‘, ’, “, ”, –, —, …) in 0x80…0x9F.
    case cp1252
  }

  /// The field delimiter; nil detects it from the header line.
  public var delimiter: Unicode.Scalar?
  /// The text encoding.
  public var encoding: Encoding
  /// Whether numbers are written with a decimal comma (`1,5`), as in much of Europe; then the
  /// delimiter is usually a semicolon.
  public var decimalComma: Bool

  /// Creates a format; the defaults detect the delimiter and read UTF-8 with decimal points.
  public init(
    delimiter: Unicode.Scalar? = nil, encoding: Encoding = .utf8, decimalComma: Bool = false
  ) {
    self.delimiter = delimiter
    self.encoding = encoding
    self.decimalComma = decimalComma
  }

  /// The delimiters that detection chooses among.
  public static let detectedDelimiters: [Unicode.Scalar] = [",", ";", "\t"]

  /// The text of a file's bytes in this format's encoding, without a UTF-8 byte-order mark.
  ///
  /// - Throws: ``BackpropError/malformedData(source:location:detail:)`` when UTF-8 is expected
  ///   and the bytes are not UTF-8, naming the line and suggesting the other encodings.
  public func text(of data: Data, source: String) throws -> String {
    switch encoding {
    case .utf8:
      let body = data.starts(with: [0xEF, 0xBB, 0xBF]) ? data.dropFirst(3) : data[...]
      guard let text = String(data: body, encoding: .utf8) else {
        let line = Self.lineOfFirstInvalidUTF8(in: body)
        throw BackpropError.malformedData(
          source: source, location: "line \(line)",
          detail: "the file is not UTF-8 text; if it was exported as Latin-1 or Windows-1252 "
            + "(Excel on Windows), give --encoding latin1 or --encoding cp1252")
      }
      return text
    case .latin1:
      return String(decoding: data.map { UInt16($0) }, as: UTF16.self)
    case .cp1252:
      return String(
        decoding: data.map { byte in
          (0x80...0x9F).contains(byte) ? Self.cp1252High[Int(byte) - 0x80] : UInt16(byte)
        }, as: UTF16.self)
    }
  }

  /// The delimiter of a file whose text is `text`: the one given, else whichever of comma,
  /// semicolon and tab is found most often outside quotes on the header line (comma on a tie or
  /// when there is none: a file of one column).
  public func delimiter(of text: String) -> Unicode.Scalar {
    if let delimiter { return delimiter }
    var counts: [Unicode.Scalar: Int] = [:]
    var quoted = false
    for scalar in text.unicodeScalars {
      if scalar == "\"" { quoted.toggle() }
      if !quoted && (scalar == "\n" || scalar == "\r") { break }
      if !quoted && Self.detectedDelimiters.contains(scalar) { counts[scalar, default: 0] += 1 }
    }
    return Self.detectedDelimiters.max { (counts[$0] ?? 0) < (counts[$1] ?? 0) }
      .flatMap { (counts[$0] ?? 0) > 0 ? $0 : nil } ?? ","
  }

  /// A cell written with a decimal comma (`-1,5`, `3,25e2`) as the same number with a point;
  /// any other cell as it is.
  public static func withDecimalPoint(_ cell: String) -> String {
    guard cell.contains(",") else { return cell }
    let pointed = cell.replacingOccurrences(of: ",", with: ".")
    return cell.filter({ $0 == "," }).count == 1 && DataTable.number(pointed) != nil
      ? pointed : cell
  }

  /// The line (from 1) holding the first byte sequence that is not UTF-8.
  private static func lineOfFirstInvalidUTF8(in data: Data.SubSequence) -> Int {
    var line = 1
    var start = data.startIndex
    for index in data.indices where data[index] == UInt8(ascii: "\n") {
      if String(data: data[start..<index], encoding: .utf8) == nil { return line }
      line += 1
      start = index + 1
    }
    return line
  }

  /// The characters of Windows-1252 at 0x80…0x9F (its five unassigned bytes kept as the C1
  /// controls of Latin-1).
  private static let cp1252High: [UInt16] = [
    0x20AC, 0x0081, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021, 0x02C6, 0x2030, 0x0160,
    0x2039, 0x0152, 0x008D, 0x017D, 0x008F, 0x0090, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022,
    0x2013, 0x2014, 0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x009D, 0x017E, 0x0178,
  ]
}
