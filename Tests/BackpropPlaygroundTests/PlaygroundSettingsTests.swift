import Backprop
import Testing

@testable import BackpropPlayground

/// Expects `body` to throw a ``PlaygroundError`` with `status` whose message holds `fragments`.
func expectRefusal(
  status: Int = 400, containing fragments: String...,
  sourceLocation: SourceLocation = #_sourceLocation,
  _ body: () async throws -> Void
) async {
  do {
    try await body()
    Issue.record("expected a refusal containing \(fragments)", sourceLocation: sourceLocation)
  } catch let error as PlaygroundError {
    #expect(error.status == status, "\(error)", sourceLocation: sourceLocation)
    for fragment in fragments {
      #expect(
        error.message.contains(fragment), "\(error.message) lacks \(fragment)",
        sourceLocation: sourceLocation)
    }
  } catch {
    Issue.record("expected a PlaygroundError, got \(error)", sourceLocation: sourceLocation)
  }
}

@Suite("Playground settings")
struct PlaygroundSettingsTests {
  @Test func defaultsAreTensorFlowPlaygroundsAndRoundTrip() throws {
    let defaults = PlaygroundSettings()
    #expect(defaults.layers == [4, 2] && defaults.activation == .tanh)
    #expect(defaults.learningRate == 0.03 && defaults.batchSize == 10 && defaults.optimizer == .sgd)
    #expect(try PlaygroundSettings.parse(defaults.query).settings == defaults)
    #expect(try PlaygroundSettings.parse("").settings == defaults)
  }

  @Test func everySettingReadsAndWritesBack() throws {
    let query =
      "data=spirals&samples=500&noise=0.25&trainFraction=0.8&layers=8,8,4&activation=relu"
      + "&loss=binary-cross-entropy&optimizer=adam&learningRate=0.005&batchSize=32"
      + "&weightDecay=0.001&seed=42&speed=300"
    let (settings, notices) = try PlaygroundSettings.parse("?" + query)
    #expect(notices.isEmpty)
    #expect(settings.data == "spirals" && settings.samples == 500 && settings.noise == 0.25)
    #expect(settings.trainFraction == 0.8 && settings.layers == [8, 8, 4])
    #expect(settings.activation == .relu && settings.loss == .binaryCrossEntropy)
    #expect(settings.optimizer == .adam && settings.learningRate == 0.005)
    #expect(settings.batchSize == 32 && settings.weightDecay == 0.001 && settings.seed == 42)
    #expect(settings.speed == 300)
    #expect(settings.query == query)
    #expect(try PlaygroundSettings.parse("layers=").settings.layers == [])
    #expect(try PlaygroundSettings.parse("activation=linear").settings.activation == .identity)
    #expect(try PlaygroundSettings.parse("data=sine-boundary&noise=0%2E5").settings.noise == 0.5)
  }

  @Test func badSettingsAreRefusedByName() async {
    await expectRefusal(containing: "unknown setting 'rate'", "learningRate") {
      _ = try PlaygroundSettings.parse("rate=0.1")
    }
    await expectRefusal(containing: "'seed' is given twice") {
      _ = try PlaygroundSettings.parse("seed=1&seed=2")
    }
    await expectRefusal(containing: "learningRate must be a number", "'fast'") {
      _ = try PlaygroundSettings.parse("learningRate=fast")
    }
    await expectRefusal(containing: "learningRate must be a number") {
      _ = try PlaygroundSettings.parse("learningRate=nan")
    }
    await expectRefusal(containing: "samples must be in 10...2000", "5000") {
      _ = try PlaygroundSettings.parse("samples=5000")
    }
    await expectRefusal(containing: "at most 6 hidden layers") {
      _ = try PlaygroundSettings.parse("layers=1,1,1,1,1,1,1")
    }
    await expectRefusal(containing: "1...32 neurons") {
      _ = try PlaygroundSettings.parse("layers=4,100")
    }
    await expectRefusal(containing: "sizes separated by commas") {
      _ = try PlaygroundSettings.parse("layers=4,x")
    }
    await expectRefusal(containing: "data must be one of", "'moonz'") {
      _ = try PlaygroundSettings.parse("data=moonz")
    }
    await expectRefusal(containing: "the loss mse needs numeric targets", "'xor' has classes") {
      _ = try PlaygroundSettings.parse("data=xor&loss=mse")
    }
    await expectRefusal(containing: "speed must be in 1...50") {
      _ = try PlaygroundSettings.parse("speed=51", limits: PlaygroundLimits(stepsPerSecond: 50))
    }
    await expectRefusal(containing: "not a valid URL query item") {
      _ = try PlaygroundSettings.parse("data=%zz")
    }
  }

  @Test func tensorFlowPlaygroundLinksAreReadWhereTheyMap() throws {
    // A link as TensorFlow Playground writes it.
    let link =
      "#activation=relu&batchSize=16&dataset=spiral&regDataset=reg-plane&learningRate=0.01"
      + "&regularizationRate=0.003&noise=20&networkShape=6,3&seed=0.80031&showTestData=false"
      + "&discretize=true&percTrainData=70&x=true&y=true&xTimesY=true&xSquared=false"
      + "&ySquared=false&cosX=false&sinX=true&cosY=false&sinY=false&collectStats=false"
      + "&problem=classification&initZero=false&hideText=false&regularization=L2"
      + "&stepButton_hide=true"
    let (settings, notices) = try PlaygroundSettings.parse(link, dialect: .tensorFlowPlayground)
    #expect(settings.data == "spirals" && settings.activation == .relu)
    #expect(settings.batchSize == 16 && settings.learningRate == 0.01)
    #expect(settings.layers == [6, 3] && settings.trainFraction == 0.7)
    #expect(settings.noise == 0.2 && settings.weightDecay == 0.003)
    #expect(notices == ["the network sees the inputs x and y only (xTimesY, sinX asked)"])
    // Its seed strings give a fixed seed of ours, and a different string another.
    let again = try PlaygroundSettings.parse(link, dialect: .tensorFlowPlayground).settings
    let other = try PlaygroundSettings.parse("seed=0.80032", dialect: .tensorFlowPlayground)
    #expect(again.seed == settings.seed && other.settings.seed != settings.seed)

    let regression = try PlaygroundSettings.parse(
      "problem=regression&regDataset=reg-gauss&regularization=L1&regularizationRate=0.1"
        + "&initZero=true&somethingNew=1",
      dialect: .tensorFlowPlayground)
    #expect(regression.settings.data == "sine" && regression.settings.weightDecay == 0)
    #expect(regression.notices.count == 4)
    #expect(
      regression.notices[0].contains("1-D sine") && regression.notices[0].contains("reg-gauss"))
    #expect(regression.notices[1].contains("L1 regularization is not offered"))
    #expect(regression.notices[2].contains("initZero"))
    #expect(regression.notices[3] == "ignored TensorFlow Playground settings: somethingNew")
  }

  @Test func tensorFlowValuesOutOfRangeAreRefused() async {
    await expectRefusal(containing: "noise must be in 0.0...50.0") {
      _ = try PlaygroundSettings.parse("noise=80", dialect: .tensorFlowPlayground)
    }
    await expectRefusal(containing: "dataset must be one of", "circle") {
      _ = try PlaygroundSettings.parse("dataset=donut", dialect: .tensorFlowPlayground)
    }
  }
}
