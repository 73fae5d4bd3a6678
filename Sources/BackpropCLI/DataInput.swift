import ArgumentParser
import Backprop
import BackpropCSV
import Foundation

/// How the commands read a data file: the options that say what it is when its content does
/// not (`--format`), and how a CSV file is written (`--delimiter`, `--encoding`,
/// `--decimal-comma`).
struct DataFileOptions: ParsableArguments {
  @Option(
    help: "The data file's format: csv, npy, npz or idx (default: recognized by its content).")
  var format: DataInput.Format?

  @Option(help: "The CSV delimiter: , ; or tab (default: detected from the header line).")
  var delimiter: String?

  @Option(help: "The CSV text encoding: utf-8, latin1 or cp1252 (default utf-8).")
  var encoding: CSVFormat.Encoding?

  @Flag(help: "CSV numbers are written with a decimal comma (1,5).")
  var decimalComma = false

  func validate() throws {
    _ = try reading
  }

  /// How the options say to read the file.
  var reading: DataReading {
    get throws {
      try DataReading(
        format: format, delimiter: delimiter, encoding: encoding, decimalComma: decimalComma)
    }
  }
}

/// How to read a data file: its format when its content is not to decide, and how a CSV file
/// is written.
struct DataReading {
  /// The format, or nil to recognize it.
  var format: DataInput.Format?
  /// The CSV delimiter, encoding and decimal mark.
  var csv = CSVFormat()

  init() {}

  /// The reading that the flags (or the spec keys) of the same names describe.
  ///
  /// - Throws: ``CLIError`` for a delimiter that is not one character or `tab`, and for a
  ///   decimal comma with a comma delimiter.
  init(
    format: DataInput.Format?, delimiter: String?, encoding: CSVFormat.Encoding?, decimalComma: Bool
  )
    throws
  {
    self.format = format
    csv = CSVFormat(encoding: encoding ?? .utf8, decimalComma: decimalComma)
    switch delimiter {
    case nil: break
    case "tab", "\\t", "\t": csv.delimiter = "\t"
    case let text? where text.unicodeScalars.count == 1 && text != "\"":
      csv.delimiter = text.unicodeScalars.first
    case let text?:
      throw CLIError("--delimiter must be one character or tab (got '\(text)')")
    }
    if decimalComma && csv.delimiter == "," {
      throw CLIError("--decimal-comma needs another delimiter than the comma (; or tab)")
    }
  }
}

extension CSVFormat.Encoding: ExpressibleByArgument {}

/// Reading the data files the commands take: CSV with a header, NumPy `.npy` (features, with the
/// targets in a second `.npy` given by `--labels`) and IDX as in MNIST (images, with `--labels`
/// naming the labels file), gzip-compressed or not. A file is recognized by its first bytes; its
/// name only breaks a tie.
enum DataInput {
  /// A data file's format.
  enum Format: String, ExpressibleByArgument, CaseIterable {
    case csv, npy, npz, idx
  }

  /// The format of the file at `path`: `given`, else what its first bytes are (NumPy's magic
  /// string, an IDX header that agrees with the file's size, gzip holding IDX), else CSV text.
  ///
  /// - Throws: ``CLIError`` for a file that cannot be read, and for the formats that hold no
  ///   data set: a zip archive (`.npz`), safetensors weights, or gzip of anything but IDX.
  static func format(of path: String, given: Format? = nil) throws -> Format {
    if let given { return given }
    let name = path.lowercased()
    // A file that cannot be opened is left to its reader, whose error names the problem.
    guard let handle = FileHandle(forReadingAtPath: path) else {
      return name.hasSuffix(".npy") ? .npy : name.contains("ubyte") ? .idx : .csv
    }
    let bytes = [UInt8]((try? handle.read(upToCount: 16)) ?? Data())
    try? handle.close()
    if bytes.starts(with: [0x93] + Array("NUMPY".utf8)) { return .npy }
    if IDXFile.recognizes(contentsOf: URL(fileURLWithPath: path)) { return .idx }
    if bytes.starts(with: [0x1F, 0x8B]) {
      // IDX is the one compressed format read: its reader names what is wrong with a file
      // whose compressed header is damaged.
      guard IDXFile.inflatesAtAll(contentsOf: URL(fileURLWithPath: path)) else { return .idx }
      throw CLIError(
        "\(path) is gzip-compressed, and what it holds is not IDX; decompress it first "
          + "(gunzip) to read CSV or .npy")
    }
    if NPZArchive.isArchive(Data(bytes)) { return .npz }
    if looksLikeSafeTensors(bytes) {
      throw CLIError("\(path) is a safetensors file of weights, not a data set")
    }
    if name.hasSuffix(".npy") {
      throw CLIError("\(path) is named .npy but does not start as a NumPy file does (\\x93NUMPY)")
    }
    return .csv
  }

  /// What reading a CSV file decided that its header shows: a detected delimiter other than
  /// the comma, and pandas' index column left out. Nothing for other formats.
  static func notes(on path: String, reading: DataReading) -> [String] {
    guard (try? format(of: path, given: reading.format)) == .csv,
      let handle = try? FileHandle(forReadingFrom: URL(fileURLWithPath: path)),
      let prefix = try? handle.read(upToCount: 1 << 16),
      let text = try? reading.csv.text(
        of: prefix.prefix { $0 != UInt8(ascii: "\n") }, source: path)
    else { return [] }
    try? handle.close()
    var notes: [String] = []
    let delimiter = reading.csv.delimiter(of: text)
    if reading.csv.delimiter == nil && delimiter != "," {
      notes.append(
        "the columns are separated by \(delimiter == "\t" ? "tabs" : "'\(delimiter)'") "
          + "(detected; --delimiter chooses)")
    }
    if text.unicodeScalars.first == delimiter {
      notes.append("the unnamed first column (pandas' index, 0, 1, 2, …) is not a feature")
    }
    return notes
  }

  /// The column names in the header of the CSV file at `path`.
  static func csvColumns(of path: String, reading: DataReading) throws -> [String] {
    guard try format(of: path, given: reading.format) == .csv else {
      throw CLIError("--sample-weight names a column of a CSV file; \(path) is not one")
    }
    // The header and the first row are enough for the names.
    let bytes = try FileData.read(URL(fileURLWithPath: path))
    let lineEnds = bytes.indices.lazy.filter { bytes[$0] == UInt8(ascii: "\n") }.prefix(2)
    let head = bytes[..<(lineEnds.dropFirst().first ?? bytes.endIndex)]
    return try DataTable(
      csvText: String(decoding: head, as: UTF8.self), source: path, format: reading.csv
    ).columnNames
  }

  /// The numbers of the column `name` of the CSV file at `path`, one a row.
  static func csvColumn(_ name: String, of path: String, reading: DataReading) throws -> [Double] {
    let values: Tensor<Double> = try DataTable.features(
      csvFile: URL(fileURLWithPath: path), named: [name], format: reading.csv)
    return values.scalars
  }

  /// Whether a class name is a whole number, as classes read from whole-number targets are.
  static func isWholeNumber(_ name: String) -> Bool {
    Int(name.trimmingCharacters(in: .whitespaces)) != nil
      || Double(name).map { $0.rounded() == $0 } == true
  }

  /// safetensors: a little-endian 8-byte header length, then the JSON header's `{`.
  private static func looksLikeSafeTensors(_ bytes: [UInt8]) -> Bool {
    bytes.count >= 9 && bytes[8] == UInt8(ascii: "{") && bytes[6] == 0 && bytes[7] == 0
  }

  /// A data set from `path` with its targets; `classNames` pins the classes (a model's).
  static func load(
    path: String, target: String?, features: [String]? = nil, labels: String?,
    encoding: DataTable.TargetEncoding, classNames: [String]? = nil,
    reading: DataReading = DataReading()
  ) throws -> DataSet<Float> {
    let url = URL(fileURLWithPath: path)
    let format = try format(of: path, given: reading.format)
    switch format {
    case .csv:
      guard let target else {
        throw CLIError("\(path): name the target column with --target")
      }
      let columns = target.split(separator: ",").map {
        String($0).trimmingCharacters(in: .whitespaces)
      }
      return try DataTable.dataSet(
        csvFile: url, targetColumns: columns, featureColumns: features, encoding: encoding,
        classNames: classNames, format: reading.csv)
    case .npy, .npz, .idx:
      let classification = encoding == .automatic ? nil : encoding == .classes
      let data: DataSet<Float>
      switch format {
      case .npz:
        let archive = try NPZArchive(contentsOf: url)
        let (featureName, labelName) = try arrayNames(
          in: archive, features: features?.first, labels: labels)
        let targets = try labelName.map { try array($0, of: archive) }
        guard let targets = try targets ?? labels.map({ try labelArray(at: $0) }) else {
          throw CLIError(
            "\(path) holds \(listed(archive.names)) and no labels; give --labels NAME (an "
              + "array of the archive) or --labels FILE.npy")
        }
        data = try DataSet(
          features: try array(featureName, of: archive).tensor(as: Float.self),
          from: "\(path) (\(featureName))", targets: targets,
          from: labelName.map { "\(path) (\($0))" } ?? labels ?? path,
          classification: classification)
      case .npy:
        guard let labels else {
          throw CLIError("\(path): give the file of targets with --labels")
        }
        data = try DataSet(
          npyFeatures: url, targets: URL(fileURLWithPath: labels), classification: classification)
      default:
        guard let labels else {
          throw CLIError("\(path): give the file of targets with --labels")
        }
        data = try DataSet(idxImages: url, labels: URL(fileURLWithPath: labels))
      }
      guard let classNames, let own = data.targetKind.classNames, own != classNames,
        let labels = data.labels
      else { return data }
      // Re-index the file's classes into the model's.
      let index = Dictionary(uniqueKeysWithValues: classNames.enumerated().map { ($1, $0) })
      let mapped = try labels.map { label in
        guard let position = index[own[label]] else {
          throw CLIError(
            "\(path): the class '\(own[label])' is not one of the model's \(classNames)")
        }
        return position
      }
      return try DataSet(
        features: data.features, labels: mapped, classNames: classNames,
        featureNames: data.featureNames)
    }
  }

  /// A CSV data set from `path` whose missing feature values `missing` handles, with the fill
  /// fitted to the file and the number of cells filled or rows dropped.
  ///
  /// - Throws: ``CLIError`` for a file that is not CSV (arrays have no missing values).
  static func load(
    path: String, target: String?, features: [String]?, encoding: DataTable.TargetEncoding,
    missing: MissingValueFill.Strategy, reading: DataReading
  ) throws -> (data: DataSet<Float>, fill: MissingValueFill, changed: Int) {
    guard try format(of: path, given: reading.format) == .csv else {
      throw CLIError("--missing is for CSV files; \(path) is not one")
    }
    guard let target else { throw CLIError("\(path): name the target column with --target") }
    return try DataTable.dataSet(
      csvFile: URL(fileURLWithPath: path), targetColumns: RunSpecification.parseNames(target),
      featureColumns: features, encoding: encoding, format: reading.csv, missing: missing)
  }

  /// The arrays of an archive that hold the features and the labels: those named, else its
  /// only array (features alone), else `X` and `y`, else `x_train` and `y_train` as
  /// `keras.datasets` saves them. `labels` may name a `.npy` file instead (then it is nil here).
  ///
  /// - Throws: ``CLIError`` listing the arrays when the choice is not clear or a name is absent.
  static func arrayNames(in archive: NPZArchive, features: String?, labels: String?) throws
    -> (features: String, labels: String?)
  {
    let names = archive.names
    let labelName = labels.flatMap { names.contains($0) ? $0 : nil }
    if let features { return (features, labelName) }
    if names.count == 1 { return (names[0], labelName) }
    for (x, y) in [("X", "y"), ("x", "y"), ("x_train", "y_train"), ("X_train", "y_train")]
    where names.contains(x) {
      return (x, labelName ?? (labels == nil && names.contains(y) ? y : nil))
    }
    throw CLIError(
      "\(archive.source) holds \(listed(names)); choose the features with --features NAME and "
        + "the labels with --labels NAME")
  }

  /// The array called `name` in `archive`.
  private static func array(_ name: String, of archive: NPZArchive) throws -> NumPyArray {
    guard let array = try archive.array(named: name) else {
      throw CLIError("\(archive.source) has no array '\(name)'; it holds \(listed(archive.names))")
    }
    return array
  }

  /// The labels in a `.npy` file.
  private static func labelArray(at path: String) throws -> NumPyArray {
    try NumPyArray(contentsOf: URL(fileURLWithPath: path))
  }

  /// `'a', 'b' and 'c'`.
  private static func listed(_ names: [String]) -> String {
    let quoted = names.map { "'\($0)'" }
    return quoted.count > 1
      ? quoted.dropLast().joined(separator: ", ") + " and " + quoted[quoted.count - 1]
      : quoted.first ?? "no arrays"
  }

  /// The labelled data at `path`, with the model's features and classes.
  static func load(
    for model: Model<Float>, path: String, target: String?, labels: String?,
    array: String? = nil, reading: DataReading = DataReading()
  ) throws -> DataSet<Float> {
    let classNames = model.targetKind.classNames
    let format = try format(of: path, given: reading.format)
    // Recognized once: the load below takes the format as given instead of reading the file again.
    var known = reading
    known.format = format
    if format == .csv, let fill = model.missingValues {
      return try DataTable.dataSet(
        csvFile: URL(fileURLWithPath: path),
        targetColumns: RunSpecification.parseNames(
          target ?? model.targetKind.columnNames.joined(separator: ",")),
        featureColumns: model.featureNames, encoding: classNames == nil ? .values : .classes,
        classNames: classNames, format: reading.csv, fill: fill)
    }
    return try DataInput.load(
      path: path, target: target ?? model.targetKind.columnNames.joined(separator: ","),
      features: format == .csv ? model.featureNames : array.map { [$0] },
      labels: labels, encoding: classNames == nil ? .values : .classes, classNames: classNames,
      reading: known)
  }

  /// The features the model takes, from a file that may lack the target: CSV columns are
  /// picked by name, `.npy` and IDX arrays are taken whole (a vector is one feature a sample).
  ///
  /// - Throws: ``CLIError`` naming the sample and feature of a NaN or infinite value.
  static func features(
    path: String, names: [String], array arrayName: String? = nil,
    fill: MissingValueFill? = nil, reading: DataReading = DataReading()
  ) throws -> Tensor<Float> {
    let url = URL(fileURLWithPath: path)
    let array: Tensor<Float>
    switch try format(of: path, given: reading.format) {
    case .csv:
      return try DataTable.features(csvFile: url, named: names, format: reading.csv, fill: fill)
    case .npy: array = try NumPyArray.readTensor(contentsOf: url, as: Float.self)
    case .idx: array = try IDXFile(contentsOf: url).tensor(as: Float.self)
    case .npz:
      let archive = try NPZArchive(contentsOf: url)
      let name = try arrayNames(in: archive, features: arrayName, labels: nil).features
      array = try Self.array(name, of: archive).tensor(as: Float.self)
    }
    guard let count = array.shape.first else {
      throw CLIError(
        "\(path): the features are a single number (shape ()); give one row per sample")
    }
    let matrix = try array.reshaped(to: [count, array.count / max(count, 1)])
    if let index = matrix.firstNonFiniteIndex {
      let width = matrix.shape[1]
      throw CLIError(
        "\(path): sample \(index / width), feature \(index % width) is "
          + "\(matrix.scalars[index]); features must be finite numbers")
    }
    return matrix
  }
}
