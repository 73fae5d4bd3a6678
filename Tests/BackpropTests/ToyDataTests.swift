import Backprop
import Foundation
import Testing

@Suite("Toy data sets")
struct ToyDataTests {
  @Test(arguments: ToyData.classificationNames + ToyData.regressionNames)
  func generatorsAreSeededAndSized(name: String) throws {
    let first: DataSet<Double> = try ToyData.named(name, count: 101, noise: 0.1, seed: 3)
    let again: DataSet<Double> = try ToyData.named(name, count: 101, noise: 0.1, seed: 3)
    let other: DataSet<Double> = try ToyData.named(name, count: 101, noise: 0.1, seed: 4)
    #expect(first.count == 101)
    #expect(first.features == again.features && first.targets == again.targets)
    #expect(first.features != other.features)
    if let classes = first.targetKind.classNames, let labels = first.labels {
      // Every class is present and none holds more than its share plus one.
      let counts = classes.indices.map { index in labels.filter { $0 == index }.count }
      #expect(counts.allSatisfy { $0 > 0 })
      if name != "xor" && name != "sine-boundary" {
        #expect(counts.max()! - counts.min()! <= 1)
      }
    }
  }

  @Test func noiselessPointsFollowTheirRules() throws {
    func rows(_ data: DataSet<Double>) -> [(x: Double, y: Double, label: Int)] {
      let values = data.features.scalars
      return (data.labels ?? []).enumerated().map { (values[2 * $0], values[2 * $0 + 1], $1) }
    }
    for point in rows(try ToyData.xor(count: 200, seed: 1)) {
      #expect((point.x > 0) != (point.y > 0) ? point.label == 1 : point.label == 0)
    }
    for point in rows(try ToyData.circles(count: 200, factor: 0.5, seed: 1)) {
      let radius = (point.x * point.x + point.y * point.y).squareRoot()
      #expect(abs(radius - (point.label == 1 ? 0.5 : 1)) < 1e-12)
    }
    for point in rows(try ToyData.twoMoons(count: 200, seed: 1)) {
      let center = point.label == 0 ? (0.0, 0.0) : (1.0, 0.5)
      let radius =
        ((point.x - center.0) * (point.x - center.0) + (point.y - center.1) * (point.y - center.1))
        .squareRoot()
      #expect(abs(radius - 1) < 1e-12)
    }
    for point in rows(try ToyData.sineBoundary(count: 200, seed: 1)) {
      #expect(point.label == (point.y < sin(.pi * point.x) ? 1 : 0))
    }
    let sine: DataSet<Double> = try ToyData.sine(count: 50, seed: 2)
    for (x, y) in zip(sine.features.scalars, sine.targets.scalars) {
      #expect(abs(y - sin(x)) < 1e-15 && x >= 0 && x < 2 * .pi)
    }
  }

  @Test func tensorFlowPlaygroundsRegressionsFollowTheirRules() throws {
    let plane: DataSet<Double> = try ToyData.plane(count: 300, seed: 2)
    let bumps: DataSet<Double> = try ToyData.multiGaussian(count: 300, seed: 2)
    for data in [plane, bumps] {
      #expect(data.featureNames == ["x0", "x1"] && data.targetKind.columnNames == ["y"])
      #expect(data.features.scalars.allSatisfy { abs($0) <= 1 })
      #expect(data.targets.scalars.allSatisfy { abs($0) <= 1 })
    }
    let points = plane.features.scalars
    for (row, target) in plane.targets.scalars.enumerated() {
      #expect(abs(target - (points[2 * row] + points[2 * row + 1]) / 2) < 1e-12)
    }
    // At the centre of the bump at (0, 2.5/6), sign −1, the target is −1; far from all, 0.
    let corner: DataSet<Double> = try ToyData.multiGaussian(count: 2000, seed: 5)
    let values = corner.features.scalars
    for (row, target) in corner.targets.scalars.enumerated() {
      let (x, y) = (values[2 * row], values[2 * row + 1])
      if x * x + (y - 2.5 / 6) * (y - 2.5 / 6) < 0.0004 { #expect(target < -0.9) }
      if abs(y) < 0.05 && abs(x) < 0.05 { #expect(target == 0) }
    }
    // Noise moves the point before its target is read, not the stored point.
    let noisy: DataSet<Double> = try ToyData.plane(count: 300, noise: 0.3, seed: 2)
    #expect(noisy.features.scalars.allSatisfy { abs($0) <= 1 })
    #expect(noisy.targets != plane.targets)
  }

  @Test func badArgumentsAreRejected() {
    expectError(containing: "sample count", "0") {
      let _: DataSet<Float> = try ToyData.xor(count: 0, seed: 1)
    }
    expectError(containing: "noise", "-1") {
      let _: DataSet<Float> = try ToyData.xor(count: 5, noise: -1, seed: 1)
    }
    expectError(containing: "toy data set 'swirl'", "moons") {
      let _: DataSet<Float> = try ToyData.named("swirl", count: 5, noise: 0, seed: 1)
    }
  }
}
