import ArgumentParser
import Backprop
import BackpropCSV
import Foundation

/// `backprop predict`: a saved model's predictions for every row of a data file, as CSV.
struct PredictCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "predict",
    abstract: "Predict with a saved model; write CSV with a prediction column per row.",
    discussion: """
      A classifier writes the predicted class name and one probability column per class \
      (probability_<class>); a regressor writes the predicted value (prediction, or \
      prediction_<column> for several targets). CSV input is matched to the model's features \
      by column name; other columns, such as the target, are ignored.
      """
  )

  @Option(help: "The model file written by `backprop train`.")
  var model: String

  @Option(help: "The data file (.csv with the model's feature columns, .npy or IDX).")
  var data: String

  @Option(help: "Where to write the CSV (default: standard output).")
  var output: String?

  @Option(
    help: "The array of an .npz file that holds the features (default: its only one, X or x_train)."
  )
  var features: String?

  @OptionGroup var file: DataFileOptions

  func run() throws {
    let model = try Model<Float>(contentsOf: URL(fileURLWithPath: model))
    let features = try DataInput.features(
      path: data, names: model.featureNames, array: self.features, fill: model.missingValues,
      reading: try file.reading)
    let predictions = try model.predict(features)
    let width = predictions.shape[1]
    let values = predictions.scalars
    let rowCount = predictions.shape[0]
    let classes = model.targetKind.classNames
    let predicted = classes == nil ? nil : try Model<Float>.predictedClasses(predictions)
    let columns = model.targetKind.columnNames
    let header =
      classes.map { ["prediction"] + $0.map { "probability_\($0)" } }
      ?? (columns.count == 1 ? ["prediction"] : columns.map { "prediction_\($0)" })
    var csv = CSVWriter(header: header, rowCapacity: rowCount)
    for row in 0..<rowCount {
      if let classes, let predicted { csv.append(classes[predicted[row]]) }
      for value in values[(row * width)..<((row + 1) * width)] { csv.append(value) }
      csv.endRow()
    }
    if let output {
      try AtomicFile.write(Data(csv.bytes), to: URL(fileURLWithPath: output))
      print("wrote \(rowCount) predictions to \(output)")
    } else {
      FileHandle.standardOutput.write(Data(csv.bytes))
    }
  }
}
