import Backprop
import Foundation
import Testing

@Suite("Metrics, confusion matrix and history")
struct MetricsTests {
  @Test func metricsMatchHandComputedValues() throws {
    let prediction = try Tensor<Double>([[0.1, 0.9], [0.8, 0.2], [0.3, 0.7], [0.6, 0.4]])
    let target = try Tensor<Double>([[0, 1], [0, 1], [0, 1], [1, 0]])
    #expect(try Metric.accuracy.value(prediction: prediction, target: target) == 0.75)
    let differences = [0.1, 0.1, 0.8, 0.8, 0.3, 0.3, 0.4, 0.4]
    #expect(
      abs(
        try Metric.meanSquaredError.value(prediction: prediction, target: target)
          - differences.map { $0 * $0 }.reduce(0, +) / 8) < 1e-15)
    #expect(
      abs(
        try Metric.meanAbsoluteError.value(prediction: prediction, target: target)
          - differences.reduce(0, +) / 8) < 1e-15)
    // One output: the class is 1 from 0.5 up.
    #expect(
      try Metric.accuracy.value(prediction: Tensor([[0.5], [0.2]]), target: Tensor([[1.0], [1]]))
        == 0.5)
    expectError(containing: "metric") {
      _ = try Metric.accuracy.value(prediction: Tensor<Double>([[1, 2]]), target: Tensor([[1.0]]))
    }
  }

  @Test func confusionMatrixCountsActualAgainstPredicted() throws {
    var matrix = ConfusionMatrix(classNames: ["cat", "dog", "emu"])
    try matrix.add(
      prediction: Tensor<Float>([[3, 1, 0], [0, 2, 1], [5, 0, 0], [0, 0, 1]]),
      target: Tensor<Float>([[1, 0, 0], [0, 1, 0], [0, 1, 0], [0, 0, 1]]))
    #expect(matrix.counts == [[1, 0, 0], [1, 1, 0], [0, 0, 1]])
    #expect(matrix.total == 4 && matrix.accuracy == 0.75)
    #expect(matrix.description.contains("cat  dog  emu"))
  }

  @Test func evaluationAveragesOverSamplesWhateverTheBatchSize() throws {
    let data: DataSet<Double> = try ToyData.blobs(count: 37, seed: 2)
    let model = try Sequential<Double>.perceptron(sizes: [2, 4, 3], activation: .tanh, seed: 1)
    let whole = try model.evaluate(on: data, loss: SoftmaxCrossEntropy(), batchSize: 37)
    let pieces = try model.evaluate(on: data, loss: SoftmaxCrossEntropy(), batchSize: 5)
    #expect(abs(whole.loss - pieces.loss) < 1e-12)
    #expect(whole.metrics == pieces.metrics && whole.confusionMatrix == pieces.confusionMatrix)
    #expect(whole.metrics.keys.sorted() == ["accuracy"])
    #expect(whole.confusionMatrix?.total == 37)
  }

  @Test func historyWritesCSVAndJSONAndReadsJSONBack() throws {
    var history = History()
    history.append(["loss": 0.5, "accuracy": 0.75])
    history.append(["loss": 0.25, "accuracy": 1, "val_loss": 0.3])
    history.stopReason = .earlyStopped(bestEpoch: 2)
    #expect(history.columns == ["loss", "accuracy", "val_loss"])
    #expect(history.values(of: "val_loss")?.first?.isNaN == true)
    #expect(history.last("loss") == 0.25)
    #expect(history.csv == "epoch,loss,accuracy,val_loss\n1,0.5,0.75,nan\n2,0.25,1.0,0.3\n")
    let read = try History(jsonData: history.jsonData(), source: "h.json")
    #expect(read.columns == history.columns && read.stopReason == history.stopReason)
    #expect(read.rows[1] == history.rows[1] && read.rows[0][2].isNaN)
    let url = try temporaryDirectory().appendingPathComponent("history.json")
    try history.write(to: url)
    #expect(try History(jsonData: Data(contentsOf: url), source: url.path).epochCount == 2)
    expectError(containing: "h.json", "not a training history") {
      _ = try History(jsonData: Data("[1, 2]".utf8), source: "h.json")
    }
  }
}
