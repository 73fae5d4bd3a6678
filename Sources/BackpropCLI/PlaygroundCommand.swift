import ArgumentParser
import BackpropPlayground
import Foundation

/// `backprop playground`: the web playground, served by this process.
struct PlaygroundCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "playground",
    abstract: "Train networks live in a web browser and watch every number of backpropagation.",
    discussion: """
      Serves a page on which you choose data (toy sets or a CSV file), shape a network and \
      train it step by step or continuously, watching the decision regions or fit, the loss \
      curves, the weights and, for a neuron you click, its last forward and backward pass. \
      Training runs here, in Backprop itself. The settings live in the page's URL; links of \
      TensorFlow Playground (their #… part) are read where their settings have a counterpart. \
      It listens on loopback unless --host says otherwise; stop it with Ctrl-C.
      """
  )

  @Option(help: "The address to listen on (an IP address; 0.0.0.0 opens it to the network).")
  var host = "127.0.0.1"

  @Option(help: "The port (0 picks a free one).")
  var port = 0

  @Option(help: "Pages that may train at once.")
  var maxSessions = 8

  @Option(help: "Gradient steps per second that one page may ask for.")
  var maxSpeed = 2000

  func validate() throws {
    guard (0...65535).contains(port) else {
      throw ValidationError("--port must be in 0...65535 (got \(port))")
    }
    guard (1...1000).contains(maxSessions) else {
      throw ValidationError("--max-sessions must be in 1...1000 (got \(maxSessions))")
    }
    guard (1...100_000).contains(maxSpeed) else {
      throw ValidationError("--max-speed must be in 1...100000 (got \(maxSpeed))")
    }
  }

  func run() async throws {
    let server = PlaygroundServer(
      host: host, port: UInt16(port),
      limits: PlaygroundLimits(sessions: maxSessions, stepsPerSecond: maxSpeed))
    if !server.isLoopback {
      FileHandle.standardError.write(
        Data(
          ("warning: listening on \(host): anyone who can reach this machine can use the "
            + "playground and its CPU\n").utf8))
    }
    do {
      try await server.run { url in
        // Written unbuffered: scripts wait for this line to learn the port.
        FileHandle.standardOutput.write(
          Data("Backprop playground at \(url) (Ctrl-C stops it)\n".utf8))
      }
    } catch let error as PlaygroundError {
      throw CLIError(error.message)
    } catch {
      throw CLIError("the playground could not listen on \(host) port \(port): \(error)")
    }
  }
}
