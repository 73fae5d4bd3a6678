import Foundation

/// A file format parsed from its bytes, whose errors name the file it came from.
public protocol ReadableFile {
  /// Parses the bytes of a file; `source` names it in errors.
  init(data: Data, source: String) throws
}

extension ReadableFile {
  /// Reads and parses the file at `url`.
  ///
  /// - Throws: ``BackpropError/fileError(path:detail:)`` when it cannot be read, and the
  ///   format's own errors for its content.
  public init(contentsOf url: URL) throws {
    try self.init(data: try FileData.read(url), source: url.path)
  }
}
