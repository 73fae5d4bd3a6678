import ArgumentParser
import Backprop
import BackpropONNX
import Foundation

/// `backprop import`: a model trained elsewhere (a PyTorch state dict or an ONNX graph) as a
/// Backprop model file.
struct ImportCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "import",
    abstract: "Import an MLP from a PyTorch state dict (.safetensors) or an ONNX file.",
    discussion: """
      --weights reads an nn.Sequential state dict (0.weight, 0.bias, 2.weight, ...); \
      --activations (one per Linear layer) and --loss say what it cannot, unless the file's \
      metadata does (train --weights writes it). --onnx reads a graph of Gemm or MatMul/Add and \
      element-wise activations, as torch.onnx.export writes one for an MLP. A classifier \
      trained with cross-entropy gives logits; predict writes their softmax.
      """
  )

  @Option(help: "A PyTorch state dict saved with safetensors.")
  var weights: String?

  @Option(help: "An ONNX model file.")
  var onnx: String?

  @Option(
    help: ArgumentHelp(
      "The activation after each Linear layer: sigmoid, tanh, relu, leaky-relu, softmax or "
        + "identity, comma-separated.", valueName: "list"))
  var activations: String?

  @Option(
    help: "cross-entropy (a classifier's logits), binary-cross-entropy, mse or half-sum-of-squares."
  )
  var loss: String?

  @Option(
    help: ArgumentHelp("The class names, one per output, comma-separated.", valueName: "list"))
  var classes: String?

  @Option(help: "Where to write the model file.")
  var output: String

  func validate() throws {
    guard (weights == nil) != (onnx == nil) else {
      throw ValidationError("give one of --weights FILE and --onnx FILE")
    }
    if onnx != nil && activations != nil {
      throw ValidationError("--activations is for --weights; an ONNX graph names its activations")
    }
  }

  func run() throws {
    let loss = try self.loss.map { try LossFunction(named: $0) }
    let classNames = classes.map { $0.split(separator: ",").map(String.init) }
    let model: Model<Float>
    if let weights {
      model = try Model(
        safeTensors: try SafeTensors(contentsOf: URL(fileURLWithPath: weights)),
        activations: activations.map { $0.split(separator: ",").map(String.init) }, loss: loss,
        classNames: classNames, source: weights)
    } else {
      model = try Model(
        onnxFile: URL(fileURLWithPath: onnx ?? ""), loss: loss, classNames: classNames)
    }
    try model.save(to: URL(fileURLWithPath: output))
    print("wrote \(output): \(model.network), loss \(model.loss.rawValue)")
  }
}
