import Foundation

/// Named tensors in the safetensors format, which PyTorch, JAX, NumPy and others read and write.
///
/// The format: an 8-byte little-endian header length N, N bytes of JSON mapping each name to its
/// `dtype`, `shape` and `data_offsets` (begin and end in the data section, which follows the
/// header) plus an optional `__metadata__` map of strings, then the raw little-endian data.
/// Reads F64, F32, F16 and BF16 (and integer types) and writes F32 or F64.
///
/// ``Sequential/safeTensors(metadata:)`` names a network's parameters as PyTorch's
/// `nn.Sequential` does (`0.weight`, `0.bias`, `2.weight`, …) with weights `[out, in]`, so that
/// `model.load_state_dict(safetensors.torch.load_file(path))` works on the same architecture.
public struct SafeTensors: Sendable, Equatable, ReadableFile {
  /// One stored tensor.
  public struct Entry: Sendable, Equatable {
    /// The stored type: `F64`, `F32`, `F16`, `BF16`, `I64`, `I32`, `I16`, `I8`, `U8` or `BOOL`.
    public var dtype: String
    /// The dimensions.
    public var shape: [Int]
    /// The values in row-major order.
    public var values: [Double]
  }

  /// The tensors by name, in the order they are written.
  public private(set) var entries: [(name: String, entry: Entry)] = []
  /// Free-form string metadata (`__metadata__`).
  public var metadata: [String: String] = [:]

  /// An empty collection.
  public init(metadata: [String: String] = [:]) { self.metadata = metadata }

  /// Adds or replaces the tensor `name`, to be written as F32 for `Float` and F64 for `Double`.
  public mutating func set<Scalar: TensorScalar>(_ name: String, _ tensor: Tensor<Scalar>) {
    let entry = Entry(
      dtype: Scalar.self == Float.self ? "F32" : "F64", shape: tensor.shape,
      values: tensor.scalars.map(Double.init))
    if let index = entries.firstIndex(where: { $0.name == name }) {
      entries[index].entry = entry
    } else {
      entries.append((name, entry))
    }
  }

  /// The tensor `name`, or `nil`.
  public subscript(name: String) -> Entry? {
    entries.first { $0.name == name }?.entry
  }

  /// The names of the tensors.
  public var names: [String] { entries.map(\.name) }

  /// Equal when the same names hold the same tensors, in the same order, with the same metadata.
  public static func == (lhs: SafeTensors, rhs: SafeTensors) -> Bool {
    lhs.metadata == rhs.metadata && lhs.entries.map(\.name) == rhs.entries.map(\.name)
      && lhs.entries.map(\.entry) == rhs.entries.map(\.entry)
  }

  private static let sizes: [String: Int] = [
    "F64": 8, "F32": 4, "F16": 2, "BF16": 2, "I64": 8, "I32": 4, "I16": 2, "I8": 1, "U8": 1,
    "BOOL": 1,
  ]

  // MARK: Reading

  /// Parses the bytes of a safetensors file; `source` names it in errors.
  ///
  /// - Throws: ``BackpropError/malformedData(source:location:detail:)`` naming the byte offset
  ///   of a truncated file, a bad header, an unsupported dtype or offsets that do not fit.
  public init(data: Data, source: String) throws {
    let bytes = [UInt8](data)
    func fail(_ offset: Int, _ detail: String) -> BackpropError {
      .malformedData(source: source, location: "byte \(offset)", detail: "safetensors: \(detail)")
    }
    guard bytes.count >= 8 else {
      throw fail(0, "the file has \(bytes.count) bytes, too few for the 8-byte header length")
    }
    let length = (0..<8).reduce(UInt64(0)) { $0 | UInt64(bytes[$1]) << (8 * UInt64($1)) }
    guard length <= UInt64(bytes.count - 8) else {
      throw fail(
        0, "the header length \(length) runs past the end of the file (\(bytes.count) bytes)")
    }
    let dataStart = 8 + Int(length)
    guard
      let object = try? JSONSerialization.jsonObject(with: Data(bytes[8..<dataStart])),
      let header = object as? [String: Any]
    else {
      throw fail(8, "the header is not a JSON object")
    }
    if let metadata = header["__metadata__"] {
      guard let strings = metadata as? [String: String] else {
        throw fail(8, "__metadata__ must map strings to strings")
      }
      self.metadata = strings
    }
    let dataSize = bytes.count - dataStart
    var parsed: [(name: String, entry: Entry, begin: Int)] = []
    for (name, value) in header where name != "__metadata__" {
      guard let fields = value as? [String: Any], let dtype = fields["dtype"] as? String,
        let shape = fields["shape"] as? [Int], let offsets = fields["data_offsets"] as? [Int],
        offsets.count == 2
      else {
        throw fail(8, "the entry '\(name)' needs dtype, shape and data_offsets")
      }
      guard let size = Self.sizes[dtype] else {
        throw fail(8, "the tensor '\(name)' has dtype \(dtype), which is not supported")
      }
      guard offsets[0] >= 0, offsets[0] <= offsets[1], offsets[1] <= dataSize,
        byteCount(shape: shape, elementSize: size) == offsets[1] - offsets[0]
      else {
        // An offset may be anything up to Int.max: the error points into the data only where
        // the offset lies inside them.
        throw fail(
          offsets[0] >= 0 && offsets[0] <= dataSize ? dataStart + offsets[0] : dataStart,
          "the tensor '\(name)' (\(dtype) \(shape)) has data offsets \(offsets) that do not fit "
            + "its size or the \(dataSize) data bytes")
      }
      let values = (0..<((offsets[1] - offsets[0]) / size)).map { index -> Double in
        let start = dataStart + offsets[0] + index * size
        let word = (0..<size).reduce(UInt64(0)) {
          $0 | UInt64(bytes[start + $1]) << (8 * UInt64($1))
        }
        return Self.decode(word, dtype: dtype)
      }
      parsed.append((name, Entry(dtype: dtype, shape: shape, values: values), offsets[0]))
    }
    entries = parsed.sorted { ($0.begin, $0.name) < ($1.begin, $1.name) }.map {
      ($0.name, $0.entry)
    }
  }

  private static func decode(_ word: UInt64, dtype: String) -> Double {
    switch dtype {
    case "F64": Double(bitPattern: word)
    case "F32": Double(Float(bitPattern: UInt32(truncatingIfNeeded: word)))
    case "F16": Double(Float16Bits.float(UInt16(truncatingIfNeeded: word)))
    case "BF16": Double(Float(bitPattern: UInt32(truncatingIfNeeded: word) << 16))
    case "I64": Double(Int64(bitPattern: word))
    case "I32": Double(Int32(truncatingIfNeeded: word))
    case "I16": Double(Int16(truncatingIfNeeded: word))
    case "I8": Double(Int8(truncatingIfNeeded: word))
    default: Double(word)
    }
  }

  // MARK: Writing

  /// The file's bytes: the header (padded with spaces to a multiple of 8 bytes) and the data.
  public func encoded() throws -> Data {
    var header: [String: Any] = [:]
    var offset = 0
    var payload = Data()
    for (name, entry) in entries {
      guard entry.dtype == "F32" || entry.dtype == "F64" else {
        throw BackpropError.invalidArgument(
          name: "safetensors dtype of '\(name)'",
          detail: "\(entry.dtype) cannot be written; use F32 or F64")
      }
      let size = entry.dtype == "F32" ? 4 : 8
      for value in entry.values {
        if size == 4 {
          withUnsafeBytes(of: Float(value).bitPattern.littleEndian) {
            payload.append(contentsOf: $0)
          }
        } else {
          withUnsafeBytes(of: value.bitPattern.littleEndian) { payload.append(contentsOf: $0) }
        }
      }
      header[name] = [
        "dtype": entry.dtype, "shape": entry.shape,
        "data_offsets": [offset, offset + entry.values.count * size],
      ]
      offset += entry.values.count * size
    }
    if !metadata.isEmpty { header["__metadata__"] = metadata }
    var json = try JSONSerialization.data(withJSONObject: header, options: [.sortedKeys])
    json.append(contentsOf: [UInt8](repeating: 0x20, count: (8 - json.count % 8) % 8))
    var data = Data()
    withUnsafeBytes(of: UInt64(json.count).littleEndian) { data.append(contentsOf: $0) }
    return data + json + payload
  }

  /// Writes the file atomically.
  public func write(to url: URL) throws {
    try AtomicFile.write(try encoded(), to: url)
  }
}

extension Sequential {
  /// The network's parameters named as PyTorch's `nn.Sequential` names them, weights `[out, in]`.
  public func safeTensors(metadata: [String: String] = [:]) -> SafeTensors {
    var file = SafeTensors(metadata: metadata)
    for (index, layer) in layers.enumerated() {
      guard let linear = layer as? Linear<Scalar> else { continue }
      // A 2-D weight always transposes.
      file.set("\(index).weight", (try? linear.weight.value.transposed()) ?? linear.weight.value)
      if let bias = linear.bias { file.set("\(index).bias", bias.value) }
    }
    return file
  }

  /// Saves the weights to `url` as a safetensors file, named as PyTorch names them (the
  /// counterpart of `torch.save(model.state_dict())`), atomically. A network alone has no feature
  /// names, classes or loss; a ``Model`` saves them with it.
  ///
  /// - Throws: ``BackpropError/fileError(path:detail:)`` when the file cannot be written.
  public func save(to url: URL) throws {
    try safeTensors().write(to: url)
  }

  /// Loads weights written by ``save(to:)`` (or by PyTorch, with the same names) into this
  /// network, as ``loadWeights(from:source:)`` does.
  ///
  /// - Throws: as ``loadWeights(from:source:)``, and when the file cannot be read or parsed.
  public func loadWeights(contentsOf url: URL) throws {
    try loadWeights(
      from: SafeTensors(data: try FileData.read(url), source: url.path), source: url.path)
  }

  /// Replaces the network's weights with those in `file`, which must hold exactly the tensors
  /// ``safeTensors(metadata:)`` would write, with the same shapes.
  ///
  /// Nothing changes unless every tensor fits.
  ///
  /// - Throws: ``BackpropError/malformedData(source:location:detail:)`` naming a missing or
  ///   unexpected tensor, or one whose shape does not fit its layer.
  public func loadWeights(from file: SafeTensors, source: String = "safetensors") throws {
    let expected = safeTensors()
    func fail(_ detail: String) -> BackpropError {
      .malformedData(source: source, location: nil, detail: detail)
    }
    let unexpected = file.names.filter { expected[$0] == nil }
    guard unexpected.isEmpty else {
      throw fail(
        "the tensors \(unexpected) have no place in this network, which has \(expected.names)")
    }
    var updates: [(Variable<Scalar>, Tensor<Scalar>)] = []
    for (index, layer) in layers.enumerated() {
      guard let linear = layer as? Linear<Scalar> else { continue }
      let parts = [("weight", Optional(linear.weight)), ("bias", linear.bias)]
      for case let (part, variable?) in parts {
        let name = "\(index).\(part)"
        guard let entry = file[name] else {
          throw fail("the tensor '\(name)' for layer \(index) (\(linear)) is missing")
        }
        let shape = expected[name]?.shape ?? []
        guard entry.shape == shape else {
          throw fail(
            "the tensor '\(name)' has shape \(entry.shape) but layer \(index) (\(linear)) needs \(shape)"
          )
        }
        guard entry.values.allSatisfy(\.isFinite) else {
          throw fail("the tensor '\(name)' holds a value that is not finite")
        }
        let tensor = try Tensor<Scalar>(
          shape: entry.shape, scalars: entry.values.map { Scalar($0) })
        updates.append((variable, part == "weight" ? try tensor.transposed() : tensor))
      }
    }
    for (variable, value) in updates { variable.value = value }
  }
}
