import ArgumentParser

/// The `backprop` command: neural networks trained by backpropagation, every number visible.
public struct BackpropCommand: ParsableCommand {
  /// The command's name, abstract and subcommands.
  public static let configuration = CommandConfiguration(
    commandName: "backprop",
    abstract: "Train neural networks by backpropagation and see every number of it.",
    version: "0.1.0",
    subcommands: [DemoCommand.self]
  )

  /// Creates the command (used by the argument parser).
  public init() {}
}
