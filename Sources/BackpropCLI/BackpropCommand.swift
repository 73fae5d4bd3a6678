import ArgumentParser
import Backprop

/// The `backprop` command: neural networks trained by backpropagation, every number visible.
public struct BackpropCommand: AsyncParsableCommand {
  /// The command's name, abstract and subcommands.
  public static let configuration = CommandConfiguration(
    commandName: "backprop",
    abstract: "Train neural networks by backpropagation and see every number of it.",
    version: backpropVersion,
    subcommands: [
      DemoCommand.self, TrainCommand.self, EvaluateCommand.self, PredictCommand.self,
      ExportCommand.self, ImportCommand.self, InfoCommand.self, PlotCommand.self,
      ExplainCommand.self, CheckCommand.self, GradcheckCommand.self,
      DoctorCommand.self, BenchCommand.self, PlaygroundCommand.self,
    ]
  )

  /// Creates the command (used by the argument parser).
  public init() {}

  /// Parses the process's arguments and runs the command; asynchronous, as the playground's
  /// server is (a top-level `main()` call would pick the synchronous entry point).
  public static func runFromCommandLine() async {
    await main()
  }
}
