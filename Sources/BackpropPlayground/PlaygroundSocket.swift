import Backprop
import FlyingFox
import Foundation

/// The WebSocket conversation of one page with its session: commands in, frames out.
///
/// The page sends JSON commands: `{"command": "start" | "pause" | "step" | "reset"}`,
/// `{"command": "select", "neuron": "h1"}` and
/// `{"command": "configure", "query": "data=moons&…", "dialect": "backprop" | "tensorflow"}`.
/// The server answers with a `session` message (settings, canonical query, notices) when the
/// settings change, a `frame` after every change and, while training runs, up to
/// ``PlaygroundLimits/framesPerSecond`` a second, and an `error` message for a command it
/// refuses. When the socket closes, the session ends.
struct PlaygroundSocket: WSMessageHandler {
  let session: PlaygroundSession
  let sessions: PlaygroundSessions

  func makeMessages(for client: AsyncStream<WSMessage>) async throws -> AsyncStream<WSMessage> {
    let (messages, output) = AsyncStream<WSMessage>.makeStream()
    let session = session
    let sessions = sessions
    let limits = session.limits
    output.yield(.text(try await session.welcome()))
    output.yield(.text(try await session.frame()))

    let ticker = Task {
      let interval = Duration.seconds(1) / max(limits.framesPerSecond, 1)
      var owed = 0.0
      while !Task.isCancelled {
        let started = ContinuousClock.now
        if await session.isRunning {
          owed += Double(await session.settings.speed) / Double(max(limits.framesPerSecond, 1))
          let steps = Int(owed)
          owed -= Double(steps)
          if steps > 0 { await session.advance(steps: steps) }
          if let frame = try? await session.frame() { output.yield(.text(frame)) }
        } else {
          owed = 0
        }
        try? await Task.sleep(until: started + interval, clock: .continuous)
      }
    }
    Task {
      for await message in client {
        guard case .text(let text) = message else {
          if case .close = message { break }
          output.yield(.text(Self.error("send commands as JSON text")))
          continue
        }
        for reply in await Self.handle(text, session: session) { output.yield(.text(reply)) }
      }
      ticker.cancel()
      await sessions.close(session.id)
      output.finish()
    }
    return messages
  }

  /// The replies to one command.
  static func handle(_ text: String, session: PlaygroundSession) async -> [String] {
    struct Command: Decodable {
      var command: String
      var neuron: String?
      var query: String?
      var dialect: PlaygroundSettings.Dialect?
    }
    do {
      guard text.utf8.count <= 64 * 1024,
        let command = try? JSONDecoder().decode(Command.self, from: Data(text.utf8))
      else {
        throw PlaygroundError(
          "a command is JSON such as {\"command\": \"start\"} (at most 64 KiB); got "
            + "'\(text.prefix(80))'")
      }
      var replies: [String] = []
      switch command.command {
      case "start": await session.setRunning(true)
      case "pause": await session.setRunning(false)
      case "step":
        await session.setRunning(false)
        await session.advance(steps: 1)
      case "reset": try await session.reset()
      case "select": try await session.select(neuron: command.neuron ?? "")
      case "configure":
        let (settings, notices) = try PlaygroundSettings.parse(
          command.query ?? "", dialect: command.dialect ?? .backprop, limits: session.limits)
        try await session.configure(settings, notices: notices)
        replies.append(try await session.welcome())
      default:
        throw PlaygroundError(
          "unknown command '\(command.command)'; the commands are start, pause, step, reset, "
            + "select, configure")
      }
      replies.append(try await session.frame())
      return replies
    } catch {
      return [Self.error("\(error)")]
    }
  }

  static func error(_ message: String) -> String {
    (try? PlaygroundJSON.text(["message": message, "type": "error"]))
      ?? #"{"message":"error","type":"error"}"#
  }
}
