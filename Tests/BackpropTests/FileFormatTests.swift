import Backprop
import Foundation
import Testing

/// IDX (plain and gzip), NumPy `.npy`, and their errors.
@Suite("IDX, gzip and .npy files")
struct FileFormatTests {
  /// An IDX file of unsigned bytes with the given shape.
  func idxBytes(shape: [Int], values: [UInt8]) -> Data {
    var data = Data([0, 0, 0x08, UInt8(shape.count)])
    for size in shape {
      data.append(contentsOf: withUnsafeBytes(of: UInt32(size).bigEndian, Array.init))
    }
    return data + Data(values)
  }

  /// Compresses with the system's `gzip`, an implementation independent of ours.
  func gzip(_ data: Data, level: Int = 6) throws -> Data {
    let directory = try temporaryDirectory()
    let file = directory.appendingPathComponent("data")
    try data.write(to: file)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["gzip", "-\(level)", "-n", file.path]
    try process.run()
    process.waitUntilExit()
    return try Data(contentsOf: file.appendingPathExtension("gz"))
  }

  @Test func readsAnIDXFileOfEachType() throws {
    let bytes = idxBytes(shape: [2, 3], values: [0, 1, 2, 253, 254, 255])
    let idx = try IDXFile(data: bytes, source: "x.idx")
    #expect(idx.shape == [2, 3])
    #expect(idx.values == [0, 1, 2, 253, 254, 255])
    var floats = Data([0, 0, 0x0D, 1, 0, 0, 0, 2])
    for value: Float in [1.5, -2] {
      floats.append(contentsOf: withUnsafeBytes(of: value.bitPattern.bigEndian, Array.init))
    }
    #expect(try IDXFile(data: floats, source: "f.idx").values == [1.5, -2])
    var shorts = Data([0, 0, 0x0B, 1, 0, 0, 0, 1])
    shorts.append(contentsOf: withUnsafeBytes(of: Int16(-300).bigEndian, Array.init))
    #expect(try IDXFile(data: shorts, source: "s.idx").values == [-300])
  }

  @Test func idxErrorsNameTheByteOffset() throws {
    expectError(containing: "x.idx, byte 12", "2×3 unsigned byte values (6 bytes)", "holds 5 bytes")
    {
      _ = try IDXFile(data: idxBytes(shape: [2, 3], values: [1, 2, 3, 4, 5]), source: "x.idx")
    }
    expectError(containing: "byte 0", "two zero bytes") {
      _ = try IDXFile(data: Data([1, 2, 3, 4, 5]), source: "x.idx")
    }
    expectError(containing: "byte 2", "unknown element type 0x07") {
      _ = try IDXFile(data: Data([0, 0, 7, 1, 0, 0, 0, 0]), source: "x.idx")
    }
    expectError(containing: "too few") { _ = try IDXFile(data: Data([0]), source: "x.idx") }
  }

  @Test(arguments: [1, 9])
  func readsGzipCompressedIDXFiles(level: Int) throws {
    // Random bytes compress to stored blocks, a short header to a fixed-code block, and a long
    // repetitive image to dynamic-code blocks: all three block types are decoded.
    var generator = RandomGenerator(seed: 5)
    let images = (0..<3000).map { index -> UInt8 in
      index < 1000 ? UInt8(generator.nextInt(below: 256)) : UInt8((index * index / 7) % 17)
    }
    for (shape, values) in [([3000], images), ([4], [1, 2, 3, 4] as [UInt8])] {
      let plain = idxBytes(shape: shape, values: values)
      let directory = try temporaryDirectory()
      let url = directory.appendingPathComponent("images-idx1-ubyte.gz")
      try gzip(plain, level: level).write(to: url)
      let idx = try IDXFile(contentsOf: url)
      #expect(idx.shape == shape)
      #expect(idx.values == values.map(Double.init))
    }
  }

  @Test func corruptOrTruncatedGzipIsReported() throws {
    let plain = idxBytes(shape: [512], values: (0..<512).map { UInt8($0 % 13) })
    let compressed = try gzip(plain)
    let directory = try temporaryDirectory()
    let truncated = directory.appendingPathComponent("t.gz")
    try compressed.prefix(compressed.count - 12).write(to: truncated)
    expectError(containing: "t.gz, byte", "gzip:") { _ = try IDXFile(contentsOf: truncated) }
    var flipped = compressed
    flipped[flipped.count - 8] ^= 0xff
    let corrupt = directory.appendingPathComponent("c.gz")
    try flipped.write(to: corrupt)
    expectError(containing: "c.gz, byte", "CRC-32") { _ = try IDXFile(contentsOf: corrupt) }
    expectError(containing: "missing.idx", "cannot read the file") {
      _ = try IDXFile(contentsOf: directory.appendingPathComponent("missing.idx"))
    }
  }

  @Test func multiMemberAndZeroPaddedGzipIsReadWhole() throws {
    let plain = idxBytes(shape: [6], values: [1, 2, 3, 4, 5, 6])
    let directory = try temporaryDirectory()
    let url = directory.appendingPathComponent("m.gz")
    // `cat a.gz b.gz` is a valid gzip file of both; some writers pad the end with zeros.
    try (gzip(plain.prefix(7)) + gzip(plain.dropFirst(7)) + Data(count: 16)).write(to: url)
    #expect(try IDXFile(contentsOf: url).values == [1, 2, 3, 4, 5, 6])
  }

  /// D1 of the hardening campaign: a header with FEXTRA and FNAME flags whose extra field runs
  /// past the end of the file trapped the hand-written inflater.
  @Test func aGzipHeaderRunningPastTheEndIsATruncatedFile() throws {
    let directory = try temporaryDirectory()
    let url = directory.appendingPathComponent("d1.gz")
    try Data([0x1f, 0x8b, 8, 0x04 | 0x08, 0, 0, 0, 0, 0, 3, 0xff, 0xff, 1, 2]).write(to: url)
    expectError(containing: "d1.gz, byte", "gzip:", "truncated") {
      _ = try IDXFile(contentsOf: url)
    }
  }

  /// D7: a file that inflates to far more than its header announces (here 64 MB of zeros after
  /// a header for 100 images of 28×28) is refused once the announced bytes are read, instead of
  /// being inflated whole.
  @Test func aDecompressionBombStopsAtTheHeadersSize() throws {
    let header = idxBytes(shape: [100, 28, 28], values: [])
    let directory = try temporaryDirectory()
    let url = directory.appendingPathComponent("bomb-idx3-ubyte.gz")
    try gzip(header + Data(count: 64 << 20), level: 1).write(to: url)
    expectError(containing: "bomb-idx3-ubyte.gz, byte 78416", "more than the 78400 bytes") {
      _ = try IDXFile(contentsOf: url)
    }
    // A small file claiming a gigabyte ends early, without a gigabyte allocated first.
    let claims = directory.appendingPathComponent("claims.gz")
    try gzip(idxBytes(shape: [1000, 1000, 1000], values: [1, 2, 3])).write(to: claims)
    expectError(containing: "claims.gz, byte", "end after 19 bytes") {
      _ = try IDXFile(contentsOf: claims)
    }
    // A header announcing more than the cap is refused before anything else is inflated.
    let huge = directory.appendingPathComponent("huge.gz")
    try gzip(idxBytes(shape: [65536, 65536, 2], values: [])).write(to: huge)
    expectError(containing: "huge.gz, byte 16", "65536×65536×2", "may inflate to") {
      _ = try IDXFile(contentsOf: huge)
    }
  }

  @Test func mnistStyleImagesAndLabelsMakeADataSet() throws {
    let directory = try temporaryDirectory()
    let images = directory.appendingPathComponent("images-idx3-ubyte")
    let labels = directory.appendingPathComponent("labels-idx1-ubyte")
    try idxBytes(shape: [3, 2, 2], values: Array(0..<12)).write(to: images)
    try idxBytes(shape: [3], values: [7, 2, 7]).write(to: labels)
    let data = try DataSet<Float>(idxImages: images, labels: labels)
    #expect(data.features.shape == [3, 4])
    #expect(data.targetKind.classNames == ["2", "7"])
    #expect(data.labels == [1, 0, 1])
    try idxBytes(shape: [2], values: [7, 2]).write(to: labels)
    expectError(containing: "labels have shape [2]", "3 samples") {
      _ = try DataSet<Float>(idxImages: images, labels: labels)
    }
  }

  // MARK: .npy

  /// A version 1.0 `.npy` file with the given header dict and data bytes.
  func npy(_ header: String, _ payload: [UInt8]) -> Data {
    let text = header + "\n"
    var data = Data([0x93] + Array("NUMPY".utf8) + [1, 0])
    data.append(contentsOf: [UInt8(text.utf8.count & 0xff), UInt8(text.utf8.count >> 8)])
    return data + Data(text.utf8) + Data(payload)
  }

  /// `np.save(W.T)` writes the transposed view column-major: read back in row-major order.
  @Test func readsFortranOrderArraysInRowMajorOrder() throws {
    // [[1, 2, 3], [4, 5, 6]] stored column by column: 1 4 2 5 3 6.
    let columnMajor: [UInt8] = [1, 4, 2, 5, 3, 6]
    let array = try NumPyArray(
      data: npy("{'descr': '|u1', 'fortran_order': True, 'shape': (2, 3), }", columnMajor),
      source: "t.npy")
    #expect(array.shape == [2, 3])
    #expect(array.values == [1, 2, 3, 4, 5, 6])
    let cube = try NumPyArray(
      data: npy("{'descr': '|u1', 'fortran_order': True, 'shape': (2, 1, 2), }", [1, 3, 2, 4]),
      source: "t.npy")
    #expect(cube.values == [1, 2, 3, 4])
  }

  @Test func readsIntegerFloatAndBigEndianArrays() throws {
    let ints = npy(
      "{'descr': '<i4', 'fortran_order': False, 'shape': (2, 2), }",
      [1, 0, 0, 0, 0xff, 0xff, 0xff, 0xff, 3, 0, 0, 0, 4, 0, 0, 0])
    let array = try NumPyArray(data: ints, source: "a.npy")
    #expect(array.shape == [2, 2] && array.values == [1, -1, 3, 4])
    let big = npy(
      "{'descr': '>f8', 'fortran_order': False, 'shape': (1,), }",
      withUnsafeBytes(of: (2.5).bitPattern.bigEndian, Array.init))
    #expect(try NumPyArray(data: big, source: "b.npy").values == [2.5])
    let bytes = npy("{'descr': '|u1', 'fortran_order': False, 'shape': (3,), }", [0, 128, 255])
    #expect(try NumPyArray(data: bytes, source: "c.npy").values == [0, 128, 255])
    let half = npy(
      "{'descr': '<f2', 'fortran_order': False, 'shape': (2,), }", [0x00, 0x3c, 0x00, 0xc0])
    #expect(try NumPyArray(data: half, source: "h.npy").values == [1, -2])
  }

  @Test func writtenArraysReadBack() throws {
    let tensor = try Tensor<Float>([[1.25, -3], [0.1, 7]])
    let array = try NumPyArray(data: NumPyArray.encode(tensor), source: "w.npy")
    #expect(array.shape == [2, 2] && array.descriptor == "<f4")
    #expect(try array.tensor(as: Float.self) == tensor)
    let vector = Tensor<Double>([0.1, 0.2])
    #expect(try NumPyArray(data: NumPyArray.encode(vector), source: "v.npy").values == [0.1, 0.2])
  }

  /// Files are read whole (a large one in parts, in parallel), and so is a pipe (`<(…)`, `/dev/stdin`); a directory is an error.
  @Test func filesAndPipesAreReadWhole() throws {
    let directory = try temporaryDirectory()
    let file = directory.appendingPathComponent("f.bin")
    let bytes = Data((0..<70000).map { UInt8($0 % 251) })
    try bytes.write(to: file)
    #expect(try FileData.read(file) == bytes)
    // 20 MiB is read in parts on the kernels' threads, each into its own range.
    let large = directory.appendingPathComponent("large.npy")
    let tensor = try Tensor<Float>(
      shape: [5 << 10, 1 << 10],
      scalars: (0..<5).flatMap { [Float](repeating: Float($0), count: 1 << 20) })
    let encoded = NumPyArray.encode(tensor)
    try encoded.write(to: large)
    #expect(try FileData.read(large) == encoded)
    #expect(try NumPyArray.readTensor(contentsOf: large, as: Float.self) == tensor)
    let empty = directory.appendingPathComponent("empty")
    try Data().write(to: empty)
    #expect(try FileData.read(empty).isEmpty)
    let pipe = directory.appendingPathComponent("pipe")
    #expect(mkfifo(pipe.path, 0o600) == 0)
    let writer = Thread {
      if let handle = FileHandle(forWritingAtPath: pipe.path) {
        handle.write(bytes)
        try? handle.close()
      }
    }
    writer.start()
    #expect(try FileData.read(pipe) == bytes)
    expectError(containing: "not a regular file") { _ = try FileData.read(directory) }
  }

  /// A NaN among float labels is an error naming the sample, not a class named "nan".
  @Test func nonFiniteLabelsAreRefused() throws {
    let directory = try temporaryDirectory()
    let (features, labels) = (
      directory.appendingPathComponent("x.npy"), directory.appendingPathComponent("y.npy")
    )
    try NumPyArray.encode(try Tensor<Float>(shape: [3, 2], scalars: [1, 2, 3, 4, 5, 6]))
      .write(to: features)
    try NumPyArray.encode(try Tensor<Float>(shape: [3], scalars: [0, .nan, 1])).write(to: labels)
    expectError(containing: "label of sample 1", "nan is not a class") {
      _ = try DataSet<Float>(npyFeatures: features, targets: labels, classification: true)
    }
  }

  @Test func npyErrorsNameTheProblem() throws {
    expectError(containing: "z.npy, byte 10", "'<c16' is not supported") {
      _ = try NumPyArray(
        data: npy(
          "{'descr': '<c16', 'fortran_order': False, 'shape': (1,), }",
          Array(repeating: 0, count: 16)),
        source: "z.npy")
    }
    expectError(containing: "fortran_order is maybe") {
      _ = try NumPyArray(
        data: npy(
          "{'descr': '<f8', 'fortran_order': maybe, 'shape': (1,), }", Array(repeating: 0, count: 8)
        ),
        source: "z.npy")
    }
    expectError(containing: "needs 16 data bytes but the file holds 8") {
      _ = try NumPyArray(
        data: npy(
          "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", Array(repeating: 0, count: 8)
        ),
        source: "z.npy")
    }
    expectError(containing: "byte 0", "magic string") {
      _ = try NumPyArray(data: Data("a,b\n1,2\n".utf8), source: "z.npy")
    }
  }

  @Test(.enabled(if: testPython != nil, "needs Scripts/python-env (Scripts/test sets it up)"))
  func readsWhatNumPyWritesAndTheReverse() throws {
    let directory = try temporaryDirectory()
    let script = """
      import sys, numpy as np
      d = sys.argv[1]
      np.save(d + '/x.npy', np.arange(12, dtype=np.float32).reshape(3, 4) / 8)
      np.save(d + '/y.npy', np.array([3, 1, 3], dtype=np.int64))
      print(repr(np.load(d + '/ours.npy').tolist()))
      """
    try NumPyArray.encode(try Tensor<Double>([[0.5, -1], [2, 1e-3]]))
      .write(to: directory.appendingPathComponent("ours.npy"))
    let printed = try runPython(script, [directory.path])
    #expect(
      printed.trimmingCharacters(in: .whitespacesAndNewlines) == "[[0.5, -1.0], [2.0, 0.001]]")
    let data = try DataSet<Float>(
      npyFeatures: directory.appendingPathComponent("x.npy"),
      targets: directory.appendingPathComponent("y.npy"))
    #expect(data.features.scalars == (0..<12).map { Float($0) / 8 })
    #expect(data.targetKind.classNames == ["1", "3"])
    #expect(data.labels == [1, 0, 1])
  }
}
