import Foundation

/// A numeric array in NumPy's `.npy` format (versions 1–3), as `numpy.save` writes it.
///
/// Reads C-order arrays of float16/32/64, signed and unsigned integers of 1–8 bytes and booleans,
/// in either byte order; writes float32 or float64. A Fortran-order array (what `np.savez` writes
/// for a transposed view such as `W.T`) is put into C order when read into memory; the
/// streaming ``readTensor(contentsOf:as:)`` and other types (complex, strings, objects) are
/// rejected with a message naming them.
///
/// The array keeps the file's bytes and decodes them when asked: ``tensor(as:)`` converts straight
/// into the tensor (a copy of the bytes when the types match), and
/// ``readTensor(contentsOf:as:)`` reads a file's data into a tensor with no copy of the file in
/// memory, at the speed of the disk.
public struct NumPyArray: Sendable, Equatable, ReadableFile {
  /// The array's dimensions.
  public let shape: [Int]
  /// The NumPy type descriptor the file declared, such as `<f4`.
  public let descriptor: String
  /// The data bytes, in the file's element type and byte order.
  private let payload: Data
  private let element: Element

  private static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)

  /// The values in row-major (C) order.
  public var values: [Double] {
    payload.withUnsafeBytes { bytes in
      (0..<(bytes.count / element.size)).map { element.value(in: bytes, at: $0) }
    }
  }

  /// Creates an array from values in row-major order.
  ///
  /// - Throws: ``BackpropError/invalidShape(shape:detail:)`` when the counts disagree.
  public init(shape: [Int], values: [Double]) throws {
    guard shape.allSatisfy({ $0 >= 0 }), shape.reduce(1, *) == values.count else {
      throw BackpropError.invalidShape(
        shape: shape, detail: "does not hold \(values.count) values")
    }
    self.shape = shape
    self.descriptor = "<f8"
    self.element = Element(size: 8, bigEndian: false, kind: .float)
    self.payload = values.withUnsafeBufferPointer { Data(buffer: $0) }
  }

  /// Parses the bytes of a `.npy` file; `source` names it in errors.
  ///
  /// - Throws: ``BackpropError/malformedData(source:location:detail:)`` naming the byte offset
  ///   and the problem: a missing magic string, a header that cannot be parsed, an unsupported
  ///   type, or a size that disagrees with the shape.
  public init(data: Data, source: String) throws {
    let header = try data.withUnsafeBytes {
      try Header(prefix: $0, fileSize: data.count, source: source)
    }
    shape = header.shape
    descriptor = header.descriptor
    element = header.element
    let stored = data.subdata(in: (data.startIndex + header.dataStart)..<data.endIndex)
    payload = header.fortranOrder ? Self.rowMajor(stored, shape: shape, size: element.size) : stored
  }

  /// The bytes of a column-major array of `shape`, reordered row-major.
  private static func rowMajor(_ bytes: Data, shape: [Int], size: Int) -> Data {
    let count = shape.reduce(1, *)
    guard shape.count > 1, count > 0 else { return bytes }
    var result = [UInt8](repeating: 0, count: bytes.count)
    bytes.withUnsafeBytes { (source: UnsafeRawBufferPointer) in
      result.withUnsafeMutableBytes { (target: UnsafeMutableRawBufferPointer) in
        var index = [Int](repeating: 0, count: shape.count)
        for offset in 0..<count {
          var columnMajor = 0
          for axis in shape.indices.reversed() {
            columnMajor = columnMajor * shape[axis] + index[axis]
          }
          for byte in 0..<size { target[offset * size + byte] = source[columnMajor * size + byte] }
          // The next row-major index: the last axis runs fastest.
          var axis = shape.count - 1
          while axis >= 0 {
            index[axis] += 1
            if index[axis] < shape[axis] { break }
            index[axis] = 0
            axis -= 1
          }
        }
      }
    }
    return Data(result)
  }

  /// The array as two arrays are equal: the same shape and values.
  public static func == (lhs: NumPyArray, rhs: NumPyArray) -> Bool {
    lhs.shape == rhs.shape && lhs.descriptor == rhs.descriptor && lhs.values == rhs.values
  }

  /// The values as a tensor of the array's shape, converted element by element (copied as they
  /// are when the file holds the tensor's own type in this machine's byte order).
  public func tensor<Scalar: TensorScalar>(as type: Scalar.Type = Scalar.self) throws
    -> Tensor<Scalar>
  {
    var tensor = try Tensor<Scalar>(zeros: shape)
    payload.withUnsafeBytes { bytes in
      tensor.withUnsafeMutableBufferPointer { target in
        element.decode(bytes, into: target, from: 0)
      }
    }
    return tensor
  }

  /// The array in a `.npy` file as a tensor of `Scalar`, read in pieces straight into the
  /// tensor's storage: the file is never held in memory, so the peak is the tensor itself.
  ///
  /// - Throws: ``BackpropError/fileError(path:detail:)`` when the file cannot be read;
  ///   ``BackpropError/malformedData(source:location:detail:)`` as ``init(data:source:)``.
  public static func readTensor<Scalar: TensorScalar>(
    contentsOf url: URL, as type: Scalar.Type = Scalar.self
  ) throws -> Tensor<Scalar> {
    let file = try FileReader(url)
    defer { file.close() }
    // The header's length is in its first 12 bytes; the whole header follows.
    var prefix = try file.read(count: min(12, file.size))
    if let dataStart = Header.dataStart(in: prefix) {
      prefix += try file.read(count: min(dataStart, file.size) - prefix.count)
    }
    let header = try prefix.withUnsafeBytes {
      try Header(prefix: $0, fileSize: file.size, source: url.path)
    }
    guard !header.fortranOrder else {
      throw BackpropError.malformedData(
        source: url.path, location: "byte 10",
        detail: ".npy: a Fortran-order data file is not supported; save it with "
          + "np.ascontiguousarray")
    }
    return try Tensor<Scalar>(validShape: header.shape) { target in
      if header.element.isNative(Scalar.self) {
        try file.read(into: UnsafeMutableRawBufferPointer(target))
        return
      }
      // Other types are converted a piece at a time.
      let perPiece = max(1, (1 << 20) / header.element.size)
      var piece = [UInt8](repeating: 0, count: perPiece * header.element.size)
      for start in stride(from: 0, to: target.count, by: perPiece) {
        let count = min(perPiece, target.count - start)
        try piece.withUnsafeMutableBytes { bytes in
          try file.read(
            into: UnsafeMutableRawBufferPointer(rebasing: bytes[0..<(count * header.element.size)]))
          header.element.decode(
            UnsafeRawBufferPointer(rebasing: bytes[0..<(count * header.element.size)]),
            into: target, from: start)
        }
      }
    }
  }

  /// What a `.npy` header says, checked against the size of the file.
  private struct Header {
    /// Where the data start, from the header length that the first bytes of a file hold
    /// (2 bytes from byte 8 in version 1, 4 in later ones); nil while those bytes are missing.
    static func dataStart<Bytes: RandomAccessCollection<UInt8>>(in bytes: Bytes) -> Int?
    where Bytes.Index == Int {
      guard bytes.count > 6 else { return nil }
      let lengthSize = bytes[bytes.startIndex + 6] == 1 ? 2 : 4
      guard bytes.count >= 8 + lengthSize else { return nil }
      let length = (0..<lengthSize).reduce(0) {
        $0 | Int(bytes[bytes.startIndex + 8 + $1]) << (8 * $1)
      }
      return 8 + lengthSize + length
    }

    let shape: [Int]
    let descriptor: String
    let element: Element
    /// Whether the data are stored column-major (numpy's Fortran order).
    let fortranOrder: Bool
    /// Where the data start.
    let dataStart: Int

    init(prefix bytes: UnsafeRawBufferPointer, fileSize: Int, source: String) throws {
      func fail(_ offset: Int, _ detail: String) -> BackpropError {
        .malformedData(source: source, location: "byte \(offset)", detail: ".npy: \(detail)")
      }
      guard bytes.count >= 10, Array(bytes[0..<6]) == NumPyArray.magic else {
        throw fail(0, "the file does not start with the magic string \\x93NUMPY")
      }
      let major = bytes[6]
      let lengthSize = major == 1 ? 2 : 4
      guard (1...3).contains(major), let dataStart = Self.dataStart(in: bytes) else {
        throw fail(6, "format version \(major).\(bytes[7]) is not supported (1.0 to 3.0 are)")
      }
      let headerLength = dataStart - 8 - lengthSize
      self.dataStart = dataStart
      guard dataStart <= bytes.count,
        let header = String(bytes: bytes[(8 + lengthSize)..<dataStart], encoding: .utf8)
      else {
        throw fail(8, "the header (\(headerLength) bytes) is truncated or not text")
      }
      guard
        let descriptor = NumPyArray.field("descr", in: header)?.trimmingCharacters(in: ["'", "\""]),
        let order = NumPyArray.field("fortran_order", in: header),
        let shapeText = NumPyArray.field("shape", in: header)
      else {
        throw fail(8 + lengthSize, "the header \(header) lacks descr, fortran_order or shape")
      }
      guard order == "False" || order == "True" else {
        throw fail(8 + lengthSize, "fortran_order is \(order), neither True nor False")
      }
      fortranOrder = order == "True"
      let dimensions = shapeText.trimmingCharacters(in: ["(", ")"]).split(separator: ",")
        .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
      let shape = dimensions.compactMap { Int($0) }
      guard shape.count == dimensions.count, shape.allSatisfy({ $0 >= 0 }) else {
        throw fail(8 + lengthSize, "the shape \(shapeText) is not a tuple of sizes")
      }
      guard let element = Element(descriptor) else {
        throw fail(
          8 + lengthSize,
          "the data type '\(descriptor)' is not supported (use float16/32/64, integers or bool)")
      }
      let available = fileSize - dataStart
      let needed = byteCount(shape: shape, elementSize: element.size)
      guard needed == available else {
        throw fail(
          dataStart,
          "the shape \(shape) of '\(descriptor)' needs \(needed.map(String.init) ?? "too many") "
            + "data bytes but the file holds \(available)")
      }
      (self.shape, self.descriptor, self.element) = (shape, descriptor, element)
    }
  }

  /// The value of `key` in the header's Python dict literal.
  private static func field(_ key: String, in header: String) -> String? {
    guard let keyRange = header.range(of: "'\(key)'") ?? header.range(of: "\"\(key)\""),
      let colon = header[keyRange.upperBound...].firstIndex(of: ":")
    else { return nil }
    let rest = header[header.index(after: colon)...].drop { $0 == " " }
    if rest.first == "(" {
      guard let close = rest.firstIndex(of: ")") else { return nil }
      return String(rest[...close])
    }
    let end = rest.firstIndex { $0 == "," || $0 == "}" } ?? rest.endIndex
    return rest[..<end].trimmingCharacters(in: .whitespaces)
  }

  /// An element type of the format: its size, byte order and kind.
  struct Element: Sendable, Equatable {
    enum Kind: Sendable { case float, signed, unsigned }
    let size: Int
    let bigEndian: Bool
    let kind: Kind

    init(size: Int, bigEndian: Bool, kind: Kind) {
      (self.size, self.bigEndian, self.kind) = (size, bigEndian, kind)
    }

    /// The element type of a descriptor such as `<f4`, or nil for one not supported.
    init?(_ descriptor: String) {
      guard descriptor.count >= 3, let size = Int(descriptor.dropFirst(2)) else { return nil }
      let order = descriptor.first
      guard order == "<" || order == ">" || order == "|" || order == "=" else { return nil }
      let kind: Kind
      switch (descriptor.dropFirst().first, size) {
      case ("f", 2), ("f", 4), ("f", 8): kind = .float
      case ("i", 1), ("i", 2), ("i", 4), ("i", 8): kind = .signed
      case ("u", 1), ("u", 2), ("u", 4), ("u", 8), ("b", 1): kind = .unsigned
      default: return nil
      }
      self.init(size: size, bigEndian: order == ">", kind: kind)
    }

    /// Whether the bytes are `Scalar`'s own, in this machine's byte order.
    func isNative<Scalar: TensorScalar>(_ type: Scalar.Type) -> Bool {
      kind == .float && size == MemoryLayout<Scalar>.size && bigEndian == (1.bigEndian == 1)
    }

    /// The element at `index` of `bytes`.
    @inline(__always)
    func value(in bytes: UnsafeRawBufferPointer, at index: Int) -> Double {
      let start = index * size
      var word: UInt64 = 0
      for byte in 0..<size {
        word = word << 8 | UInt64(bytes[start + (bigEndian ? byte : size - 1 - byte)])
      }
      switch (kind, size) {
      case (.float, 2): return Double(Float16Bits.float(UInt16(truncatingIfNeeded: word)))
      case (.float, 4): return Double(Float(bitPattern: UInt32(truncatingIfNeeded: word)))
      case (.float, _): return Double(bitPattern: word)
      case (.signed, 1): return Double(Int8(truncatingIfNeeded: word))
      case (.signed, 2): return Double(Int16(truncatingIfNeeded: word))
      case (.signed, 4): return Double(Int32(truncatingIfNeeded: word))
      case (.signed, _): return Double(Int64(bitPattern: word))
      case (.unsigned, _): return Double(word)
      }
    }

    /// Decodes the elements of `bytes` into `target` from position `start` on.
    func decode<Scalar: TensorScalar>(
      _ bytes: UnsafeRawBufferPointer, into target: UnsafeMutableBufferPointer<Scalar>,
      from start: Int
    ) {
      let count = min(bytes.count / size, target.count - start)
      if isNative(Scalar.self), let source = bytes.baseAddress, let base = target.baseAddress {
        UnsafeMutableRawPointer(base + start).copyMemory(from: source, byteCount: count * size)
        return
      }
      for index in 0..<count { target[start + index] = Scalar(value(in: bytes, at: index)) }
    }
  }

  /// The bytes of a version 1.0 `.npy` file holding `tensor` as little-endian float32 or float64.
  public static func encode<Scalar: TensorScalar>(_ tensor: Tensor<Scalar>) -> Data {
    let isFloat = Scalar.self == Float.self
    let shapeText =
      tensor.shape.count == 1
      ? "(\(tensor.shape[0]),)" : "(" + tensor.shape.map(String.init).joined(separator: ", ") + ")"
    var header =
      "{'descr': '<\(isFloat ? "f4" : "f8")', 'fortran_order': False, 'shape': \(shapeText), }"
    // The data start on a 64-byte boundary, and the header ends with a newline.
    let unpadded = 10 + header.utf8.count + 1
    header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
    var data = Data(magic + [1, 0])
    let length = UInt16(header.utf8.count)
    data.append(contentsOf: [UInt8(length & 0xff), UInt8(length >> 8)])
    data.append(contentsOf: Array(header.utf8))
    for value in tensor.scalars {
      if isFloat {
        withUnsafeBytes(of: Float(value).bitPattern.littleEndian) { data.append(contentsOf: $0) }
      } else {
        withUnsafeBytes(of: Double(value).bitPattern.littleEndian) { data.append(contentsOf: $0) }
      }
    }
    return data
  }
}

/// IEEE half-precision decoding, spelled out because `Float16` is unavailable on some platforms.
enum Float16Bits {
  /// The value of the binary16 bit pattern `bits`.
  static func float(_ bits: UInt16) -> Float {
    let sign: Float = bits & 0x8000 != 0 ? -1 : 1
    let exponent = Int(bits >> 10 & 0x1f)
    let fraction = Float(bits & 0x3ff)
    switch exponent {
    case 0: return sign * fraction * 0x1p-24
    case 31: return fraction == 0 ? sign * .infinity : .nan
    default:
      return sign * (1 + fraction / 1024)
        * Float(sign: .plus, exponent: exponent - 15, significand: 1)
    }
  }
}

extension DataSet {
  /// A data set from a `.npy` array of features (`[samples, features]`; a vector is one feature
  /// per sample, and more axes, such as images, are flattened) and a `.npy` array of targets,
  /// read as scikit-learn reads them: a vector (or one column) of whole numbers, integer or
  /// float, is classes; one-hot rows (0s and one 1) are classes; anything else is values to
  /// regress. `classification` overrides the choice.
  ///
  /// - Throws: ``BackpropError/malformedData(source:location:detail:)`` from either file, for
  ///   a single number instead of an array, when they disagree on the number of samples, and
  ///   for classes that are not whole numbers or one-hot rows.
  public init(npyFeatures featuresURL: URL, targets targetsURL: URL, classification: Bool? = nil)
    throws
  {
    try self.init(
      features: try NumPyArray.readTensor(contentsOf: featuresURL), from: featuresURL.path,
      targets: try NumPyArray(contentsOf: targetsURL), from: targetsURL.path,
      classification: classification)
  }

  /// A data set from an array of features and an array of targets, read as
  /// ``init(npyFeatures:targets:classification:)`` reads them; the sources name them in errors.
  public init(
    features: Tensor<Scalar>, from featureSource: String, targets: NumPyArray,
    from targetSource: String, classification: Bool? = nil
  ) throws {
    guard let count = features.shape.first else {
      throw BackpropError.malformedData(
        source: featureSource, location: nil,
        detail: "the features are a single number (shape ()); save one row per sample, an "
          + "array of shape (samples, features), or (samples,) for one feature")
    }
    guard let labelCount = targets.shape.first else {
      throw BackpropError.malformedData(
        source: targetSource, location: nil,
        detail: "the labels are a single number (shape ()); save one label per sample, an "
          + "array of shape (samples,)")
    }
    guard labelCount == count else {
      throw BackpropError.malformedData(
        source: targetSource, location: nil,
        detail: "\(labelCount) labels for \(count) samples (the features' shape is "
          + "\(features.shape), the labels' \(targets.shape)); give one label per sample")
    }
    let featureTensor = try features.reshaped(to: [count, features.count / max(count, 1)])
    let columns = targets.shape.dropFirst().reduce(1, *)
    let values = targets.values
    let whole = values.allSatisfy { $0.isFinite && $0.rounded() == $0 }
    let oneHot =
      columns > 1 && targets.shape.count == 2 && values.allSatisfy { $0 == 0 || $0 == 1 }
      && stride(from: 0, to: values.count, by: columns).allSatisfy { row in
        values[row..<(row + columns)].reduce(0, +) == 1
      }
    let classes = classification ?? (columns == 1 ? whole : oneHot)
    guard classes else {
      try self.init(
        features: featureTensor,
        targets: targets.tensor(as: Scalar.self).reshaped(to: [count, columns]))
      return
    }
    if oneHot {
      let labels = stride(from: 0, to: values.count, by: columns).map { row in
        values[row..<(row + columns)].firstIndex(of: 1).map { $0 - row } ?? 0
      }
      try self.init(
        features: featureTensor, labels: labels, classNames: (0..<columns).map(String.init))
      return
    }
    guard columns == 1 else {
      throw BackpropError.malformedData(
        source: targetSource, location: nil,
        detail: "labels of shape \(targets.shape) are neither one class a sample nor one-hot rows")
    }
    try self.init(features: featureTensor, numericLabels: values)
  }
}
