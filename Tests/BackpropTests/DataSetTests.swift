import Backprop
import Foundation
import Testing

@Suite("Data sets, splits, batches, scaling and tables")
struct DataSetTests {
  func sample() throws -> DataSet<Double> {
    try DataSet(
      features: Tensor(shape: [10, 2], scalars: (0..<20).map(Double.init)),
      labels: [0, 1, 2, 0, 1, 2, 0, 1, 2, 0], classNames: ["a", "b", "c"],
      featureNames: ["p", "q"])
  }

  @Test func classificationTargetsAreOneHotWithNames() throws {
    let data = try sample()
    #expect(data.count == 10 && data.featureCount == 2)
    #expect(data.targets.shape == [10, 3])
    #expect(data.labels == [0, 1, 2, 0, 1, 2, 0, 1, 2, 0])
    #expect(data.targetKind == .classification(column: "label", classNames: ["a", "b", "c"]))
  }

  @Test func badDataAreRejectedWithTheirPlace() throws {
    expectError(containing: "feature 'q' of sample 1", "nan") {
      _ = try DataSet(
        features: Tensor([[1, 2], [3, .nan]]), targets: Tensor<Double>([[0], [1]]),
        featureNames: ["p", "q"])
    }
    expectError(containing: "one row per sample") {
      _ = try DataSet(features: Tensor<Double>([[1, 2], [3, 4]]), targets: Tensor([[0]]))
    }
    expectError(containing: "is not a one-hot row") {
      _ = try DataSet(
        features: Tensor<Double>([[1]]), targets: Tensor([[0.5, 0.5]]),
        targetKind: .classification(column: "y", classNames: ["a", "b"]))
    }
    expectError(containing: "class index 3") {
      _ = try DataSet(features: Tensor<Double>([[1]]), labels: [3], classNames: ["a", "b"])
    }
  }

  @Test func splitsAreDisjointCompleteAndSeeded() throws {
    let data = try sample()
    let split = try data.split(validationFraction: 0.2, testFraction: 0.3, seed: 7)
    #expect(split.train.count == 5 && split.validation?.count == 2 && split.test?.count == 3)
    let firstColumn = { (part: DataSet<Double>?) in
      (part?.features.scalars ?? []).enumerated().filter { $0.offset % 2 == 0 }.map(\.element)
    }
    let all = [split.train, split.validation, split.test].flatMap(firstColumn).sorted()
    #expect(all == stride(from: 0.0, to: 20, by: 2).map { $0 })
    let again = try data.split(validationFraction: 0.2, testFraction: 0.3, seed: 7)
    #expect(again.train.features == split.train.features)
    let other = try data.split(validationFraction: 0.2, testFraction: 0.3, seed: 8)
    #expect(other.train.features != split.train.features)
    #expect(try data.split(validationFraction: 0, seed: 1).validation == nil)
    expectError(containing: "leave no training samples") {
      _ = try data.split(validationFraction: 0.5, testFraction: 0.5, seed: 1)
    }
    expectError(containing: "validation fraction", "[0, 1)") {
      _ = try data.split(validationFraction: -0.1, seed: 1)
    }
  }

  @Test func batchesCoverEverySampleOnceInSeededOrder() throws {
    let data = try sample()
    var generator: RandomGenerator? = RandomGenerator(seed: 3)
    let batches = try data.batches(size: 4, shuffledBy: &generator)
    #expect(batches.map(\.indices.count) == [4, 4, 2])
    #expect(batches.flatMap(\.indices).sorted() == Array(0..<10))
    #expect(batches.flatMap(\.indices) != Array(0..<10))
    for batch in batches {
      #expect(batch.features == (try data.subset(batch.indices).features))
      #expect(batch.targets == (try data.subset(batch.indices).targets))
    }
    var inOrder: RandomGenerator? = nil
    #expect(try data.batches(size: 3, shuffledBy: &inOrder).flatMap(\.indices) == Array(0..<10))
    expectError(containing: "batch size") { _ = try data.batches(size: 0, shuffledBy: &inOrder) }
  }

  @Test func standardizationMatchesThePopulationStatistics() throws {
    let features = try Tensor<Double>([[1, 10, 5], [2, 20, 5], [3, 30, 5], [4, 40, 5]])
    let scaling = try FeatureScaling(fitting: .standardize, to: features)
    #expect(scaling.offsets == [2.5, 25, 5])
    #expect(
      approximatelyEqual(
        scaling.scales, [(1.25).squareRoot(), (125.0).squareRoot(), 1], tolerance: 1e-15))
    let scaled = try scaling.apply(to: features)
    let column0 = stride(from: 0, to: 12, by: 3).map { scaled.scalars[$0] }
    #expect(abs(column0.reduce(0, +)) < 1e-12)
    #expect(abs(column0.map { $0 * $0 }.reduce(0, +) / 4 - 1) < 1e-12)
    // A constant feature is shifted, never divided by zero.
    #expect(stride(from: 2, to: 12, by: 3).allSatisfy { scaled.scalars[$0] == 0 })
    expectError(containing: "fitted to 3 features") {
      _ = try scaling.apply(to: Tensor<Double>([[1, 2]]))
    }
  }

  @Test func minMaxScalingMapsTheTrainingRangeToTheUnitInterval() throws {
    let features = try Tensor<Float>([[0, -2], [5, 2], [10, 0]])
    let scaling = try FeatureScaling(fitting: .minMax, to: features)
    #expect(try scaling.apply(to: features) == Tensor<Float>([[0, 0], [0.5, 1], [1, 0.5]]))
    // New data may fall outside [0, 1]: the training statistics are kept, not refitted.
    #expect(try scaling.apply(to: Tensor<Float>([[20, 4]])) == Tensor<Float>([[2, 1.5]]))
  }

  @Test func classNamesSortNumbersAsNumbers() {
    #expect(ClassNames.sorted(["10", "9", "2", "1"]) == ["1", "2", "9", "10"])
    #expect(ClassNames.sorted(["virginica", "setosa", "10"]) == ["10", "setosa", "virginica"])
  }

  // MARK: Tables

  func table(_ rows: [[String]], header: [String] = ["a", "b", "kind"]) throws -> DataTable {
    try DataTable(source: "flowers.csv", columnNames: header, rows: rows)
  }

  @Test func aTableBecomesADataSetWithNamedClasses() throws {
    let table = try table([["1", "2", "cat"], ["3", " 4 ", "dog"], ["5", "6", "cat"]])
    let data: DataSet<Double> = try table.dataSet(targetColumns: ["kind"])
    #expect(data.featureNames == ["a", "b"])
    #expect(data.features == (try Tensor([[1, 2], [3, 4], [5, 6]])))
    #expect(data.targetKind == .classification(column: "kind", classNames: ["cat", "dog"]))
    #expect(data.labels == [0, 1, 0])

    let regression: DataSet<Double> = try table.dataSet(
      targetColumns: ["b"], featureColumns: ["a"], encoding: .values)
    #expect(regression.targets == (try Tensor([[2], [4], [6]])))
    #expect(regression.targetKind == .regression(columns: ["b"]))

    let numericClasses: DataSet<Double> = try table.dataSet(
      targetColumns: ["a"], featureColumns: ["b"], encoding: .classes)
    #expect(numericClasses.targetKind.classNames == ["1", "3", "5"])
  }

  @Test func tableErrorsNameTheFileLineAndColumn() throws {
    expectError(containing: "flowers.csv, line 3", "2 fields but the header has 3") {
      _ = try table([["1", "2", "cat"], ["1", "2"]])
    }
    expectError(containing: "flowers.csv, line 3, column 'b'", "'x' is not a number") {
      let _: DataSet<Double> = try table([["1", "2", "cat"], ["1", "x", "dog"]])
        .dataSet(targetColumns: ["kind"])
    }
    expectError(containing: "line 2, column 'a'", "the value is missing ('')") {
      let _: DataSet<Double> = try table([["", "2", "cat"]]).dataSet(targetColumns: ["kind"])
    }
    expectError(containing: "line 2, column 'a'", "'inf' is not a number (decimal numbers only") {
      let _: DataSet<Double> = try table([["inf", "2", "cat"]]).dataSet(targetColumns: ["kind"])
    }
    expectError(containing: "there is no column 'species'", "'a', 'b', 'kind'") {
      let _: DataSet<Double> = try table([["1", "2", "cat"]]).dataSet(targetColumns: ["species"])
    }
    expectError(containing: "no data rows") { _ = try table([]) }
    expectError(containing: "'a' appears more than once") {
      _ = try table([["1", "2", "3"]], header: ["a", "a", "b"])
    }
    expectError(containing: "line 2, column 'kind'", "'bird' is not one of the classes") {
      let _: DataSet<Double> = try table([["1", "2", "bird"]])
        .dataSet(targetColumns: ["kind"], classNames: ["cat", "dog"])
    }
  }
}
