import ArgumentParser
import Backprop
import BackpropONNX
import Foundation

/// `backprop export`: a saved model as an ONNX graph that onnxruntime and other runtimes run.
struct ExportCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "export",
    abstract: "Export a saved model as ONNX (opset \(ONNXFormat.opset)).",
    discussion: """
      The graph takes the raw features (input '\(ONNXFormat.inputName)', [N, features]) and \
      gives what `backprop predict` writes: '\(ONNXFormat.probabilitiesName)' (and \
      '\(ONNXFormat.logitsName)') for a classifier, '\(ONNXFormat.predictionName)' for a \
      regressor. The stored missing-value fill and scaling are part of the graph; feature and \
      class names are in its metadata_props.
      """
  )

  @Option(help: "The model file written by `backprop train`.")
  var model: String

  @Option(help: "Where to write the .onnx file.")
  var output: String

  func run() throws {
    let model = try Model<Float>(contentsOf: URL(fileURLWithPath: model))
    try model.exportONNX(to: URL(fileURLWithPath: output))
    print("wrote \(output): ONNX opset \(ONNXFormat.opset), \(model.network)")
  }
}
