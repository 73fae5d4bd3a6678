import Backprop
import Foundation

/// The WebSocket conversation of one page with its session: commands in, frames out.
///
/// The page sends JSON commands: `{"command": "start" | "pause" | "step" | "reset"}`,
/// `{"command": "select", "neuron": "h1"}`, `{"command": "select-edge", "edge": "i1-h1"}`,
/// `{"command": "set-weight", "edge": "i1-h1", "value": 0.5}`,
/// `{"command": "view", "gradients": true}` and
/// `{"command": "configure", "query": "data=moons&…", "dialect": "backprop" | "tensorflow"}`.
/// The server answers with a `session` message (settings, canonical query, notices) when the
/// settings change, a `frame` after every change and, while training runs, up to
/// ``PlaygroundLimits/framesPerSecond`` a second, and an `error` message for a command it
/// refuses. When the socket closes, the session ends.
///
/// Commands beyond ``PlaygroundLimits/commandsPerSecond`` (a burst of as many is allowed) are
/// dropped as they arrive, with one `error` message a second saying so. Every message is sent
/// only once the connection has taken the one before: a page that stops reading holds its
/// session, which then takes no steps, so a session never has more than one frame and a burst
/// of commands waiting.
struct PlaygroundSocket: Sendable {
  let session: PlaygroundSession
  let sessions: PlaygroundSessions

  /// A message from the page.
  enum Message: Sendable {
    /// A text message: a command.
    case text(String)
    /// A binary message, which no command is.
    case binary
  }

  /// Runs the conversation until `messages` ends or `send` fails (the connection is gone), then
  /// closes the session. `send` returns once the connection has taken the message.
  ///
  /// Messages are read as they arrive and rated there; those admitted wait, at most a burst of
  /// them, for their turn to be answered.
  func run<Messages: AsyncSequence>(
    _ messages: Messages, send: @escaping @Sendable (String) async throws -> Void
  ) async where Messages.Element == Message {
    let session = session
    let limit = session.limits.commandsPerSecond
    let (work, queue) = AsyncStream<Work>.makeStream(bufferingPolicy: .bufferingOldest(limit + 1))
    do {
      try await send(try await session.welcome())
      try await send(try await session.frame())
    } catch {
      return await sessions.close(session.id)
    }
    let turn = SendTurn()
    let ticker = Task { try await Self.tick(session, turn: turn, send: send) }
    async let answered: Void = Self.answer(work, session: session, turn: turn, send: send)
    var rate = CommandRate(perSecond: limit)
    do {
      for try await message in messages {
        switch rate.admit(at: .now) {
        case .admitted: queue.yield(.command(message))
        case .refused(let tell):
          if tell { queue.yield(.tooMany) }
        }
      }
    } catch {
      // The connection failed: the conversation is over.
    }
    queue.finish()
    try? await answered
    ticker.cancel()
    await sessions.close(session.id)
  }

  /// What waits to be answered: a command, or the news that commands were dropped.
  private enum Work: Sendable {
    case command(Message)
    case tooMany
  }

  /// Answers `work` in order until it ends or a message cannot be sent, each in a turn of its
  /// own.
  private static func answer(
    _ work: AsyncStream<Work>, session: PlaygroundSession, turn: SendTurn,
    send: @escaping @Sendable (String) async throws -> Void
  ) async throws {
    for await item in work {
      switch item {
      case .command(.text(let text)):
        try await turn.run {
          for reply in await handle(text, session: session) { try await send(reply) }
        }
      case .command(.binary):
        try await turn.run { try await send(error("send commands as JSON text")) }
      case .tooMany:
        let message = error(
          "too many commands: at most \(session.limits.commandsPerSecond) a second; "
            + "the others were dropped")
        try await turn.run { try await send(message) }
      }
    }
  }

  /// While the session runs, takes its steps and sends a frame, up to
  /// ``PlaygroundLimits/framesPerSecond`` times a second, until cancelled; each tick in a turn
  /// between the commands' answers, so that a command never lands between a tick's steps and
  /// its frame. A frame that waits to be sent holds the next steps: the steps owed are not made
  /// up afterwards.
  private static func tick(
    _ session: PlaygroundSession, turn: SendTurn,
    send: @escaping @Sendable (String) async throws -> Void
  ) async throws {
    let framesPerSecond = max(session.limits.framesPerSecond, 1)
    let interval = Duration.seconds(1) / framesPerSecond
    var owed = 0.0
    while true {
      let started = ContinuousClock.now
      owed = try await turn.run { [owed] in
        guard await session.isRunning else { return 0 }
        let due = owed + Double(await session.settings.speed) / Double(framesPerSecond)
        let steps = Int(due)
        if steps > 0 { await session.advance(steps: steps) }
        if let frame = try await session.tickFrame() {
          try await send(frame)
        }
        return due - Double(steps)
      }
      try await Task.sleep(until: started + interval, clock: .continuous)
    }
  }

  /// A command of the page, decoded and checked.
  enum Command: Sendable {
    case start, pause, step, reset
    case select(neuron: String)
    case selectEdge(String)
    case setWeight(edge: String, value: Double)
    case showGradients(Bool)
    case configure(PlaygroundSettings, notices: [String])
  }

  /// The command `text` holds.
  ///
  /// - Throws: ``PlaygroundError`` for text that is not a command's JSON (or is over 64 KiB), an
  ///   unknown command, or settings that `limits` refuse.
  static func command(from text: String, limits: PlaygroundLimits) throws -> Command {
    struct Message: Decodable {
      var command: String
      var neuron: String?
      var edge: String?
      var value: Double?
      var gradients: Bool?
      var query: String?
      var dialect: PlaygroundSettings.Dialect?
    }
    guard text.utf8.count <= PlaygroundLimits.messageBytes,
      let message = try? JSONDecoder().decode(Message.self, from: Data(text.utf8))
    else {
      throw PlaygroundError(
        "a command is JSON such as {\"command\": \"start\"} (at most 64 KiB); got "
          + "'\(text.prefix(80))'")
    }
    switch message.command {
    case "start": return .start
    case "pause": return .pause
    case "step": return .step
    case "reset": return .reset
    case "select": return .select(neuron: message.neuron ?? "")
    case "select-edge": return .selectEdge(message.edge ?? "")
    case "set-weight":
      guard let edge = message.edge, let value = message.value else {
        throw PlaygroundError(
          "set-weight needs an edge and a number, such as "
            + "{\"command\": \"set-weight\", \"edge\": \"i1-h1_1\", \"value\": 0.5}")
      }
      return .setWeight(edge: edge, value: value)
    case "view": return .showGradients(message.gradients ?? false)
    case "configure":
      let (settings, notices) = try PlaygroundSettings.parse(
        message.query ?? "", dialect: message.dialect ?? .backprop, limits: limits)
      return .configure(settings, notices: notices)
    default:
      throw PlaygroundError(
        "unknown command '\(message.command)'; the commands are start, pause, step, reset, "
          + "select, select-edge, set-weight, view, configure")
    }
  }

  /// The replies to one command: a `session` message when the settings changed, then a
  /// frame; or an `error` message.
  static func handle(_ text: String, session: PlaygroundSession) async -> [String] {
    do {
      var replies: [String] = []
      switch try command(from: text, limits: session.limits) {
      case .start: await session.setRunning(true)
      case .pause: await session.setRunning(false)
      case .step:
        await session.setRunning(false)
        await session.advance(steps: 1)
      case .reset: try await session.reset()
      case .select(let neuron): try await session.select(neuron: neuron)
      case .selectEdge(let edge): try await session.select(edge: edge)
      case .setWeight(let edge, let value):
        try await session.setWeight(edge, to: value)
        replies.append(try await session.welcome())
      case .showGradients(let shows): await session.showGradients(shows)
      case .configure(let settings, let notices):
        try await session.configure(settings, notices: notices)
        replies.append(try await session.welcome())
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

/// A token bucket: `perSecond` commands a second on average, and a burst of as many.
struct CommandRate {
  let perSecond: Int
  private var tokens: Double
  private var last: ContinuousClock.Instant?
  private var lastTold: ContinuousClock.Instant?

  /// Whether a command is taken, or dropped (and whether to tell the page, once a second).
  enum Decision: Equatable {
    case admitted
    case refused(tell: Bool)
  }

  init(perSecond: Int) {
    self.perSecond = max(perSecond, 1)
    tokens = Double(self.perSecond)
  }

  /// The decision for a command arriving at `now`.
  mutating func admit(at now: ContinuousClock.Instant) -> Decision {
    if let last {
      let elapsed =
        Double((now - last).components.attoseconds) / 1e18
        + Double((now - last).components.seconds)
      tokens = min(Double(perSecond), tokens + elapsed * Double(perSecond))
    }
    last = now
    if tokens >= 1 {
      tokens -= 1
      return .admitted
    }
    let tell = lastTold.map { now - $0 >= .seconds(1) } ?? true
    if tell { lastTold = now }
    return .refused(tell: tell)
  }
}
