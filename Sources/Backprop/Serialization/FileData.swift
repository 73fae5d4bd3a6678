import Foundation

/// Reading whole files with an error that names the file, for every loader of the package.
public enum FileData {
  /// The bytes of the file at `url`.
  ///
  /// - Throws: ``BackpropError/fileError(path:detail:)`` with the system's reason.
  public static func read(_ url: URL) throws -> Data {
    do {
      return try Data(contentsOf: url)
    } catch {
      throw BackpropError.fileError(
        path: url.path, detail: "cannot read the file (\((error as NSError).localizedDescription))")
    }
  }
}
