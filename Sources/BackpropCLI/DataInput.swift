import Backprop
import BackpropCSV
import Foundation

/// Reading the data files the commands take: CSV with a header, NumPy `.npy` (features, with the
/// targets in a second `.npy` given by `--labels`) and IDX as in MNIST (images, with `--labels`
/// naming the labels file), gzip-compressed or not.
enum DataInput {
  enum Format {
    case csv, npy, idx
  }

  static func format(of path: String) -> Format {
    let name = path.lowercased()
    if name.hasSuffix(".npy") { return .npy }
    if name.contains("idx") || name.hasSuffix("-ubyte") || name.hasSuffix("-ubyte.gz") {
      return .idx
    }
    return .csv
  }

  /// A data set from `path` with its targets; `classNames` pins the classes (a model's).
  static func load(
    path: String, target: String?, features: [String]? = nil, labels: String?,
    encoding: DataTable.TargetEncoding, classNames: [String]? = nil
  ) throws -> DataSet<Float> {
    let url = URL(fileURLWithPath: path)
    switch format(of: path) {
    case .csv:
      guard let target else {
        throw CLIError("\(path): name the target column with --target")
      }
      let columns = target.split(separator: ",").map {
        String($0).trimmingCharacters(in: .whitespaces)
      }
      return try DataTable.dataSet(
        csvFile: url, targetColumns: columns, featureColumns: features, encoding: encoding,
        classNames: classNames)
    case .npy, .idx:
      guard let labels else {
        throw CLIError("\(path): give the file of targets with --labels")
      }
      let data: DataSet<Float> =
        format(of: path) == .npy
        ? try DataSet(
          npyFeatures: url, targets: URL(fileURLWithPath: labels),
          classification: encoding == .automatic ? nil : encoding == .classes)
        : try DataSet(idxImages: url, labels: URL(fileURLWithPath: labels))
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

  /// The labelled data at `path`, with the model's features and classes.
  static func load(for model: Model<Float>, path: String, target: String?, labels: String?)
    throws -> DataSet<Float>
  {
    let classNames = model.targetKind.classNames
    return try DataInput.load(
      path: path, target: target ?? model.targetKind.columnNames.joined(separator: ","),
      features: DataInput.format(of: path) == .csv ? model.featureNames : nil, labels: labels,
      encoding: classNames == nil ? .values : .classes, classNames: classNames)
  }

  /// The features the model takes, from a file that may lack the target: CSV columns are
  /// picked by name, `.npy` and IDX arrays are taken whole.
  static func features(path: String, names: [String]) throws -> Tensor<Float> {
    let url = URL(fileURLWithPath: path)
    switch format(of: path) {
    case .csv:
      return try DataTable.features(csvFile: url, named: names)
    case .npy, .idx:
      let array =
        format(of: path) == .npy
        ? try NumPyArray.readTensor(contentsOf: url, as: Float.self)
        : try IDXFile(contentsOf: url).tensor(as: Float.self)
      let count = array.shape.first ?? 0
      return try array.reshaped(to: [count, array.count / max(count, 1)])
    }
  }
}
