import Foundation

/// Every metric of every epoch of a training run, and why the run ended.
///
/// Columns are named as Keras names them: `loss`, `accuracy`, `mse`, `mae`, their validation
/// counterparts `val_loss`, `val_accuracy`, …, and `learning_rate`. ``csv`` and ``jsonData()``
/// write it for plotting or comparison; a run with the same seed writes the same bytes.
public struct History: Sendable, Equatable, Codable {
  /// Why training ended.
  public enum StopReason: Sendable, Equatable, Codable, CustomStringConvertible {
    /// All requested epochs ran.
    case completed
    /// Early stopping ended the run; `bestEpoch`'s weights are the model's when restored.
    case earlyStopped(bestEpoch: Int)
    /// The monitored metric stopped improving after `bestEpoch` (``EarlyStopping/convergence``,
    /// or any rule that does not restore the best weights); the last epoch's weights are kept.
    case converged(bestEpoch: Int)
    /// The loss of a batch became NaN or infinite; the weights are those before that batch.
    case diverged(epoch: Int, batch: Int, loss: Double)
    /// A callback asked to stop after `epoch`.
    case stoppedByCallback(epoch: Int)

    /// Whether a batch's loss became NaN or infinite.
    public var diverged: Bool {
      if case .diverged = self { return true }
      return false
    }

    /// A sentence for people.
    public var description: String {
      switch self {
      case .completed: "completed"
      case .earlyStopped(let best): "stopped early; restored the weights of epoch \(best)"
      case .converged(let best):
        "converged: no improvement since epoch \(best); kept the last epoch's weights"
      case .diverged(let epoch, let batch, let loss):
        "diverged: the loss became \(loss) in epoch \(epoch), batch \(batch); "
          + "kept the weights from before that batch"
      case .stoppedByCallback(let epoch): "stopped by a callback after epoch \(epoch)"
      }
    }
  }

  /// The metric names, in column order.
  public private(set) var columns: [String] = []
  /// One row per finished epoch, in the order of ``columns``.
  public private(set) var rows: [[Double]] = []
  /// Why training ended; `nil` while it runs.
  public var stopReason: StopReason?

  /// An empty history.
  public init() {}

  /// A history from columns and rows, as read from a file.
  ///
  /// - Throws: ``BackpropError/invalidArgument(name:detail:)`` when a row's length differs from
  ///   the columns' or a column name repeats.
  public init(columns: [String], rows: [[Double]], stopReason: StopReason? = nil) throws {
    guard Set(columns).count == columns.count, rows.allSatisfy({ $0.count == columns.count }) else {
      throw BackpropError.invalidArgument(
        name: "history",
        detail: "the rows must have one value per column, and names must not repeat")
    }
    self.columns = columns
    self.rows = rows
    self.stopReason = stopReason
  }

  /// The number of finished epochs.
  public var epochCount: Int { rows.count }

  /// Appends an epoch's metrics; the first epoch fixes the columns (in the order given), and a
  /// later epoch's missing metric is recorded as NaN.
  public mutating func append(_ metrics: KeyValuePairs<String, Double>) {
    append(Array(metrics))
  }

  /// Appends an epoch's values in the order of `columns`, which fixes the columns at the first
  /// epoch and must stay the same.
  mutating func append(row values: [Double], columns names: [String]) {
    if columns.isEmpty { columns = names }
    rows.append(values)
  }

  mutating func append(_ metrics: [(key: String, value: Double)]) {
    for (name, _) in metrics where !columns.contains(name) {
      columns.append(name)
      for index in rows.indices { rows[index].append(.nan) }
    }
    let values = Dictionary(metrics, uniquingKeysWith: { _, last in last })
    rows.append(columns.map { values[$0] ?? .nan })
  }

  /// Every epoch's value of `metric`, or `nil` when there is no such column.
  public func values(of metric: String) -> [Double]? {
    columns.firstIndex(of: metric).map { column in rows.map { $0[column] } }
  }

  /// The value of `metric` in the last epoch.
  public func last(_ metric: String) -> Double? { values(of: metric)?.last }

  /// The history as CSV: a header `epoch,<columns>` and one line per epoch.
  public var csv: String {
    var lines = [(["epoch"] + columns).joined(separator: ",")]
    for (index, row) in rows.enumerated() {
      lines.append(([String(index + 1)] + row.map { String($0) }).joined(separator: ","))
    }
    return lines.joined(separator: "\n") + "\n"
  }

  /// The history as pretty-printed JSON: `columns`, `rows` (one per epoch) and `stopReason`.
  public func jsonData() throws -> Data {
    try Self.encoder.encode(self)
  }

  /// Reads a history written by ``jsonData()``.
  ///
  /// - Throws: ``BackpropError/malformedData(source:location:detail:)`` when the data are not
  ///   such a history.
  public init(jsonData data: Data, source: String) throws {
    do {
      self = try Self.decoder.decode(History.self, from: data)
    } catch {
      throw BackpropError.malformedData(
        source: source, location: nil, detail: "not a training history (\(error))")
    }
    guard rows.allSatisfy({ $0.count == columns.count }) else {
      throw BackpropError.malformedData(
        source: source, location: nil, detail: "a row's length differs from the columns'")
    }
  }

  /// Writes the history to `url` atomically, as ``fileData(for:)`` gives it.
  public func write(to url: URL) throws {
    try AtomicFile.write(try fileData(for: url), to: url)
  }

  /// The bytes of a history file named `url`: JSON when the name ends in `.json`, CSV otherwise.
  public func fileData(for url: URL) throws -> Data {
    url.pathExtension.lowercased() == "json" ? try jsonData() : Data(csv.utf8)
  }

  private static var encoder: JSONEncoder {
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
    encoder.nonConformingFloatEncodingStrategy = .convertToString(
      positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    return encoder
  }

  private static var decoder: JSONDecoder {
    let decoder = JSONDecoder()
    decoder.nonConformingFloatDecodingStrategy = .convertFromString(
      positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
    return decoder
  }
}
