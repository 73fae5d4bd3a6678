import ArgumentParser
import Backprop
import Foundation

/// A saved model and labelled data to use it on: the options of `evaluate`, `gradcheck` and
/// `plot boundary|fit`.
struct ModelAndData: ParsableArguments {
  @Option(help: "The model file written by `backprop train`.")
  var model: String

  @Option(help: "The data file (.csv, or .npy/IDX with --labels).")
  var data: String

  @Option(help: "The target column (default: the one the model was trained on).")
  var target: String?

  @Option(
    help: "The targets of .npy or IDX data (a file), or of .npz data (an array's name or a file).")
  var labels: String?

  @Option(
    help: "The array of an .npz file that holds the features (default: its only one, X or x_train)."
  )
  var features: String?

  @OptionGroup var file: DataFileOptions

  func load() throws -> (Model<Float>, DataSet<Float>) {
    let model = try Model<Float>(contentsOf: URL(fileURLWithPath: model))
    return (
      model,
      try DataInput.load(
        for: model, path: data, target: target, labels: labels, array: features,
        reading: try file.reading)
    )
  }
}
