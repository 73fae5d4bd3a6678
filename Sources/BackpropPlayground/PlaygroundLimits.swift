/// The caps that keep one playground server usable by everyone on it: sizes, speed and sessions.
///
/// Every request is checked against them; what exceeds a cap is refused with a message naming
/// the cap, never trimmed silently.
public struct PlaygroundLimits: Sendable, Equatable {
  /// Sessions (open pages) at once; a page beyond them is told to wait.
  public var sessions: Int
  /// Hidden layers of a network.
  public var hiddenLayers: Int
  /// Neurons of one hidden layer.
  public var neuronsPerLayer: Int
  /// Samples of a data set, generated or uploaded.
  public var samples: Int
  /// Bytes of an uploaded CSV file.
  public var uploadBytes: Int
  /// Gradient steps per second of one session.
  public var stepsPerSecond: Int
  /// Pictures and numbers sent to a page per second while it trains.
  public var framesPerSecond: Int
  /// Commands one page may send per second (and in one burst); the rest are dropped.
  public var commandsPerSecond: Int
  /// Bytes of a request's line and headers together; a longer request closes its connection.
  public var headerBytes: Int

  /// Bytes of one WebSocket message from a page (a command).
  public static let messageBytes = 64 * 1024
  /// Weights set by hand that a link carries: every weight of a small network (TensorFlow
  /// Playground's default 2-4-2-1 has 20), a few of a larger one. A URL stays far below the 2 KB
  /// that every browser keeps.
  public static let weightsInLink = 64
  /// The largest magnitude of a weight set by hand, typed or in a link: far beyond any that
  /// trains (tanh saturates at a few), and small enough to stay finite in every product.
  public static let largestSetWeight = 100.0

  /// Refuses `value` as a weight set by hand unless it is finite and within
  /// ``largestSetWeight``; `what` names the weight in the error.
  ///
  /// - Throws: ``PlaygroundError`` saying "`what` must be in -100...100".
  static func checkSetWeight(_ value: Double, of what: String) throws {
    guard value.isFinite, abs(value) <= largestSetWeight else {
      let bound = Int(largestSetWeight)
      throw PlaygroundError("\(what) must be in \(-bound)...\(bound) (got \(value))")
    }
  }
  /// Bytes the kernel may buffer for a page's WebSocket before the session waits for it (Linux
  /// reserves twice this).
  public static let socketBufferBytes = 64 * 1024

  /// Creates limits; the defaults suit a laptop shared by a class.
  ///
  /// What one session may hold is bounded by them: its network and data (``hiddenLayers``,
  /// ``neuronsPerLayer``, ``samples``, an upload of at most ``uploadBytes``), one frame waiting
  /// to be sent beyond the socket's buffer (``socketBufferBytes``: a page that stops reading
  /// pauses its session), and a burst of commands (``commandsPerSecond`` of at most
  /// ``messageBytes``).
  public init(
    sessions: Int = 8, hiddenLayers: Int = 6, neuronsPerLayer: Int = 32, samples: Int = 2000,
    uploadBytes: Int = 1 << 20, stepsPerSecond: Int = 2000, framesPerSecond: Int = 10,
    commandsPerSecond: Int = 20, headerBytes: Int = 16 * 1024
  ) {
    self.sessions = sessions
    self.hiddenLayers = hiddenLayers
    self.neuronsPerLayer = neuronsPerLayer
    self.samples = samples
    self.uploadBytes = uploadBytes
    self.stepsPerSecond = stepsPerSecond
    self.framesPerSecond = framesPerSecond
    self.commandsPerSecond = commandsPerSecond
    self.headerBytes = headerBytes
  }
}

/// A request the playground refuses: the HTTP status it answers with and why.
public struct PlaygroundError: Error, Sendable, Equatable, CustomStringConvertible {
  /// The HTTP status code (400, 404, 405, 413, 503).
  public var status: Int
  /// The reason, as a sentence for the person at the page.
  public var message: String

  /// Creates an error.
  public init(status: Int = 400, _ message: String) {
    self.status = status
    self.message = message
  }

  /// The message.
  public var description: String { message }
}
