import ArgumentParser
import Backprop
import Foundation

/// `backprop check`: one hand-written training step, saved with `np.savez`, checked array by array.
struct CheckCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "check",
    abstract:
      "Check the arrays of a hand-written training step (np.savez or JSON) and name the bug.",
    discussion: """
      The file holds what the code had after one step: X and Y, the weights W1…Wn and biases \
      b1…bn as they were before it, and any of z1, a1 (h1, H, y_pred), delta1 (dz1), dh1, dW1 \
      (W1_grad, grad_W1), db1 and W1_new (W1_after). Backprop recomputes the step in Double and \
      compares each array in the order of computation. For the first that disagrees it names \
      the likely bug (one of: \(ArrayStepCheck.Bug.allCases.map(\.rawValue).joined(separator: ", "))) \
      and the fix in your names. Weights may be in×out (X @ W) or out×in (X @ W.T); the \
      layout is read from the shapes. Exit status 0 when every array agrees, 1 otherwise.
      """
  )

  @Argument(help: "The step's arrays: an .npz file (np.savez) or a JSON object of nested lists.")
  var file: String

  @Option(
    help: "One activation per layer, comma-separated: tanh, sigmoid, relu, identity; softmax last.")
  var activations: String

  @Option(help: "The loss: mse, half-sum-of-squares, binary-cross-entropy or cross-entropy.")
  var loss: String

  @Option(
    name: [.customLong("learning-rate"), .customLong("lr")],
    help: "η of the update (needed to check W1_new).")
  var learningRate: Double?

  @Option(help: "text or json.")
  var format: OutputFormat = .text

  enum OutputFormat: String, ExpressibleByArgument, CaseIterable { case text, json }

  func validate() throws {
    if let learningRate, !(learningRate.isFinite && learningRate > 0) {
      throw ValidationError(
        "--learning-rate must be a finite positive number (got \(learningRate))")
    }
  }

  func run() throws {
    let arrays = try ArrayStepCheck.arrays(contentsOf: URL(fileURLWithPath: file))
    let check = try ArrayStepCheck(
      arrays: arrays, activations: RunSpecification.parseNames(activations),
      loss: LossFunction(named: loss), learningRate: learningRate)
    switch format {
    case .text: print(check)
    case .json: print(String(decoding: try check.json(), as: UTF8.self))
    }
    if !check.allAgree { throw ExitCode(1) }
  }
}
