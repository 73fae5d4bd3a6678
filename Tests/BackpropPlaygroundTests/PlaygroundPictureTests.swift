import Backprop
import Foundation
import Testing

@testable import BackpropPlayground

/// What the playground's pictures show beyond the data: each neuron's map, inputs computed from
/// the features, weights set by hand, the gradient view and Doctor's notes.
@Suite("Playground pictures")
struct PlaygroundPictureTests {
  private func trainer(_ query: String) throws -> PlaygroundTrainer {
    try PlaygroundTrainer(
      settings: PlaygroundSettings.parse(query).settings, upload: nil, limits: PlaygroundLimits())
  }

  /// The `data-KEY` values of the elements of `svg` that carry `key`, in order.
  private func attributes(_ key: String, in svg: String) -> [String] {
    svg.components(separatedBy: " data-\(key)='").dropFirst().map {
      String($0.prefix { $0 != "'" })
    }
  }

  @Test func everyNeuronShowsItsMapAndTheMapsChangeAsItTrains() throws {
    let trainer = try trainer("data=circles&layers=3,2&seed=4")
    let before = trainer.frame(isRunning: false)
    let network = try #require(before.pictures["network"])
    #expect(
      attributes("map", in: network) == [
        "i1", "i2", "h1_1", "h1_2", "h1_3", "h2_1", "h2_2", "o1", "o2",
      ])
    let maps = try trainer.neuronMaps()
    let h1 = try #require(maps["h1_1"])
    let h1Large = try #require(h1.large)
    #expect(h1.small.width == 20 && h1Large.width == 100)
    #expect(try trainer.neuronMaps(large: ["i2"]).compactMapValues(\.large).keys.sorted() == ["i2"])
    // The input x₁ grows from left to right: orange at the left edge, blue at the right.
    let x1 = try #require(maps["i1"]?.large)
    #expect(x1[0, 50].blue < x1[0, 50].red && x1[99, 50].blue > x1[99, 50].red)
    // h1_1 = tanh(net): its map is tanh of the weighted inputs at the map's points.
    let linear = try #require(trainer.network.layers[0] as? Linear<Float>)
    let corner = try Plot.MapDomain(covering: trainer.train).centres(
      resolution: 100, as: Float.self)
    let net = try linear(corner)
    let expected = Plot.divergingColor(Double(tanh(net.scalars[0])))
    #expect(h1Large[0, 0] == expected)
    #expect(before.neuronMap?.hasPrefix("data:image/png;base64,") == true)

    trainer.advance(steps: 50, budget: .seconds(60))
    let after = trainer.frame(isRunning: false)
    #expect(try trainer.neuronMaps()["h1_1"]?.large != h1Large)
    #expect(after.pictures["network"] != network)
  }

  @Test func oneDimensionalDataShowCurves() throws {
    let trainer = try trainer("data=sine&layers=3")
    let maps = try trainer.neuronMaps()
    #expect(Set(maps.keys) == ["i1", "h1", "h2", "h3", "o1"])
    // x runs over [0, 2π] (and 5% beyond): the input's curve rises from near the zero line at
    // the left to the top edge at the right.
    let input = try #require(maps["i1"]?.large)
    #expect((46...53).contains { input[0, $0] != .white } && input[99, 0] != .white)
    #expect(trainer.frame(isRunning: false).pictures["data"]?.contains("Fit") == true)
  }

  @Test func addedFeaturesAreInputsWithTheirOwnMaps() async throws {
    let trainer = try trainer("data=spirals&features=x1,x2,x1sq,x2sq,sinx1&layers=4")
    #expect(trainer.layerSizes == [5, 4, 2])
    let network = try #require(trainer.frame(isRunning: false).pictures["network"])
    for label in ["x₁²", "x₂²", "sin x₁"] { #expect(network.contains(">\(label)<"), "\(label)") }
    #expect(attributes("map", in: network).prefix(5) == ["i1", "i2", "i3", "i4", "i5"])
    // The inputs are x₁, x₂, x₁², x₂² and sin x₁ of every point.
    let points = trainer.train.features.scalars
    let inputs = try trainer.networkInput(trainer.train.features).scalars
    for row in 0..<trainer.train.count {
      let (x1, x2) = (points[2 * row], points[2 * row + 1])
      let expected: [Float] = [x1, x2, x1 * x1, x2 * x2, Float(sin(Double(x1)))]
      #expect(Array(inputs[(5 * row)..<(5 * row + 5)]) == expected)
    }
    let maps = try trainer.neuronMaps()
    #expect(maps["i3"]?.large != maps["i1"]?.large)
    let model = try trainer.model()
    #expect(model.featureNames == ["x0", "x1", "x0^2", "x1^2", "sin(x0)"])
    trainer.advance(steps: 20)
    #expect(trainer.measure().trainLoss.isFinite)
    await expectNoThrowOfUnknownEdge(trainer)
  }

  private func expectNoThrowOfUnknownEdge(_ trainer: PlaygroundTrainer) async {
    await expectRefusal(containing: "there is no edge 'i9-h1'", "i1-h1") {
      try trainer.setWeight("i9-h1", to: 1)
    }
  }

  @Test func anEditedWeightIsInTheNetworkTheFrameAndTheLink() async throws {
    let trainer = try trainer("data=xor&layers=3&seed=2")
    try trainer.setWeight("i2-h3", to: 0.75)
    let linear = try #require(trainer.network.layers[0] as? Linear<Float>)
    // The weight tensor is [inputs, outputs]: i2 is row 1, h3 column 2.
    #expect(linear.weight.value.scalars[1 * 3 + 2] == 0.75)
    let frame = trainer.frame(isRunning: false, view: FrameView(edge: "i2-h3"))
    #expect(frame.edge?.weight == 0.75 && frame.edge?.gradient == nil)
    #expect(frame.pictures["network"]?.contains("data-edge='i2-h3' data-value='0.75'") == true)
    #expect(trainer.settings.query.hasSuffix("&weights=i2-h3:0.75"))
    // The link builds the same network with the weight set.
    let again = try self.trainer(trainer.settings.query)
    let copy = try #require(again.network.layers[0] as? Linear<Float>)
    #expect(copy.weight.value == linear.weight.value)
    // After a step the frame holds ∂E/∂w of that step, as the trace computed it.
    trainer.advance(steps: 1)
    let stepped = trainer.frame(isRunning: false, view: FrameView(edge: "i2-h3"))
    let traced = try #require(
      trainer.trace?.quantities.first {
        $0.kind == .lossByWeight && $0.source == "i2" && $0.neuron == "h3"
      })
    #expect(stepped.edge?.gradient == traced.values.first && stepped.edge?.symbol == traced.weight)
    await expectRefusal(containing: "-100...100") { try trainer.setWeight("i1-h1", to: .infinity) }
    // An upload makes another network: the weights set by hand are dropped, not refused.
    let csv =
      "a,y\n" + (0..<12).map { "\(Double($0) / 4),\(Double($0 % 5) / 2)" }.joined(separator: "\n")
    let (uploaded, _) = try PlaygroundSession.trainer(
      forUpload: csv, name: "line.csv", settings: trainer.settings, limits: PlaygroundLimits())
    #expect(uploaded.settings.weights.isEmpty && uploaded.layerSizes == [1, 3, 1])
  }

  @Test func theGradientViewColoursEdgesByTheLastStepsGradients() throws {
    let trainer = try trainer("data=moons&layers=4,2&seed=6")
    trainer.advance(steps: 3)
    let weights = try #require(trainer.frame(isRunning: false).pictures["network"])
    let view = FrameView(showsGradients: true)
    let frame = trainer.frame(isRunning: false, view: view)
    let gradients = try #require(frame.pictures["network"])
    #expect(frame.view == "gradients" && gradients.contains("edges: ∂E/∂w of the last step"))
    #expect(gradients.contains("rings: mean δ of the last step"))
    let traced = try #require(trainer.trace).quantities.filter { $0.kind == .lossByWeight }
    let values = attributes("value", in: gradients).compactMap(Double.init)
    let edges = attributes("edge", in: gradients)
    #expect(values.count == traced.count && edges.count == traced.count)
    for quantity in traced {
      let index = try #require(edges.firstIndex(of: "\(quantity.source ?? "")-\(quantity.neuron)"))
      // data-value has four significant digits.
      let traced = quantity.values.first ?? 0
      #expect(
        abs(values[index] - traced) <= 5e-4 * abs(traced) + 1e-12, "\(values[index]) vs \(traced)")
    }
    #expect(attributes("value", in: weights) != attributes("value", in: gradients))
  }

  @Test func doctorsNotesNameTheNeuronsAndMarkThem() throws {
    // Weights of ±100 drive both tanh units to ±1 on nearly every sample.
    let trainer = try trainer(
      "data=xor&layers=2&weights=i1-h1:100,i2-h1:100,i1-h2:-100,i2-h2:100")
    let frame = trainer.frame(isRunning: false)
    let note = try #require(
      frame.notes.first { $0.problem == Diagnosis.Problem.saturatedUnits.rawValue })
    #expect(note.neurons == ["h1", "h2"])
    #expect(frame.pictures["network"]?.contains("class='node flagged' data-neuron='h1'") == true)
    #expect(try self.trainer("data=xor&layers=2").frame(isRunning: false).notes.isEmpty)
  }

  @Test func dropoutPerLayerActivationsAndL1AreTrained() throws {
    let trainer = try trainer(
      "data=moons&layers=4:relu,3&activation=tanh&dropout=0.2&l1Penalty=0.01")
    let kinds = trainer.network.layers.map { "\(type(of: $0))" }
    #expect(kinds.contains("ReLU<Float>") && kinds.contains("Tanh<Float>"))
    #expect(kinds.filter { $0.hasPrefix("Dropout") }.count == 2)
    trainer.advance(steps: 5)
    let frame = trainer.frame(isRunning: false)
    #expect(frame.traceNote?.contains("without dropout") == true)
    #expect(frame.traceNote?.contains("w⁺ is not shown") == true)
  }

  @Test func twoDimensionalRegressionsAreMaps() throws {
    for name in ["plane", "multi-gaussian"] {
      let trainer = try trainer("data=\(name)&layers=4")
      #expect(trainer.loss == .meanSquaredError && trainer.layerSizes == [2, 4, 1])
      let frame = trainer.frame(isRunning: false)
      #expect(frame.pictures["data"]?.contains("class='regions'") == true)
      #expect(frame.trainAccuracy == nil)
    }
  }
}

@Suite("Playground frames on the wire")
struct PlaygroundFrameSizeTests {
  @Test func whileOnlyTheMapChangesAFrameCarriesTheMapAlone() async throws {
    let session = try PlaygroundSession(
      settings: PlaygroundSettings(), notices: [], limits: PlaygroundLimits())
    let first = try await session.frame()
    #expect(first.contains("\"data\":\"<?xml") && !first.contains("\"dataMap\""))
    let second = try await session.frame()
    #expect(!second.contains("\"data\":\"<?xml") && second.contains("\"dataMap\":\"data:image/png"))
    #expect(
      second.utf8.count < first.utf8.count - 4000, "\(first.utf8.count) → \(second.utf8.count)")
    // A new data set sends its whole picture again.
    try await session.configure(PlaygroundSettings.parse("data=moons").settings, notices: [])
    #expect(try await session.frame().contains("\"data\":\"<?xml"))
  }

  @Test func framesAtTheDefaultSettingsStayUnder30KB() async throws {
    let session = try PlaygroundSession(
      settings: PlaygroundSettings(), notices: [], limits: PlaygroundLimits())
    var largest = try await session.frame().utf8.count
    // 100 training samples in batches of 10: 2500 steps fill the loss curve to its capacity.
    for round in 0..<10 {
      await session.advance(steps: 250)
      if round == 5 {
        await session.showGradients(true)
        try await session.select(neuron: "h1_3")
        try await session.select(edge: "i1-h1_1")
      }
      largest = max(largest, try await session.frame().utf8.count)
    }
    #expect(largest < 30 * 1024, "\(largest) bytes")
  }
}
