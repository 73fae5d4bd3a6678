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
    #expect(defaults.layerSizes == [4, 2] && defaults.activation == .tanh)
    #expect(defaults.features.isEmpty && defaults.dropout == 0 && defaults.l1Penalty == 0)
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
    #expect(settings.trainFraction == 0.8 && settings.layerSizes == [8, 8, 4])
    #expect(settings.activation == .relu && settings.loss == .binaryCrossEntropy)
    #expect(settings.optimizer == .adam && settings.learningRate == 0.005)
    #expect(settings.batchSize == 32 && settings.weightDecay == 0.001 && settings.seed == 42)
    #expect(settings.speed == 300)
    #expect(settings.query == query)
    #expect(try PlaygroundSettings.parse("layers=").settings.layers == [])
    let extras =
      "data=plane&samples=200&noise=0&trainFraction=0.5&features=x1,x2,x1sq,sinx2"
      + "&layers=8:relu,4&activation=tanh&dropout=0.25&optimizer=sgd&learningRate=0.03"
      + "&batchSize=10&weightDecay=0&l1Penalty=0.001&seed=1&speed=100"
      + "&weights=i1-h1_1:0.5,h1_2-h2_3:-1.25"
    let read = try PlaygroundSettings.parse(extras).settings
    #expect(read.features == [.x1, .x2, .x1Squared, .sine2])
    #expect(read.layers == [HiddenLayer(size: 8, activation: .relu), HiddenLayer(size: 4)])
    #expect(read.layerActivations == [.relu, .tanh] && read.dropout == 0.25)
    #expect(read.l1Penalty == 0.001 && read.isRegression)
    #expect(
      read.weights == [
        PlaygroundSettings.SetWeight(edge: "i1-h1_1", value: 0.5),
        PlaygroundSettings.SetWeight(edge: "h1_2-h2_3", value: -1.25),
      ])
    #expect(read.query == extras)
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
    await expectRefusal(containing: "sizes separated by commas", "8:relu") {
      _ = try PlaygroundSettings.parse("layers=4,x")
    }
    await expectRefusal(containing: "sizes separated by commas") {
      _ = try PlaygroundSettings.parse("layers=4:swish")
    }
    await expectRefusal(containing: "features must be inputs", "sinx1", "cosx1") {
      _ = try PlaygroundSettings.parse("features=x1,cosx1")
    }
    await expectRefusal(containing: "names an input twice") {
      _ = try PlaygroundSettings.parse("features=x1,x1")
    }
    await expectRefusal(containing: "features must be inputs") {
      _ = try PlaygroundSettings.parse("features=")
    }
    await expectRefusal(containing: "x2 needs a second feature", "'sine' has one") {
      _ = try PlaygroundSettings.parse("data=sine&features=x1,x2")
    }
    await expectRefusal(containing: "dropout must be in 0.0...0.9") {
      _ = try PlaygroundSettings.parse("dropout=0.95")
    }
    await expectRefusal(containing: "l1Penalty must be a number") {
      _ = try PlaygroundSettings.parse("l1Penalty=lots")
    }
    await expectRefusal(containing: "FROM-TO:VALUE", "'i1h1:2'") {
      _ = try PlaygroundSettings.parse("weights=i1h1:2")
    }
    await expectRefusal(containing: "FROM-TO:VALUE") {
      _ = try PlaygroundSettings.parse("weights=i1-h1:nan")
    }
    await expectRefusal(containing: "sets the edge i1-h1 twice") {
      _ = try PlaygroundSettings.parse("weights=i1-h1:1,i1-h1:2")
    }
    await expectRefusal(containing: "must be in -100...100") {
      _ = try PlaygroundSettings.parse("weights=i1-h1:1000")
    }
    let tooMany = (0...PlaygroundLimits.weightsInLink).map { "i\($0)-h1:1" }.joined(separator: ",")
    await expectRefusal(containing: "at most 64 set weights", "small networks") {
      _ = try PlaygroundSettings.parse("weights=" + tooMany)
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
    #expect(settings.layerSizes == [6, 3] && settings.trainFraction == 0.7)
    #expect(settings.noise == 0.2 && settings.weightDecay == 0.003)
    #expect(settings.features == [.x1, .x2, .product, .sine1])
    #expect(notices.isEmpty, "\(notices)")
    // Its seed strings give a fixed seed of ours, and a different string another.
    let again = try PlaygroundSettings.parse(link, dialect: .tensorFlowPlayground).settings
    let other = try PlaygroundSettings.parse("seed=0.80032", dialect: .tensorFlowPlayground)
    #expect(again.seed == settings.seed && other.settings.seed != settings.seed)

    let regression = try PlaygroundSettings.parse(
      "problem=regression&regDataset=reg-gauss&regularization=L1&regularizationRate=0.1"
        + "&initZero=true&somethingNew=1",
      dialect: .tensorFlowPlayground)
    #expect(regression.settings.data == "multi-gaussian" && regression.settings.weightDecay == 0)
    #expect(regression.settings.l1Penalty == 0.1 && regression.settings.features.isEmpty)
    #expect(regression.notices.count == 2, "\(regression.notices)")
    #expect(regression.notices[0].contains("initZero"))
    #expect(regression.notices[1] == "ignored TensorFlow Playground settings: somethingNew")
    let plane = try PlaygroundSettings.parse(
      "problem=regression&x=false&xSquared=true&cosY=true", dialect: .tensorFlowPlayground)
    #expect(plane.settings.data == "plane" && plane.settings.features == [.x2, .x1Squared])
    #expect(plane.notices.count == 1 && plane.notices[0].contains("cosY"))
  }

  @Test func tensorFlowValuesOutOfRangeAreRefused() async {
    await expectRefusal(containing: "noise must be in 0.0...50.0") {
      _ = try PlaygroundSettings.parse("noise=80", dialect: .tensorFlowPlayground)
    }
    await expectRefusal(containing: "dataset must be one of", "circle") {
      _ = try PlaygroundSettings.parse("dataset=donut", dialect: .tensorFlowPlayground)
    }
    await expectRefusal(containing: "turns every input off") {
      _ = try PlaygroundSettings.parse("x=false&y=false", dialect: .tensorFlowPlayground)
    }
  }
}
