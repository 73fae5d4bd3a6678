import ArgumentParser
import Backprop
import Foundation

/// `backprop gradcheck`: the gradients of a saved model on data against central differences.
struct GradcheckCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "gradcheck",
    abstract: "Check a saved model's gradients on data against central finite differences.",
    discussion: """
      The model is copied to Double; its loss on the first --samples rows is differentiated \
      automatically and by central differences (step --step), per layer and parameter. A \
      parameter passes when every element agrees within absolute + relative·max(|a|, |n|). \
      The exit status is 1 when any parameter fails.
      """
  )

  @OptionGroup var source: ModelAndData

  @Option(help: "How many rows, from the first, make the batch (default 16).")
  var samples = 16

  @Option(help: "The finite-difference step (default 1e-6).")
  var step = 1e-6

  @Option(help: "The relative tolerance (default 1e-5).")
  var relative = 1e-5

  @Option(help: "The absolute tolerance (default 1e-7).")
  var absolute = 1e-7

  func validate() throws {
    guard samples >= 1 else {
      throw ValidationError("--samples must be at least 1 (got \(samples))")
    }
    for (name, value) in [("--step", step), ("--relative", relative), ("--absolute", absolute)]
    where !(value.isFinite && value >= 0) || (name == "--step" && value == 0) {
      throw ValidationError("\(name) must be a finite positive number (got \(value))")
    }
  }

  func run() throws {
    let (loaded, data) = try source.load()
    let prepared = try loaded.prepared(data)
    let batch = try prepared.subset(Array(0..<min(samples, prepared.count)))
    let tolerance = GradientCheck.Tolerance(step: step, absolute: absolute, relative: relative)
    let report = try GradientCheck.check(
      model: loaded.network, loss: loaded.loss.loss, input: batch.features, target: batch.targets,
      tolerance: tolerance)
    print(
      "gradient check of \(source.model) on \(batch.count) samples of \(source.data), loss "
        + loaded.loss.rawValue)
    print(report)
    if !report.passed { throw ExitCode(1) }
  }
}
