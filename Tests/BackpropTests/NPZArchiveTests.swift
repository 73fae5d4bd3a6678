import Foundation
import Testing

@testable import Backprop

/// `.npz` archives as NumPy writes them, and damaged ones.
@Suite("NumPy .npz archives")
struct NPZArchiveTests {
  /// `numpy.savez(f, X=[[1.5, 2], [3, -1]] as float32, y=[0, 1] as int64)`: stored, with zip64
  /// local headers, as NumPy writes them.
  static let stored =
    Data(
      base64Encoded:
        "UEsDBC0AAAAAAAAAIQAy45sZ//////////8FABQAWC5ucHkBABAAkAAAAAAAAACQAAAAAAAAAJNOVU1QWQEAdgB7"
        + "J2Rlc2NyJzogJzxmNCcsICdmb3J0cmFuX29yZGVyJzogRmFsc2UsICdzaGFwZSc6ICgyLCAyKSwgfSAgICAgICAg"
        + "ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAKAADAPwAAAEAAAEBAAACA"
        + "v1BLAwQtAAAAAAAAACEAfmr7yf//////////BQAUAHkubnB5AQAQAJAAAAAAAAAAkAAAAAAAAACTTlVNUFkBAHYA"
        + "eydkZXNjcic6ICc8aTgnLCAnZm9ydHJhbl9vcmRlcic6IEZhbHNlLCAnc2hhcGUnOiAoMiwpLCB9ICAgICAgICAg"
        + "ICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgICAgCgAAAAAAAAAAAQAAAAAA"
        + "AABQSwECLQMtAAAAAAAAACEAMuObGZAAAACQAAAABQAAAAAAAAAAAAAAgAEAAAAAWC5ucHlQSwECLQMtAAAAAAAA"
        + "ACEAfmr7yZAAAACQAAAABQAAAAAAAAAAAAAAgAHHAAAAeS5ucHlQSwUGAAAAAAIAAgBmAAAAjgEAAAAA")
    ?? Data()

  /// The same arrays by `numpy.savez_compressed`: DEFLATE.
  static let compressed =
    Data(
      base64Encoded:
        "UEsDBC0AAAAIAAAAIQAy45sZ//////////8FABQAWC5ucHkBABAAkAAAAAAAAABTAAAAAAAAAJvsF+obEMnIUMZQ"
        + "rZ6SWpxcpG6loG6TZqKuo6Cell9UUpSYF59flJIKEndLzClOBYoXZyQWpAL5GkY6CkaaOgq1CmQDLgaGA/YMDAwO"
        + "QATEDfsBUEsDBC0AAAAIAAAAIQB+avvJ//////////8FABQAeS5ucHkBABAAkAAAAAAAAABJAAAAAAAAAJvsF+ob"
        + "EMnIUMZQrZ6SWpxcpG6loG6TaaGuo6Cell9UUpSYF59flJIKEndLzClOBYoXZyQWpAL5GkY6mjoKtQoUAC4GKGCE"
        + "0gBQSwECLQMtAAAACAAAACEAMuObGVMAAACQAAAABQAAAAAAAAAAAAAAgAEAAAAAWC5ucHlQSwECLQMtAAAACAAA"
        + "ACEAfmr7yUkAAACQAAAABQAAAAAAAAAAAAAAgAGKAAAAeS5ucHlQSwUGAAAAAAIAAgBmAAAACgEAAAAA")
    ?? Data()

  @Test func storedAndCompressedArchivesGiveTheirArrays() throws {
    for data in [Self.stored, Self.compressed] {
      let archive = try NPZArchive(data: data, source: "a.npz")
      #expect(archive.names == ["X", "y"])
      let features = try #require(try archive.array(named: "X"))
      #expect(features.shape == [2, 2] && features.values == [1.5, 2, 3, -1])
      #expect(try archive.array(named: "y")?.values == [0, 1])
      #expect(try archive.array(named: "z") == nil)
      let labels = try #require(try archive.array(named: "y"))
      let set = try DataSet<Float>(
        features: features.tensor(), from: "a.npz (X)", targets: labels, from: "a.npz (y)")
      #expect(set.targetKind.classNames == ["0", "1"])
    }
  }

  @Test func damagedArchivesAreErrorsNotTraps() throws {
    func expectFailure(
      _ data: Data, _ fragment: String, sourceLocation: SourceLocation = #_sourceLocation
    ) {
      do {
        let archive = try NPZArchive(data: data, source: "a.npz")
        for name in archive.names { _ = try archive.array(named: name) }
        Issue.record("no error for \(fragment)", sourceLocation: sourceLocation)
      } catch {
        #expect("\(error)".contains(fragment), "\(error)", sourceLocation: sourceLocation)
      }
    }
    expectFailure(Self.stored.prefix(200), "no end-of-directory record")
    expectFailure(Data(), "no end-of-directory record")
    // A flipped byte in the first array's data (past its local header and .npy header).
    var corrupt = Self.stored
    corrupt[corrupt.startIndex + 190] ^= 0xFF
    expectFailure(corrupt, "CRC-32")
    var deflated = Self.compressed
    deflated[deflated.startIndex + 60] ^= 0x55
    expectFailure(deflated, "a.npz")
    // Every prefix and every single-byte change fails cleanly or reads.
    for length in stride(from: 0, to: Self.compressed.count, by: 7) {
      _ = try? NPZArchive(data: Self.compressed.prefix(length), source: "a.npz").names
    }
    for index in stride(from: 0, to: Self.compressed.count, by: 3) {
      var changed = Self.compressed
      changed[changed.startIndex + index] &+= 1
      if let archive = try? NPZArchive(data: changed, source: "a.npz") {
        for name in archive.names { _ = try? archive.array(named: name) }
      }
    }
  }
}
