import ArgumentParser
import Backprop
import Foundation

extension ActivationFunction: ExpressibleByArgument {}

/// `backprop train`: trains a multilayer perceptron on a data file or toy data set and saves the
/// model, its history and its weights.
struct TrainCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "train",
    abstract: "Train a network on a CSV, .npy or IDX file (or a toy data set) and save the model.",
    discussion: """
      Every setting can come from a spec file (--spec run.yaml, YAML or JSON, keys spelled as \
      the flags: learning-rate, batch-size, …); flags given as well override the file. The \
      resolved settings are stored in the model file, and --save-spec writes them out, so a run \
      can be repeated exactly.

      Classification (--loss cross-entropy) treats each distinct value of the target column as a \
      class; regression (--loss mse) takes one or more numeric target columns (--target a,b). \
      Without --loss, a target column holding text means classification, numbers regression.
      """
  )

  @OptionGroup var settings: RunOptions

  @Option(help: "Where to save the model (JSON).")
  var output: String?

  @Option(help: "Where to write the per-epoch history (.csv or .json).")
  var history: String?

  @Option(help: "Where to write the weights in safetensors format, named as PyTorch names them.")
  var weights: String?

  @Option(
    help: "A directory for the run's pictures (loss, accuracy, network, decision regions or fit).")
  var plots: String?

  @Option(help: "Epochs between the decision-region snapshots of --plots (default: six in all).")
  var snapshotEvery: Int?

  @Option(help: "Write the resolved settings to this YAML file.")
  var saveSpec: String?

  @Option(
    help:
      "Continue the run saved in this model file (an --output or a checkpoint's last.json): weights, optimizer state, epochs, schedule and random streams. --epochs N trains N more; without it the run finishes its epochs."
  )
  var resume: String?

  @Option(
    help:
      "A directory where the run keeps last.json (resumable) and best.json (the best epoch's model), written atomically."
  )
  var checkpoint: String?

  @Option(help: "Epochs between checkpoints (default 1).")
  var checkpointEvery: Int?

  @Option(help: "Print one line every N epochs (default 1).")
  var logEvery: Int?

  @Flag(help: "Print only the final results, no progress.")
  var quiet = false

  private var flags: RunSpecification {
    get throws {
      var flags = try settings.flags
      flags.output = output
      flags.history = history
      flags.weights = weights
      flags.plots = plots
      flags.snapshotEvery = snapshotEvery
      flags.checkpoint = checkpoint
      flags.checkpointEvery = checkpointEvery
      flags.logEvery = logEvery
      return flags
    }
  }

  func run() throws {
    let run: TrainingRun
    if let resume {
      guard settings.spec == nil else {
        throw CLIError("--resume takes the run's settings from its model file; leave out --spec")
      }
      run = try TrainingRun(resuming: resume, flags: flags)
    } else {
      run = try TrainingRun(specification: settings.specification(overriddenBy: flags))
    }
    if checkpointEvery != nil && checkpoint == nil {
      throw CLIError("--checkpoint-every needs --checkpoint DIR")
    }
    try run.execute(quiet: quiet, saveSpec: saveSpec)
  }
}
