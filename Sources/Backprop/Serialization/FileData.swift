import Foundation

/// Reading whole files with an error that names the file, for every loader of the package.
public enum FileData {
  /// The bytes of the file at `url`.
  ///
  /// - Throws: ``BackpropError/fileError(path:detail:)`` with the system's reason.
  /// Read with `read(2)` into one buffer of the file's size (Foundation's `Data(contentsOf:)`
  /// leaked its buffer on some files under the fuzzer's leak checker).
  /// A pipe (`<(…)`, `/dev/stdin`) is read to its end.
  public static func read(_ url: URL) throws -> Data {
    var status = stat()
    if stat(url.path, &status) == 0, status.st_mode & S_IFMT == S_IFIFO {
      do {
        return try FileHandle(forReadingFrom: url).readToEnd() ?? Data()
      } catch {
        throw BackpropError.fileError(
          path: url.path, detail: "cannot read the pipe (\(error.localizedDescription))")
      }
    }
    let reader = try FileReader(url)
    defer { reader.close() }
    var data = Data(count: reader.size)
    try data.withUnsafeMutableBytes { try reader.read(into: $0) }
    return data
  }
}

/// A file read in pieces into memory the caller owns, with errors that name the file.
final class FileReader {
  private let descriptor: Int32
  private let path: String
  /// The file's size in bytes.
  let size: Int

  /// Opens the file at `url` for reading.
  ///
  /// - Throws: ``BackpropError/fileError(path:detail:)`` with the system's reason.
  init(_ url: URL) throws {
    path = url.path
    descriptor = open(path, O_RDONLY)
    guard descriptor >= 0 else {
      throw BackpropError.fileError(
        path: path, detail: "cannot read the file (\(String(cString: strerror(errno))))")
    }
    var status = stat()
    guard fstat(descriptor, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else {
      Foundation.close(descriptor)
      throw BackpropError.fileError(path: path, detail: "not a regular file")
    }
    size = Int(status.st_size)
  }

  /// Closes the file.
  func close() { Foundation.close(descriptor) }

  /// Fills `buffer` with the next bytes of the file.
  ///
  /// - Throws: ``BackpropError/fileError(path:detail:)`` when the file ends first or a read fails.
  func read(into buffer: UnsafeMutableRawBufferPointer) throws {
    guard let base = buffer.baseAddress else { return }
    var done = 0
    while done < buffer.count {
      let got = Foundation.read(descriptor, base + done, buffer.count - done)
      if got < 0 && errno == EINTR { continue }
      guard got > 0 else {
        throw BackpropError.fileError(
          path: path,
          detail: got == 0
            ? "the file ended early" : "cannot read the file (\(String(cString: strerror(errno))))")
      }
      done += got
    }
  }

  /// The next `count` bytes of the file.
  func read(count: Int) throws -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: max(count, 0))
    try bytes.withUnsafeMutableBytes { try read(into: $0) }
    return bytes
  }
}
