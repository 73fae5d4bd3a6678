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
    try stage(to: url, produce).commit()
  }

  /// A file written in full beside its target under a temporary name, not yet in place.
  struct Staged {
    let temporary: String
    let target: URL

    /// Renames the file over its target (the atomic step).
    func commit() throws {
      guard rename(temporary, target.path) == 0 else {
        let error = AtomicFile.failure(target.path, "cannot replace the file")
        unlink(temporary)
        throw error
      }
    }

    /// Removes the temporary file.
    func discard() { unlink(temporary) }
  }

  /// The prefix of the temporary files that writing `target` makes: `.<name>.tmp-`, then the
  /// writer's process id and a random number.
  private static func temporaryPrefix(of target: URL) -> String {
    "." + target.lastPathComponent + ".tmp-"
  }

  /// Writes what `produce` writes to a temporary file beside `url`'s target and flushes it to
  /// disk; nothing replaces the target until the result is committed. Temporary files of the
  /// same target left by processes that have died are removed first.
  static func stage(to url: URL, _ produce: (Writer) throws -> Void) throws -> Staged {
    let target = try replaceableTarget(of: url)
    let directory = target.deletingLastPathComponent().path
    removeStaleTemporaries(of: target)
    let temporary =
      directory + "/" + temporaryPrefix(of: target)
      + "\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL, 0o644)
    guard descriptor >= 0 else {
      throw failure(target.path, "cannot create a file in \(directory)")
    }
    do {
      defer { close(descriptor) }
      try produce(Writer(descriptor: descriptor, path: target.path))
      guard fsync(descriptor) == 0 else { throw failure(target.path, "cannot flush") }
    } catch {
      unlink(temporary)
      throw error
    }
    return Staged(temporary: temporary, target: target)
  }

  /// Removes the temporary files of `target` whose writing process no longer runs (killed
  /// part-way); those of running processes are left alone.
  private static func removeStaleTemporaries(of target: URL) {
    let directory = target.deletingLastPathComponent().path
    let prefix = temporaryPrefix(of: target)
    guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else {
      return
    }
    for name in names where name.hasPrefix(prefix) {
      guard let pid = Int32(name.dropFirst(prefix.count).prefix { $0 != "-" }), pid > 0,
        kill(pid, 0) != 0, errno == ESRCH
      else { continue }
      unlink(directory + "/" + name)
    }
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
