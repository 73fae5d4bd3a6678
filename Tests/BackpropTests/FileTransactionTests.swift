import Foundation
import Testing

@testable import Backprop

/// Files written as one set, and the temporary files a killed writer leaves.
@Suite("File transactions")
struct FileTransactionTests {
  func contents(_ url: URL) throws -> String { try String(contentsOf: url, encoding: .utf8) }

  func temporaries(in directory: URL) throws -> [String] {
    try FileManager.default.contentsOfDirectory(atPath: directory.path).filter {
      $0.contains(".tmp-")
    }
  }

  @Test func nothingReplacesItsTargetBeforeTheCommit() throws {
    let directory = try temporaryDirectory()
    let (history, model) = (
      directory.appendingPathComponent("history.csv"), directory.appendingPathComponent("m.json")
    )
    try AtomicFile.write(Data("old history".utf8), to: history)
    try AtomicFile.write(Data("old model".utf8), to: model)
    let transaction = FileTransaction()
    try transaction.stage(Data("new history".utf8), to: history)
    try transaction.stage(Data("new model".utf8), to: model)
    // Staged, not yet in place: a process killed now leaves the old set whole.
    #expect(try contents(history) == "old history" && contents(model) == "old model")
    #expect(try temporaries(in: directory).count == 2)
    try transaction.commit()
    #expect(try contents(history) == "new history" && contents(model) == "new model")
    #expect(try temporaries(in: directory).isEmpty)
  }

  @Test func anUncommittedTransactionLeavesTheOldFilesAndNoTemporaries() throws {
    let directory = try temporaryDirectory()
    let model = directory.appendingPathComponent("m.json")
    try AtomicFile.write(Data("old".utf8), to: model)
    do {
      let transaction = FileTransaction()
      try transaction.stage(Data("new".utf8), to: model)
      // A stage that fails (the target is a directory) changes nothing either.
      #expect(throws: BackpropError.self) { try transaction.stage(Data(), to: directory) }
    }
    #expect(try contents(model) == "old")
    #expect(try temporaries(in: directory).isEmpty)
  }

  @Test func aKilledWritersTemporaryFilesAreRemovedByTheNextWrite() throws {
    let directory = try temporaryDirectory()
    let model = directory.appendingPathComponent("m.json")
    // No process has the largest pid; this one runs, so its file stays.
    let dead = directory.appendingPathComponent(".m.json.tmp-2147483647-17")
    let running = directory.appendingPathComponent(".m.json.tmp-\(getpid())-18")
    let other = directory.appendingPathComponent(".n.json.tmp-2147483647-19")
    for url in [dead, running, other] { try Data("partial".utf8).write(to: url) }
    try AtomicFile.write(Data("model".utf8), to: model)
    #expect(try temporaries(in: directory).sorted() == [running, other].map(\.lastPathComponent))
  }
}
