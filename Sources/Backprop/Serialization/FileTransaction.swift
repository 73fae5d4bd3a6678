import Foundation

/// Files written as one: each is written in full to a temporary file beside its target, and
/// none replaces its target until all are written; ``commit()`` then renames them in the order
/// they were staged. Stage last the file whose presence should imply the others (a run's model
/// after its history and weights): if the process dies at any point, either that file is the
/// previous one or every file of the set is new.
///
/// A transaction that is not committed (an error, or a thrown `commit`) removes the temporary
/// files it still holds; a later write of the same target removes those of a killed process.
public final class FileTransaction {
  private var staged: [AtomicFile.Staged] = []
  private var committedCount = 0

  /// An empty transaction.
  public init() {}

  deinit {
    for file in staged.dropFirst(committedCount) { file.discard() }
  }

  /// Writes `data` for `url`, to be put in place by ``commit()``.
  ///
  /// - Throws: ``BackpropError/fileError(path:detail:)`` when it cannot be written, or `url`
  ///   exists but is not a regular file; nothing has then changed.
  public func stage(_ data: Data, to url: URL) throws {
    staged.append(try AtomicFile.stage(to: url) { try $0.write(data) })
  }

  /// Puts every staged file in place, in the order staged.
  ///
  /// - Throws: ``BackpropError/fileError(path:detail:)`` naming the first file that could not be
  ///   renamed; the files before it are in place, it and those after keep their old contents.
  public func commit() throws {
    while committedCount < staged.count {
      try staged[committedCount].commit()
      committedCount += 1
    }
  }
}
