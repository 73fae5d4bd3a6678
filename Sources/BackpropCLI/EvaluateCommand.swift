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

  @OptionGroup var source: ModelAndData

  func run() throws {
    let (model, data) = try source.load()
    let classNames = model.targetKind.classNames
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
