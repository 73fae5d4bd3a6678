// CSV → train → evaluate → save → load → predict, as a new user writes it: Fisher's iris data
// (iris.csv beside this file, or a CSV given as the first argument, with a `species` column).
import Backprop
import BackpropCSV
import Foundation

let csv =
  CommandLine.arguments.dropFirst().first.map { URL(fileURLWithPath: $0) }
  ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("iris.csv")
let data = try DataTable.dataSet(csvFile: csv, targetColumns: ["species"], as: Float.self)
let (train, test) = try data.split(testFraction: 0.25, seed: 1)

// The model carries its preprocessing: the scaling is fitted to the training data here.
var model = try Model(perceptronFor: train, hiddenLayers: [16], seed: 1)
let history = try model.fit(train, validation: test, learningRate: 0.01)
print(model)
print("trained \(history.epochCount) epochs (\(history.stopReason ?? .completed))")

let evaluation = try model.evaluate(on: test)
print("test accuracy: \(evaluation.metrics["accuracy"] ?? 0)")
if let matrix = evaluation.confusionMatrix { print(matrix) }

let file = FileManager.default.temporaryDirectory.appendingPathComponent("iris-model.json")
try model.save(to: file)
let loaded = try Model<Float>(contentsOf: file)
let flowers: [[Float]] = [[5.1, 3.5, 1.4, 0.2], [6.7, 3.0, 5.2, 2.3]]
print("predicted: \(try loaded.predictedClassNames(flowers))")
print("probabilities: \(try loaded.predict(flowers))")
