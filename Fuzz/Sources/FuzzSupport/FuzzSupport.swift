import Foundation

/// The fuzzer's bytes as `Data`.
public func fuzzData(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> Data {
  Data(bytes: bytes, count: count)
}

/// Writes `data` to this process's scratch file with extension `ext` and passes its URL to
/// `body`, for parsers that read files (the path users take).
public func withScratchFile(_ data: Data, ext: String, _ body: (URL) throws -> Void) {
  let url = FileManager.default.temporaryDirectory
    .appendingPathComponent("backprop-fuzz-\(getpid()).\(ext)")
  guard (try? data.write(to: url)) != nil else { return }
  try? body(url)
}
