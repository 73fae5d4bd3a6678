import Foundation

/// A numeric array in NumPy's `.npy` format (versions 1–3), as `numpy.save` writes it.
///
/// Reads C-order arrays of float16/32/64, signed and unsigned integers of 1–8 bytes and booleans,
/// in either byte order; writes float32 or float64. Fortran-order arrays and other types
/// (complex, strings, objects) are rejected with a message naming them.
public struct NumPyArray: Sendable, Equatable {
  /// The array's dimensions.
  public let shape: [Int]
  /// The values in row-major (C) order.
  public let values: [Double]
  /// The NumPy type descriptor the file declared, such as `<f4`.
  public let descriptor: String

  private static let magic: [UInt8] = [0x93] + Array("NUMPY".utf8)

  /// Creates an array from values in row-major order.
  ///
  /// - Throws: ``BackpropError/invalidShape(shape:detail:)`` when the counts disagree.
  public init(shape: [Int], values: [Double]) throws {
    guard shape.allSatisfy({ $0 >= 0 }), shape.reduce(1, *) == values.count else {
      throw BackpropError.invalidShape(
        shape: shape, detail: "does not hold \(values.count) values")
    }
    self.shape = shape
    self.values = values
    self.descriptor = "<f8"
  }

  /// Reads a `.npy` file.
  ///
  /// - Throws: ``BackpropError/malformedData(source:location:detail:)`` naming the byte offset
  ///   and the problem: a missing magic string, a header that cannot be parsed, an unsupported
  ///   type or Fortran order, or a size that disagrees with the shape.
  public init(contentsOf url: URL) throws {
    let data = try FileData.read(url)
    try self.init(data: data, source: url.path)
  }

  /// Parses the bytes of a `.npy` file; `source` names it in errors.
  public init(data: Data, source: String) throws {
    let bytes = [UInt8](data)
    func fail(_ offset: Int, _ detail: String) -> BackpropError {
      .malformedData(source: source, location: "byte \(offset)", detail: ".npy: \(detail)")
    }
    guard bytes.count >= 10, Array(bytes[0..<6]) == Self.magic else {
      throw fail(0, "the file does not start with the magic string \\x93NUMPY")
    }
    let major = bytes[6]
    let lengthSize = major == 1 ? 2 : 4
    guard (1...3).contains(major), bytes.count >= 8 + lengthSize else {
      throw fail(6, "format version \(major).\(bytes[7]) is not supported (1.0 to 3.0 are)")
    }
    let headerLength = (0..<lengthSize).reduce(0) { $0 | Int(bytes[8 + $1]) << (8 * $1) }
    let dataStart = 8 + lengthSize + headerLength
    guard dataStart <= bytes.count,
      let header = String(bytes: bytes[(8 + lengthSize)..<dataStart], encoding: .utf8)
    else {
      throw fail(8, "the header (\(headerLength) bytes) is truncated or not text")
    }
    guard let descriptor = Self.field("descr", in: header)?.trimmingCharacters(in: ["'", "\""]),
      let order = Self.field("fortran_order", in: header),
      let shapeText = Self.field("shape", in: header)
    else {
      throw fail(8 + lengthSize, "the header \(header) lacks descr, fortran_order or shape")
    }
    guard order == "False" else {
      throw fail(
        8 + lengthSize, "Fortran-order arrays are not supported; save with np.ascontiguousarray")
    }
    let dimensions = shapeText.trimmingCharacters(in: ["(", ")"]).split(separator: ",")
      .map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
    let shape = dimensions.compactMap { Int($0) }
    guard shape.count == dimensions.count, shape.allSatisfy({ $0 >= 0 }) else {
      throw fail(8 + lengthSize, "the shape \(shapeText) is not a tuple of sizes")
    }
    guard let decoder = Self.decoder(for: descriptor) else {
      throw fail(
        8 + lengthSize,
        "the data type '\(descriptor)' is not supported (use float16/32/64, integers or bool)")
    }
    let available = bytes.count - dataStart
    let needed = byteCount(shape: shape, elementSize: decoder.size)
    guard needed == available else {
      throw fail(
        dataStart,
        "the shape \(shape) of '\(descriptor)' needs \(needed.map(String.init) ?? "too many") "
          + "data bytes but the file holds \(available)")
    }
    let count = available / decoder.size
    self.shape = shape
    self.descriptor = descriptor
    self.values = (0..<count).map { index in
      let start = dataStart + index * decoder.size
      let word = (0..<decoder.size).reduce(UInt64(0)) { result, byte in
        let position = decoder.bigEndian ? byte : decoder.size - 1 - byte
        return result << 8 | UInt64(bytes[start + position])
      }
      return decoder.convert(word)
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

  private struct Decoder {
    let size: Int
    let bigEndian: Bool
    let convert: (UInt64) -> Double
  }

  private static func decoder(for descriptor: String) -> Decoder? {
    guard descriptor.count >= 3, let size = Int(descriptor.dropFirst(2)) else { return nil }
    let order = descriptor.first
    let kind = descriptor.dropFirst().first
    guard order == "<" || order == ">" || order == "|" || order == "=" else { return nil }
    let bigEndian = order == ">"
    let convert: ((UInt64) -> Double)?
    switch (kind, size) {
    case ("f", 2): convert = { Double(Float16Bits.float(UInt16(truncatingIfNeeded: $0))) }
    case ("f", 4): convert = { Double(Float(bitPattern: UInt32(truncatingIfNeeded: $0))) }
    case ("f", 8): convert = { Double(bitPattern: $0) }
    case ("i", 1): convert = { Double(Int8(truncatingIfNeeded: $0)) }
    case ("i", 2): convert = { Double(Int16(truncatingIfNeeded: $0)) }
    case ("i", 4): convert = { Double(Int32(truncatingIfNeeded: $0)) }
    case ("i", 8): convert = { Double(Int64(bitPattern: $0)) }
    case ("u", 1), ("u", 2), ("u", 4), ("u", 8), ("b", 1): convert = { Double($0) }
    default: convert = nil
    }
    return convert.map { Decoder(size: size, bigEndian: bigEndian, convert: $0) }
  }

  /// The values as a tensor of the array's shape.
  public func tensor<Scalar: TensorScalar>(as type: Scalar.Type = Scalar.self) throws
    -> Tensor<Scalar>
  {
    try Tensor(shape: shape, scalars: values.map { Scalar($0) })
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
  /// A data set from a `.npy` feature matrix (`[count, features]`; a vector is one feature) and a
  /// `.npy` target array: integers (or a 1-D array with `classification: true`) become classes,
  /// floats become regression targets.
  ///
  /// - Throws: ``BackpropError/malformedData(source:location:detail:)`` from either file, or
  ///   when they disagree on the number of samples.
  public init(npyFeatures featuresURL: URL, targets targetsURL: URL, classification: Bool? = nil)
    throws
  {
    let features = try NumPyArray(contentsOf: featuresURL)
    let targets = try NumPyArray(contentsOf: targetsURL)
    guard (1...2).contains(features.shape.count), (1...2).contains(targets.shape.count),
      features.shape[0] == targets.shape[0]
    else {
      throw BackpropError.malformedData(
        source: targetsURL.path, location: nil,
        detail:
          "features \(features.shape) and targets \(targets.shape) must be matrices or vectors "
          + "with one row per sample")
    }
    let count = features.shape[0]
    let width = features.shape.count == 2 ? features.shape[1] : 1
    let featureTensor = try Tensor(
      shape: [count, width], scalars: features.values.map { Scalar($0) })
    let integral = !targets.descriptor.contains("f")
    if classification ?? (integral && targets.shape.count == 1) {
      try self.init(features: featureTensor, numericLabels: targets.values)
    } else {
      let columns = targets.shape.count == 2 ? targets.shape[1] : 1
      try self.init(
        features: featureTensor,
        targets: Tensor(shape: [count, columns], scalars: targets.values.map { Scalar($0) }))
    }
  }
}
