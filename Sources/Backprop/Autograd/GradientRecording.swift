/// Whether operations on ``Variable``s record the graph that ``Variable/backward()`` walks.
///
/// Recording is on by default. Inference, evaluation and finite-difference checks switch it off
/// for a block of code; the setting is task-local, so concurrent tasks do not disturb each other.
///
/// ```swift
/// let prediction = try GradientRecording.withoutRecording { try model(input) }
/// ```
public enum GradientRecording {
  /// Whether the current task records operations for differentiation.
  @TaskLocal public static var isEnabled = true

  /// Runs `body` with recording switched off: its results are constants with no graph behind
  /// them, which saves the memory and time of the backward closures.
  public static func withoutRecording<Result>(_ body: () throws -> Result) rethrows -> Result {
    try $isEnabled.withValue(false, operation: body)
  }
}
