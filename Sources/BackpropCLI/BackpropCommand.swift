import ArgumentParser
import Backprop

/// The `backprop` command: neural networks trained by backpropagation, every number visible.
public struct BackpropCommand: ParsableCommand {
  /// The command's name, abstract and subcommands.
  public static let configuration = CommandConfiguration(
    commandName: "backprop",
    abstract: "Train neural networks by backpropagation and see every number of it.",
    version: backpropVersion,
    subcommands: [
      DemoCommand.self, TrainCommand.self, EvaluateCommand.self, PredictCommand.self,
      InfoCommand.self, PlotCommand.self, ExplainCommand.self, GradcheckCommand.self,
      DoctorCommand.self, BenchCommand.self,
    ]
  )

  /// Creates the command (used by the argument parser).
  public init() {}
}
