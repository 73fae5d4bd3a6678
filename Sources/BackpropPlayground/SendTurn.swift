/// One sender at a time, in the order they asked: a message is made and sent in one turn, so
/// that a frame made before a command's reply never reaches the page after it (a training
/// frame that said "running" after the reply to "pause" would leave the page showing a paused
/// session as running).
actor SendTurn {
  private var taken = false
  private var waiting: [CheckedContinuation<Void, Never>] = []

  /// Runs `body` once every earlier caller's body has finished.
  func run<Result: Sendable>(_ body: @Sendable () async throws -> Result) async rethrows -> Result {
    if taken {
      await withCheckedContinuation { waiting.append($0) }
    } else {
      taken = true
    }
    defer { passOn() }
    return try await body()
  }

  /// Hands the turn to the next caller waiting, or frees it.
  private func passOn() {
    if waiting.isEmpty {
      taken = false
    } else {
      waiting.removeFirst().resume()
    }
  }
}
