import ArgumentParser
import Backprop
import Foundation

/// `backprop evaluate`: the loss and metrics of a saved model on labelled data.
struct EvaluateCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "evaluate",
    abstract: "Measure a saved model on labelled data: loss, metrics, confusion matrix.",
    discussion: "The last line is `accuracy: …` for a classifier and `mse: …` for a regressor."
  )

  @Option(help: "The model file written by `backprop train`.")
  var model: String

  @Option(help: "The data file (.csv, or .npy/IDX with --labels).")
  var data: String

  @Option(help: "The target column of a CSV file (default: the column the model was trained on).")
  var target: String?

  @Option(help: "The targets of .npy or IDX data.")
  var labels: String?

  func run() throws {
    let model = try Model<Float>(contentsOf: URL(fileURLWithPath: model))
    let classNames = model.targetKind.classNames
    let data = try DataInput.load(
      for: model, path: data, target: target, labels: labels)
    let evaluation = try model.evaluate(on: data)
    print("samples: \(evaluation.sampleCount)")
    if let matrix = evaluation.confusionMatrix { print("confusion matrix:\n\(matrix)") }
    print("loss: \(ProgressDisplay.format(evaluation.loss))")
    // The headline metric comes last, where scripts look for it.
    let headline = classNames == nil ? Metric.meanSquaredError.rawValue : Metric.accuracy.rawValue
    for name in evaluation.metrics.keys.sorted() where name != headline {
      print("\(name): \(ProgressDisplay.format(evaluation.metrics[name] ?? .nan))")
    }
    print("\(headline): \(ProgressDisplay.format(evaluation.metrics[headline] ?? .nan))")
  }
}
