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

  /// Creates limits; the defaults suit a laptop shared by a class.
  public init(
    sessions: Int = 8, hiddenLayers: Int = 6, neuronsPerLayer: Int = 32, samples: Int = 2000,
    uploadBytes: Int = 1 << 20, stepsPerSecond: Int = 2000, framesPerSecond: Int = 10
  ) {
    self.sessions = sessions
    self.hiddenLayers = hiddenLayers
    self.neuronsPerLayer = neuronsPerLayer
    self.samples = samples
    self.uploadBytes = uploadBytes
    self.stepsPerSecond = stepsPerSecond
    self.framesPerSecond = framesPerSecond
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
