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
    var header: [String]
    var rows: [[String]] = []
    if let classes = model.targetKind.classNames {
      header = ["prediction"] + classes.map { "probability_\($0)" }
      let predicted = try Model<Float>.predictedClasses(predictions)
      for (row, index) in predicted.enumerated() {
        rows.append(
          [classes[index]] + values[(row * width)..<((row + 1) * width)].map { "\($0)" })
      }
    } else {
      let columns = model.targetKind.columnNames
      header = columns.count == 1 ? ["prediction"] : columns.map { "prediction_\($0)" }
      for row in 0..<predictions.shape[0] {
        rows.append(values[(row * width)..<((row + 1) * width)].map { "\($0)" })
      }
    }
    let text = try CSVText.make(header: header, rows: rows)
    if let output {
      try AtomicFile.write(Data(text.utf8), to: URL(fileURLWithPath: output))
      print("wrote \(rows.count) predictions to \(output)")
    } else {
      print(text, terminator: "")
    }
  }
}
