import Backprop
import BackpropCSV
import Foundation

/// One page's playground: its settings, its uploaded file and its training, driven by commands.
///
/// A session is known by an identifier of 128 random bits that only its page is told, so no
/// other page can reach it.
actor PlaygroundSession {
  /// The identifier the page uses for uploads and downloads.
  nonisolated let id: String
  nonisolated let limits: PlaygroundLimits
  private(set) var trainer: PlaygroundTrainer
  private(set) var notices: [String]
  private var upload: DataTable?
  private(set) var isRunning = false
  /// What the frames show besides the training: the chosen neuron and edge, the gradient view.
  private var view = FrameView()
  /// The data picture without its map, as the page last got it: while only the map changes,
  /// frames carry the map alone, a quarter of the picture.
  private var shownDataPicture: String?
  /// Whether a command's reply has made a frame since the training's last tick.
  private var repliedSinceTick = false

  /// The training's next frame, or nil when a command's reply made one since the previous
  /// tick: the page gets a frame a tick while training runs, and no more however many commands
  /// it sends, beyond their replies.
  func tickFrame() throws -> String? {
    defer { repliedSinceTick = false }
    return repliedSinceTick ? nil : try frame()
  }

  /// Creates a session training as `settings` say.
  ///
  /// - Throws: ``PlaygroundError`` when the settings cannot be trained.
  init(settings: PlaygroundSettings, notices: [String], limits: PlaygroundLimits) throws {
    var generator = SystemRandomNumberGenerator()
    id = (0..<2).map { _ in String(generator.next() as UInt64, radix: 16) }
      .map { String(repeating: "0", count: 16 - $0.count) + $0 }.joined()
    self.limits = limits
    self.notices = notices
    trainer = try PlaygroundTrainer(settings: settings, upload: nil, limits: limits)
  }

  var settings: PlaygroundSettings { trainer.settings }

  /// The steps taken since the session's settings last changed.
  var step: Int { trainer.step }

  /// The message that tells the page its session, settings and limits.
  func welcome() throws -> String {
    struct Welcome: Encodable {
      var type = "session"
      var id: String
      var settings: PlaygroundSettings
      var query: String
      var notices: [String]
      var upload: String?
      var limits: [String: Int]
    }
    let message = Welcome(
      id: id, settings: settings, query: settings.query, notices: notices,
      upload: upload.map {
        "\($0.source): \($0.rows.count) rows, columns \($0.columnNames.joined(separator: ", "))"
      },
      limits: [
        "hiddenLayers": limits.hiddenLayers, "neuronsPerLayer": limits.neuronsPerLayer,
        "samples": limits.samples, "uploadBytes": limits.uploadBytes,
        "stepsPerSecond": limits.stepsPerSecond,
      ])
    return try PlaygroundJSON.text(message)
  }

  /// The current frame as JSON.
  func frame() throws -> String {
    repliedSinceTick = true
    var frame = trainer.frame(isRunning: isRunning, view: view)
    shownDataPicture = frame.sendingMapAlone(whenRestIs: shownDataPicture)
    return try frame.json()
  }

  // MARK: Commands

  /// Starts or pauses training.
  func setRunning(_ running: Bool) {
    isRunning = running && trainer.divergence == nil
  }

  /// Takes up to `steps` steps (one batch each); pauses when training diverges.
  @discardableResult
  func advance(steps: Int) -> Int {
    let taken = trainer.advance(steps: steps)
    if trainer.divergence != nil { isRunning = false }
    return taken
  }

  /// Picks the neuron whose trace the frames show.
  func select(neuron name: String) throws {
    guard StepTrace.neuronNames(layerSizes: trainer.layerSizes).joined().contains(name) else {
      throw PlaygroundError("there is no neuron '\(name)' in this network")
    }
    view.neuron = name
  }

  /// Picks the edge whose weight and gradient the frames show.
  func select(edge name: String) throws {
    _ = try trainer.edge(name)
    view.edge = name
  }

  /// Sets an edge's weight in the running network (and in the settings, so the link keeps it);
  /// the edge is selected.
  func setWeight(_ edge: String, to value: Double) throws {
    try trainer.setWeight(edge, to: value)
    view.edge = edge
  }

  /// Switches the edges between weights and the last step's gradients.
  func showGradients(_ shows: Bool) {
    view.showsGradients = shows
  }

  /// Rebuilds the training from `settings` (the same settings start over); paused afterwards.
  /// On error the session keeps its training.
  func configure(_ settings: PlaygroundSettings, notices: [String]) throws {
    trainer = try PlaygroundTrainer(settings: settings, upload: upload, limits: limits)
    self.notices = notices
    isRunning = false
    if let edge = view.edge, (try? trainer.edge(edge)) == nil { view.edge = nil }
  }

  /// Starts the current settings over.
  func reset() throws { try configure(settings, notices: notices) }

  /// Keeps `csv` as the session's data and trains on it (data `upload`).
  ///
  /// - Throws: ``PlaygroundError`` (400) for a file that cannot be read or trained on; the
  ///   session keeps its data then.
  func receiveUpload(_ csv: String, name: String) throws -> String {
    let (trainer, table) = try Self.trainer(
      forUpload: csv, name: name, settings: settings, limits: limits)
    upload = table
    self.trainer = trainer
    isRunning = false
    return "\(name): \(table.rows.count) rows, \(trainer.train.featureCount) feature(s), "
      + (trainer.train.targetKind.classNames.map { "\($0.count) classes" } ?? "numeric target")
  }

  /// The training of an uploaded CSV file, with `settings` otherwise (the file decides between
  /// classes and values, a loss can be chosen again afterwards, and weights set by hand are
  /// dropped), and the file's table.
  ///
  /// - Throws: ``PlaygroundError`` (400) for a file that cannot be read or trained on.
  static func trainer(
    forUpload csv: String, name: String, settings: PlaygroundSettings, limits: PlaygroundLimits
  ) throws -> (PlaygroundTrainer, DataTable) {
    let table: DataTable
    do {
      table = try DataTable(csvText: csv, source: name)
    } catch {
      throw PlaygroundError("\(error)")
    }
    var settings = settings
    settings.data = "upload"
    settings.loss = nil
    // Another network shape, perhaps: the weights set by hand were for the last one.
    settings.weights = []
    return (try PlaygroundTrainer(settings: settings, upload: table, limits: limits), table)
  }

  /// The trained model as a model file.
  func modelFile() throws -> Data {
    do {
      return try trainer.model().jsonData()
    } catch {
      throw PlaygroundError(status: 500, "the model could not be written: \(error)")
    }
  }
}

/// The open sessions, at most ``PlaygroundLimits/sessions``.
actor PlaygroundSessions {
  let limits: PlaygroundLimits
  private var sessions: [String: PlaygroundSession] = [:]

  init(limits: PlaygroundLimits) {
    self.limits = limits
  }

  /// Opens a session.
  ///
  /// - Throws: ``PlaygroundError`` 503 when the limit of sessions is reached, 400 for settings
  ///   that cannot be trained.
  func open(settings: PlaygroundSettings, notices: [String]) throws -> PlaygroundSession {
    guard sessions.count < limits.sessions else {
      throw PlaygroundError(
        status: 503,
        "the playground already has \(limits.sessions) open pages (its limit); close one and reload"
      )
    }
    let session = try PlaygroundSession(settings: settings, notices: notices, limits: limits)
    sessions[session.id] = session
    return session
  }

  /// The session called `id`.
  ///
  /// - Throws: ``PlaygroundError`` 404 when there is none (closed, or never this server's).
  func session(_ id: String) throws -> PlaygroundSession {
    guard let session = sessions[id] else {
      throw PlaygroundError(status: 404, "there is no open session '\(id)'; reload the page")
    }
    return session
  }

  /// Ends the session called `id`.
  func close(_ id: String) {
    sessions[id] = nil
  }

  /// The number of open sessions.
  var count: Int { sessions.count }
}
