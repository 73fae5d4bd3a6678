import Backprop
import Testing

@Suite("backprop demo")
struct DemoCommandTests {
  @Test func mazurPrintsThePublishedFigures() throws {
    let result = try runBackprop(["demo", "mazur"])
    #expect(result.status == 0, "\(result.standardError)")
    let output = result.standardOutput
    for line in [
      "E_total before training = 0.298371109",
      "w1 = 0.149780716  w2 = 0.199561432  w3 = 0.249751144  w4 = 0.299502287",
      "w5 = 0.35891648  w6 = 0.408666186  w7 = 0.51130127  w8 = 0.561370121",
      "step 10000  loss 3.51085481e-05",
      "[0.05, 0.1]  [0.01, 0.99]  [0.0159136204, 0.984064274]",
      "E_total = 3.51018778e-05",
    ] {
      #expect(output.contains(line), "missing \(line) in\n\(output)")
    }
  }

  @Test(arguments: Demo.Name.allCases)
  func everyDemoRuns(name: Demo.Name) throws {
    let result = try runBackprop(["demo", name.rawValue, "--epochs", "3", "--seed", "2"])
    #expect(result.status == 0, "\(result.standardError)")
    #expect(result.standardOutput.contains("loss"))
    #expect(result.standardOutput.contains("target"))
    #expect(result.standardOutput.contains("prediction"))
  }

  @Test func theOutputIsTheSameOnEveryRun() throws {
    let first = try runBackprop(["demo", "xor", "--seed", "4", "--epochs", "50"])
    let second = try runBackprop(["demo", "xor", "--seed", "4", "--epochs", "50"])
    #expect(first.standardOutput == second.standardOutput)
    let other = try runBackprop(["demo", "xor", "--seed", "5", "--epochs", "50"])
    #expect(first.standardOutput != other.standardOutput)
  }

  @Test func listNamesEveryDemo() throws {
    let result = try runBackprop(["demo", "--list"])
    #expect(result.status == 0)
    for name in Demo.Name.allCases {
      #expect(result.standardOutput.contains(name.rawValue))
    }
  }

  @Test func anUnknownDemoIsAClearError() throws {
    let result = try runBackprop(["demo", "nosuchdemo"])
    #expect(result.status != 0)
    #expect(result.standardError.contains("nosuchdemo"))
    #expect(result.standardError.contains("xor-nobias"))
    #expect(result.standardOutput.isEmpty)
  }

  @Test(arguments: [
    (["demo", "xor", "--epochs", "0"], "--epochs must be at least 1"),
    (["demo", "xor", "--epochs", "many"], "many"),
    (["demo", "xor", "--seed=-3"], "-3"),
    (["demo", "xor", "--seed", "-3"], "--seed"),
    (["demo", "xor", "--learning-rate=-0.5"], "--learning-rate must be"),
    (["demo"], "Name a demo"),
    (["demo", "xor", "--bogus"], "--bogus"),
    (["nosuchcommand"], "nosuchcommand"),
  ])
  func badFlagsAreClearErrors(arguments: [String], message: String) throws {
    let result = try runBackprop(arguments)
    #expect(result.status != 0)
    #expect(result.standardError.contains(message), "\(result.standardError)")
  }

  @Test func aDivergingRunStopsWithAMessage() throws {
    let result = try runBackprop(["demo", "sine", "--learning-rate", "1e6", "--epochs", "20"])
    #expect(result.status == 1)
    #expect(result.standardError.contains("the loss became"), "\(result.standardError)")
    #expect(result.standardError.contains("last good ones"))
  }

  @Test func helpDescribesTheDemos() throws {
    let result = try runBackprop(["demo", "--help"])
    #expect(result.status == 0)
    #expect(result.standardOutput.contains("sine-boundary"))
    #expect(result.standardOutput.contains("--seed"))
  }
}
