import Backprop
import Foundation

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Training progress on standard output: in a terminal, a bar redrawn in place (epoch, batch,
/// samples per second, loss, time left); otherwise one plain line per epoch; nothing when quiet.
final class ProgressDisplay {
  enum Mode {
    case terminal, lines, quiet
  }

  let mode: Mode
  private let sampleCount: Int
  /// Epochs between printed lines (the first and last epochs are always printed).
  private let every: Int
  private let clock = ContinuousClock()
  private var epochStart: ContinuousClock.Instant
  private var lastDraw: ContinuousClock.Instant?

  /// Starts the clock of the first epoch; create it just before training.
  init(quiet: Bool, sampleCount: Int, every: Int = 1) {
    self.mode = quiet ? .quiet : isatty(STDOUT_FILENO) == 1 ? .terminal : .lines
    self.sampleCount = sampleCount
    self.every = every
    self.epochStart = clock.now
  }

  /// The callbacks that drive the display.
  var callbacks: TrainingCallbacks {
    TrainingCallbacks(
      afterBatch: { [self] progress in batch(progress) },
      afterEpoch: { [self] summary in
        epoch(summary)
        return .proceed
      })
  }

  private func seconds(since start: ContinuousClock.Instant) -> Double {
    let duration = clock.now - start
    return Double(duration.components.seconds) + Double(duration.components.attoseconds) * 1e-18
  }

  private func batch(_ progress: BatchProgress) {
    guard mode == .terminal else { return }
    if let lastDraw, clock.now - lastDraw < .milliseconds(100), progress.batch < progress.batchCount
    {
      return
    }
    lastDraw = clock.now
    let elapsed = seconds(since: epochStart)
    let rate = Double(progress.samplesSeen) / max(elapsed, 1e-9)
    let remaining =
      Double(sampleCount - progress.samplesSeen) / rate
      + Double(progress.epochs - progress.epoch) * Double(sampleCount) / rate
    let width = 24
    let filled = width * progress.batch / progress.batchCount
    let bar = String(repeating: "=", count: filled) + String(repeating: " ", count: width - filled)
    let line =
      "epoch \(progress.epoch)/\(progress.epochs) [\(bar)] \(progress.batch)/\(progress.batchCount)"
      + "  \(Int(rate)) samples/s  loss \(Self.format(progress.epochLoss))  ETA \(Self.clockTime(remaining))"
    print("\r\u{1B}[2K" + line, terminator: "")
    fflush(nil)
  }

  private func epoch(_ summary: EpochSummary) {
    let elapsed = seconds(since: epochStart)
    lastDraw = nil
    epochStart = clock.now
    guard mode != .quiet,
      summary.epoch % every == 0 || summary.epoch == 1 || summary.epoch == summary.epochs
    else {
      if mode == .terminal { print("\r\u{1B}[2K", terminator: "") }
      return
    }
    let metrics = summary.metrics.map { name, value in
      "\(name == "learning_rate" ? "lr" : name) \(Self.format(value))"
    }
    let width = String(summary.epochs).count
    let number = String(summary.epoch).leftPadded(to: width)
    let line =
      "epoch \(number)/\(summary.epochs)  " + metrics.joined(separator: "  ")
      + String(
        format: "  (%.2f s, %.0f samples/s)", elapsed, Double(sampleCount) / max(elapsed, 1e-9))
    if mode == .terminal { print("\r\u{1B}[2K", terminator: "") }
    print(line)
    fflush(nil)
  }

  /// Four significant digits, without exponent for everyday magnitudes.
  static func format(_ value: Double) -> String {
    guard value.isFinite else { return "\(value)" }
    return abs(value) >= 1e-3 || value == 0
      ? String(format: "%.4f", value) : String(format: "%.3e", value)
  }

  static func clockTime(_ seconds: Double) -> String {
    guard seconds.isFinite else { return "--:--" }
    let total = Int(seconds.rounded())
    return String(format: "%d:%02d", total / 60, total % 60)
  }
}

extension String {
  /// The string with spaces in front up to `width` characters.
  func leftPadded(to width: Int) -> String {
    String(repeating: " ", count: max(0, width - count)) + self
  }
}
