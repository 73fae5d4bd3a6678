import Foundation

/// How the playground writes JSON for the page: keys sorted, so the same state gives the same
/// text; slashes unescaped (the pictures' SVG has hundreds, and base64 more); and non-finite
/// numbers (a diverged loss) as the strings `nan`, `inf`, `-inf`.
enum PlaygroundJSON {
  /// `value` as JSON bytes.
  static func data(_ value: some Encodable) throws -> Data {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    encoder.nonConformingFloatEncodingStrategy = .convertToString(
      positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    return try encoder.encode(value)
  }

  /// `value` as JSON text.
  static func text(_ value: some Encodable) throws -> String {
    String(decoding: try data(value), as: UTF8.self)
  }
}
