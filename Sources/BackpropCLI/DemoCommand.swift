import ArgumentParser
import Backprop
import Foundation

extension Demo.Name: ExpressibleByArgument {}

/// `backprop demo NAME`: runs one of the seed scenarios and prints its training.
struct DemoCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "demo",
    abstract: "Run one of the seed scenarios: train it and print the loss and the predictions.",
    discussion: Demo.Name.allCases.map { "\($0.rawValue): \($0.summary)" }.joined(separator: "\n")
  )

  @Argument(help: "The demo to run: \(Demo.Name.allCases.map(\.rawValue).joined(separator: ", ")).")
  var name: Demo.Name?

  @Flag(help: "List the demos and exit.")
  var list = false

  @Option(help: "The seed of the random generator (weights, shuffling).")
  var seed: UInt64 = 1

  @Option(help: "The number of epochs (steps for mazur); each demo has its own default.")
  var epochs: Int?

  @Option(
    name: [.customLong("learning-rate"), .customLong("lr")], help: "Override the learning rate.")
  var learningRate: Double?

  @Option(
    help: "A directory for the run's pictures (loss, network, decision regions or fit), as SVG.")
  var plots: String?

  func validate() throws {
    if !list && name == nil {
      throw ValidationError(
        "Name a demo (\(Demo.Name.allCases.map(\.rawValue).joined(separator: ", "))) or pass --list."
      )
    }
    if let epochs, epochs < 1 {
      throw ValidationError("--epochs must be at least 1 (got \(epochs)).")
    }
    if let learningRate, !(learningRate.isFinite && learningRate >= 0) {
      throw ValidationError(
        "--learning-rate must be a finite number not below 0 (got \(learningRate)).")
    }
  }

  func run() throws {
    guard let name, !list else {
      for demo in Demo.Name.allCases {
        print(demo.rawValue.padding(toLength: 15, withPad: " ", startingAt: 0) + demo.summary)
      }
      return
    }
    let options = Demo.Options(seed: seed, epochs: epochs, learningRate: learningRate)
    let report = try Demo.run(name, options: options) { print($0) }
    if let plots {
      try FileManager.default.createDirectory(atPath: plots, withIntermediateDirectories: true)
      let pictures = try report.pictures()
      for (name, picture) in pictures {
        try picture.write(to: URL(fileURLWithPath: plots).appendingPathComponent(name + ".svg"))
      }
      print("wrote \(pictures.map { $0.name + ".svg" }.joined(separator: ", ")) in \(plots)")
    }
  }
}
