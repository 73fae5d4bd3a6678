import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// Writes files so that a reader sees either the old contents or the new, never a mixture: the
/// bytes go to a temporary file beside the target, are flushed to disk, and the temporary file
/// is then renamed over the target (an atomic step on POSIX file systems).
///
/// If writing fails or the process dies part-way, the previous file is untouched; a failed write
/// removes its temporary file.
public enum AtomicFile {
  /// Receives the bytes of a file being written.
  public struct Writer {
    fileprivate let descriptor: Int32
    fileprivate let path: String

    /// Appends `data` to the file.
    public func write(_ data: Data) throws {
      try data.withUnsafeBytes { buffer in
        var offset = 0
        while offset < buffer.count {
          let written = Foundation.write(
            descriptor, buffer.baseAddress.map { $0 + offset }, buffer.count - offset)
          if written < 0 {
            if errno == EINTR { continue }
            throw AtomicFile.failure(path, "cannot write")
          }
          offset += written
        }
      }
    }
  }

  /// Replaces the file at `url` with `data`.
  ///
  /// - Throws: ``BackpropError/fileError(path:detail:)`` naming the file and the system's
  ///   reason when it cannot be written; the old file is then unchanged.
  public static func write(_ data: Data, to url: URL) throws {
    try write(to: url) { try $0.write(data) }
  }

  /// Replaces the file at `url` with what `produce` writes; if `produce` throws, the old file is
  /// kept and the error rethrown.
  ///
  /// A symbolic link is followed: the file it points to is replaced (atomically, beside it) and
  /// the link stays. A path that exists but is not a regular file is refused (see
  /// ``replaceableTarget(of:)``), so that a device node is never replaced by a file.
  public static func write(to url: URL, _ produce: (Writer) throws -> Void) throws {
    let target = try replaceableTarget(of: url)
    let directory = target.deletingLastPathComponent().path
    let temporary =
      directory + "/." + target.lastPathComponent
      + ".tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL, 0o644)
    guard descriptor >= 0 else {
      throw failure(target.path, "cannot create a file in \(directory)")
    }
    var renamed = false
    defer { if !renamed { unlink(temporary) } }
    do {
      defer { close(descriptor) }
      try produce(Writer(descriptor: descriptor, path: target.path))
      guard fsync(descriptor) == 0 else { throw failure(target.path, "cannot flush") }
    }
    guard rename(temporary, target.path) == 0 else {
      throw failure(target.path, "cannot replace the file")
    }
    renamed = true
  }

  /// The file that writing `url` replaces: `url` itself, or the file its symbolic links lead
  /// to. Callers check their outputs with it before long work, so that a bad path fails first.
  ///
  /// - Throws: ``BackpropError/fileError(path:detail:)`` when the path exists but is not a
  ///   regular file (a directory, a device, a FIFO or a socket).
  @discardableResult
  public static func replaceableTarget(of url: URL) throws -> URL {
    let target = url.standardizedFileURL.resolvingSymlinksInPath()
    var status = stat()
    if lstat(target.path, &status) == 0, status.st_mode & S_IFMT != S_IFREG {
      throw BackpropError.fileError(
        path: url.path,
        detail: "it is not a regular file (a directory, a device or a FIFO); it is not replaced")
    }
    return target
  }

  fileprivate static func failure(_ path: String, _ action: String) -> BackpropError {
    .fileError(path: path, detail: "\(action): \(String(cString: strerror(errno)))")
  }
}
