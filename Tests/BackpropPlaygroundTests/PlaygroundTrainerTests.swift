import Backprop
import Foundation
import Testing

@testable import BackpropPlayground

@Suite("Playground training")
struct PlaygroundTrainerTests {
  private func trainer(_ query: String) throws -> PlaygroundTrainer {
    try PlaygroundTrainer(
      settings: PlaygroundSettings.parse(query).settings, upload: nil, limits: PlaygroundLimits())
  }

  @Test func xorLearnsStepByStepAndTheSameSeedRepeats() throws {
    let query = "data=xor&samples=200&noise=0.05&layers=4,4&learningRate=0.1&seed=3"
    let first = try trainer(query)
    let initial = first.measure()
    #expect(first.train.count == 100 && first.test?.count == 100)
    #expect(first.advance(steps: 1) == 1 && first.step == 1 && first.epoch == 0)
    // 100 training samples in batches of 10: an epoch is 10 steps.
    var taken = 1
    while taken < 400 { taken += first.advance(steps: 400 - taken, budget: .seconds(60)) }
    #expect(first.step == 400 && first.epoch == 40 && first.curve.count == 40)
    let trained = first.measure()
    #expect(trained.trainLoss < 0.7 * initial.trainLoss, "\(initial) → \(trained)")
    #expect((trained.testAccuracy ?? 0) >= 0.75, "\(trained)")

    let second = try trainer(query)
    second.advance(steps: 400, budget: .seconds(60))
    #expect(second.measure().trainLoss == trained.trainLoss)
    #expect(second.network.parameters.map(\.value) == first.network.parameters.map(\.value))
  }

  @Test func theTraceIsTheStepTheOptimizerTook() throws {
    let trainer = try trainer("data=circles&layers=3&batchSize=8&seed=5")
    let before = (trainer.network.layers[0] as? Linear<Float>)?.weight.value
    trainer.advance(steps: 1)
    let trace = try #require(trainer.trace)
    let first = try #require(trainer.network.layers[0] as? Linear<Float>)
    // Plain SGD adds −η·∂E/∂w straight into the weights, so the gradient is read from the step.
    let rate = Float(trainer.settings.learningRate)
    let gradient = zip(try #require(before).scalars, first.weight.value.scalars).map {
      ($0 - $1) / rate
    }
    // w1 leads from i1 to h1, w2 from i2 to h1: the weight tensor is [inputs, outputs].
    #expect(trace.sampleCount == 8)
    for (key, index) in [("dE_dw1", 0), ("dE_dw2", 3), ("dE_dw3", 1), ("dE_dw4", 4)] {
      let traced = try #require(trace[key]?.values.first)
      #expect(
        abs(traced - Double(gradient[index])) < 1e-4, "\(key): \(traced) vs \(gradient[index])")
    }
    let w1 = try #require(trace["w1"]?.values.first)
    #expect(w1 == Double(try #require(before?.scalars[0])))

    let frame = trainer.frame(isRunning: false, view: FrameView(neuron: "h2"))
    #expect(frame.neuron == "h2" && frame.step == 1 && frame.status == "paused")
    #expect(
      frame.trace.map(\.key).contains("delta_h2") && frame.trace.map(\.key).contains("E_total"))
    #expect(frame.trace.allSatisfy { $0.neuron == "h2" || $0.kind == .totalLoss })
    #expect(frame.trace.contains { $0.kind == .updatedWeight })
    #expect(trainer.frame(isRunning: false, view: FrameView(neuron: "nobody")).neuron == "h1")
  }

  @Test func framesHoldThePicturesAndNumbers() throws {
    let classes = try trainer("data=moons&seed=2")
    var frame = classes.frame(isRunning: true)
    #expect(frame.status == "running" && frame.trace.isEmpty && frame.traceNote == nil)
    #expect(frame.pictures["data"]?.contains("class='regions'") == true)
    #expect(frame.pictures["network"]?.contains("data-neuron='h1_1'") == true)
    #expect(frame.pictures["loss"] == nil)
    classes.advance(steps: 10)
    frame = classes.frame(isRunning: false)
    #expect(frame.pictures["loss"]?.contains("train loss") == true)
    #expect(frame.trainAccuracy != nil && frame.testLoss != nil)
    let json = try frame.json()
    #expect(json.hasPrefix("{") && json.contains("\"type\":\"frame\""))

    let values = try trainer("data=sine&optimizer=adam&learningRate=0.01")
    values.advance(steps: 1)
    frame = values.frame(isRunning: false, view: FrameView(neuron: "o1"))
    #expect(frame.pictures["data"]?.contains("Fit") == true && frame.trainAccuracy == nil)
    #expect(frame.trace.allSatisfy { $0.kind != .updatedWeight })
    #expect(frame.traceNote?.contains("adam's, so w⁺ is not shown") == true)
  }

  @Test func divergenceStopsTrainingAndKeepsTheLastGoodWeights() throws {
    let trainer = try trainer("data=sine&activation=identity&layers=8&learningRate=10&batchSize=5")
    trainer.advance(steps: 500, budget: .seconds(60))
    let message = try #require(trainer.divergence)
    #expect(message.contains("Lower the learning rate (now 10.0)"))
    #expect(trainer.network.parameters.allSatisfy { $0.value.scalars.allSatisfy(\.isFinite) })
    let steps = trainer.step
    #expect(trainer.advance(steps: 10) == 0 && trainer.step == steps)
    let frame = trainer.frame(isRunning: true)
    #expect(frame.status == "diverged" && frame.message == message)
    #expect(try frame.json().contains("diverged"))
  }

  @Test func theModelIsAFileThatPredictReads() throws {
    let trainer = try trainer("data=blobs&layers=5&seed=4")
    trainer.advance(steps: 30)
    let data = try trainer.model().jsonData()
    let model = try Model<Float>(jsonData: data, source: "download")
    #expect(model.featureNames == ["x0", "x1"] && model.targetKind.classNames == ["0", "1", "2"])
    #expect(model.metadata["steps"] == "30")
    #expect(model.metadata["playground-settings"] == trainer.settings.query)
    let input = trainer.test?.features ?? trainer.train.features
    #expect(
      try Model<Float>.predictedClasses(model.predict(input))
        == Model<Float>.predictedClasses(trainer.network(input)))
  }

  @Test func uploadsBecomeDataSetsOrAreRefusedWithReasons() async throws {
    func table(_ csv: String) throws -> DataTable {
      try DataTable(csvText: csv, source: "points.csv")
    }
    let limits = PlaygroundLimits(samples: 50)
    let rows = (0..<20).map {
      "\(Double($0) / 10),\(Double($0 % 7) / 3),\($0 % 2 == 0 ? "red" : "blue")"
    }
    let classes = try PlaygroundTrainer.dataSet(
      table("a,b,colour\n" + rows.joined(separator: "\n")), loss: nil, limits: limits)
    #expect(
      classes.targetKind.classNames == ["blue", "red"] && classes.featureNames == ["a", "b"])
    // Numbers with fractions are values; whole numbers would be classes, as scikit-learn reads them.
    let values = try PlaygroundTrainer.dataSet(
      table("x,y\n" + (0..<10).map { "\($0),\(Double($0 * $0) / 4)" }.joined(separator: "\n")),
      loss: nil, limits: limits)
    #expect(values.targetKind.classNames == nil && values.featureCount == 1)

    await expectRefusal(containing: "one or two features", "4 columns") {
      _ = try PlaygroundTrainer.dataSet(table("a,b,c,d\n1,2,3,4"), loss: nil, limits: limits)
    }
    await expectRefusal(containing: "has 2 rows", "4...50") {
      _ = try PlaygroundTrainer.dataSet(table("a,b\n1,2\n3,4"), loss: nil, limits: limits)
    }
    // Values over two features are drawn as a map, as TensorFlow Playground's regressions.
    let plane = try PlaygroundTrainer.dataSet(
      table("a,b,y\n" + (0..<5).map { "\($0),1,\(Double($0) + 0.5)" }.joined(separator: "\n")),
      loss: nil, limits: limits)
    #expect(plane.targetKind.classNames == nil && plane.featureCount == 2)
    await expectRefusal(containing: "2 to 8 classes") {
      _ = try PlaygroundTrainer.dataSet(
        table("a,b,y\n" + (0..<12).map { "\($0),1,c\($0)" }.joined(separator: "\n")), loss: nil,
        limits: limits)
    }
    await expectRefusal(containing: "upload a CSV file before") {
      _ = try PlaygroundTrainer(
        settings: PlaygroundSettings.parse("data=upload").settings, upload: nil, limits: limits)
    }
  }
}
