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
  /// Where the next read starts.
  private var position = 0

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

  /// Fills `buffer` with the next bytes of the file; a buffer of 16 MiB or more is read in parts
  /// on the kernels' threads, since copying from the page cache (and the kernel's zeroing of the
  /// fresh pages) keeps a core busy: a 188 MB file then reads in about half the time.
  ///
  /// - Throws: ``BackpropError/fileError(path:detail:)`` when the file ends first or a read fails.
  func read(into buffer: UnsafeMutableRawBufferPointer) throws {
    guard let base = buffer.baseAddress else { return }
    let start = position
    let failures = FailureList()
    Kernels.forEachRange(
      count: buffer.count, parts: buffer.count >= 1 << 24 ? Kernels.threadCount : 1,
      block: hugePageBytes
    ) { from, to in
      if let failure = read(base + from, count: to - from, at: start + from) {
        failures.add(failure)
      }
    }
    if let failure = failures.first { throw failure }
    position += buffer.count
  }

  /// Reads `count` bytes at `offset` into `target`; the error when it cannot.
  private func read(_ target: UnsafeMutableRawPointer, count: Int, at offset: Int)
    -> BackpropError?
  {
    var done = 0
    while done < count {
      let got = pread(descriptor, target + done, count - done, off_t(offset + done))
      if got < 0 && errno == EINTR { continue }
      guard got > 0 else {
        return BackpropError.fileError(
          path: path,
          detail: got == 0
            ? "the file ended early" : "cannot read the file (\(String(cString: strerror(errno))))")
      }
      done += got
    }
    return nil
  }

  /// The errors of a read's parts, in the order they happened.
  private final class FailureList: @unchecked Sendable {
    private let lock = NSLock()
    private var failures: [BackpropError] = []

    func add(_ failure: BackpropError) { lock.withLock { failures.append(failure) } }
    var first: BackpropError? { lock.withLock { failures.first } }
  }

  /// The next `count` bytes of the file.
  func read(count: Int) throws -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: max(count, 0))
    try bytes.withUnsafeMutableBytes { try read(into: $0) }
    return bytes
  }
}
