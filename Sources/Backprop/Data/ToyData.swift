import Foundation

/// The standard toy data sets of neural-network teaching, each with a size, a noise level and a
/// seed: the same arguments always give the same samples, on every platform.
///
/// The 2-D classification sets have features `x0`, `x1` and classes named `"0"`, `"1"`, …;
/// `sine` is a 1-D regression set with feature `x` and target `y`; `plane` and `multi-gaussian`
/// are TensorFlow Playground's 2-D regression sets, features `x0`, `x1` and target `y`. Noise is the standard
/// deviation of Gaussian jitter added to each point (to `y` for `sine`). Samples come out
/// shuffled.
public enum ToyData {
  /// Points uniform in [−1, 1]², class 1 where exactly one coordinate is positive.
  public static func xor<Scalar: TensorScalar>(
    count: Int, noise: Double = 0, seed: UInt64, as type: Scalar.Type = Scalar.self
  ) throws -> DataSet<Scalar> {
    try classification(count: count, noise: noise, seed: seed, classes: 2) { index, generator in
      let (x, y) = (generator.uniform(low: -1, high: 1), generator.uniform(low: -1, high: 1))
      return ([x, y], (x > 0) != (y > 0) ? 1 : 0)
    }
  }

  /// Two concentric circles (as scikit-learn's `make_circles`): class 0 on the outer circle of
  /// radius 1, class 1 on the inner one of radius `factor`.
  public static func circles<Scalar: TensorScalar>(
    count: Int, noise: Double = 0, factor: Double = 0.5, seed: UInt64,
    as type: Scalar.Type = Scalar.self
  ) throws -> DataSet<Scalar> {
    guard factor > 0, factor < 1 else {
      throw BackpropError.invalidArgument(
        name: "circle factor", detail: "\(factor) must be in (0, 1)")
    }
    let outer = count - count / 2
    return try classification(count: count, noise: noise, seed: seed, classes: 2) { index, _ in
      let inner = index >= outer
      let position = inner ? index - outer : index
      let angle = 2 * Double.pi * Double(position) / Double(inner ? count - outer : outer)
      let radius = inner ? factor : 1
      return ([radius * cos(angle), radius * sin(angle)], inner ? 1 : 0)
    }
  }

  /// Two interleaving half circles (as scikit-learn's `make_moons`).
  public static func twoMoons<Scalar: TensorScalar>(
    count: Int, noise: Double = 0, seed: UInt64, as type: Scalar.Type = Scalar.self
  ) throws -> DataSet<Scalar> {
    let upper = count - count / 2
    return try classification(count: count, noise: noise, seed: seed, classes: 2) { index, _ in
      let lower = index >= upper
      let position = lower ? index - upper : index
      let steps = max((lower ? count - upper : upper) - 1, 1)
      let angle = Double.pi * Double(position) / Double(steps)
      return lower
        ? ([1 - cos(angle), 0.5 - sin(angle)], 1) : ([cos(angle), sin(angle)], 0)
    }
  }

  /// `classes` interleaved spiral arms, each turning 1.75 times around the origin.
  public static func spirals<Scalar: TensorScalar>(
    count: Int, noise: Double = 0, classes: Int = 2, seed: UInt64,
    as type: Scalar.Type = Scalar.self
  ) throws -> DataSet<Scalar> {
    guard classes >= 2 else {
      throw BackpropError.invalidArgument(name: "spiral classes", detail: "\(classes) must be ≥ 2")
    }
    return try classification(count: count, noise: noise, seed: seed, classes: classes) {
      index, _ in
      let arm = index % classes
      let position = Double(index / classes) / Double(max((count - 1) / classes, 1))
      let radius = 0.05 + 0.95 * position
      let angle = 1.75 * 2 * Double.pi * position + 2 * Double.pi * Double(arm) / Double(classes)
      return ([radius * cos(angle), radius * sin(angle)], arm)
    }
  }

  /// Gaussian blobs (as scikit-learn's `make_blobs`): `classes` centres drawn uniformly in
  /// [−`spread`, `spread`]², points around them with standard deviation `noise`.
  public static func blobs<Scalar: TensorScalar>(
    count: Int, noise: Double = 1, classes: Int = 3, spread: Double = 10, seed: UInt64,
    as type: Scalar.Type = Scalar.self
  ) throws -> DataSet<Scalar> {
    guard classes >= 1 else {
      throw BackpropError.invalidArgument(name: "blob classes", detail: "\(classes) must be ≥ 1")
    }
    var centerGenerator = RandomGenerator(seed: seed ^ 0x9E37_79B9_7F4A_7C15)
    let centers = (0..<classes).map { _ in
      [
        centerGenerator.uniform(low: -spread, high: spread),
        centerGenerator.uniform(low: -spread, high: spread),
      ]
    }
    return try classification(count: count, noise: noise, seed: seed, classes: classes) {
      index, _ in (centers[index % classes], index % classes)
    }
  }

  /// Seed 003's boundary: points uniform in [−1, 1]², class 1 ("below") where y < sin(πx),
  /// class 0 ("above") otherwise, decided before the noise is added.
  public static func sineBoundary<Scalar: TensorScalar>(
    count: Int, noise: Double = 0, seed: UInt64, as type: Scalar.Type = Scalar.self
  ) throws -> DataSet<Scalar> {
    try classification(count: count, noise: noise, seed: seed, classes: 2) { _, generator in
      let (x, y) = (generator.uniform(low: -1, high: 1), generator.uniform(low: -1, high: 1))
      return ([x, y], y < sin(Double.pi * x) ? 1 : 0)
    }
  }

  /// 1-D regression of y = sin(x) for x uniform in [0, 2π), with Gaussian noise on y.
  public static func sine<Scalar: TensorScalar>(
    count: Int, noise: Double = 0, seed: UInt64, as type: Scalar.Type = Scalar.self
  ) throws -> DataSet<Scalar> {
    try validate(count: count, noise: noise)
    var generator = RandomGenerator(seed: seed)
    var xs: [Scalar] = []
    var ys: [Scalar] = []
    for _ in 0..<count {
      let x = generator.uniform(low: 0, high: 2 * Double.pi)
      xs.append(Scalar(x))
      ys.append(Scalar(sin(x) + noise * generator.normal()))
    }
    return try DataSet(
      features: Tensor(shape: [count, 1], scalars: xs),
      targets: Tensor(shape: [count, 1], scalars: ys),
      featureNames: ["x"], targetKind: .regression(columns: ["y"]))
  }

  /// TensorFlow Playground's "plane" regression: points uniform in [−1, 1]², target
  /// (x0 + x1) / 2, which spans [−1, 1]. Noise jitters the point before its target is read, as
  /// TensorFlow Playground does.
  public static func plane<Scalar: TensorScalar>(
    count: Int, noise: Double = 0, seed: UInt64, as type: Scalar.Type = Scalar.self
  ) throws -> DataSet<Scalar> {
    try planeRegression(count: count, noise: noise, seed: seed) { x, y in (x + y) / 2 }
  }

  /// TensorFlow Playground's "multi-gaussian" regression: points uniform in [−1, 1]², the
  /// target that of the nearest of six bumps at (±2/3 or 0, ±5/12) with alternating signs, 1 at
  /// a bump's centre falling linearly to 0 at distance 1/3 (its [−6, 6] plane scaled to ours).
  public static func multiGaussian<Scalar: TensorScalar>(
    count: Int, noise: Double = 0, seed: UInt64, as type: Scalar.Type = Scalar.self
  ) throws -> DataSet<Scalar> {
    let bumps: [(x: Double, y: Double, sign: Double)] = [
      (-4, 2.5, 1), (0, 2.5, -1), (4, 2.5, 1), (-4, -2.5, -1), (0, -2.5, 1), (4, -2.5, -1),
    ].map { ($0.0 / 6, $0.1 / 6, $0.2) }
    return try planeRegression(count: count, noise: noise, seed: seed) { x, y in
      var target = 0.0
      for bump in bumps {
        let distance = ((x - bump.x) * (x - bump.x) + (y - bump.y) * (y - bump.y)).squareRoot()
        let value = bump.sign * max(0, 1 - distance * 3)
        if abs(value) > abs(target) { target = value }
      }
      return target
    }
  }

  /// `count` points uniform in [−1, 1]², each with the target `target` gives at the point
  /// jittered by `noise`; features `x0`, `x1`, target `y`.
  private static func planeRegression<Scalar: TensorScalar>(
    count: Int, noise: Double, seed: UInt64, target: (Double, Double) -> Double
  ) throws -> DataSet<Scalar> {
    try validate(count: count, noise: noise)
    var generator = RandomGenerator(seed: seed)
    var coordinates: [Scalar] = []
    var targets: [Scalar] = []
    for _ in 0..<count {
      let (x, y) = (generator.uniform(low: -1, high: 1), generator.uniform(low: -1, high: 1))
      coordinates += [Scalar(x), Scalar(y)]
      targets.append(Scalar(target(x + noise * generator.normal(), y + noise * generator.normal())))
    }
    return try DataSet(
      features: Tensor(shape: [count, 2], scalars: coordinates),
      targets: Tensor(shape: [count, 1], scalars: targets), featureNames: ["x0", "x1"],
      targetKind: .regression(columns: ["y"]))
  }

  /// The generators by name, as the command line and the playground offer them.
  public static let classificationNames = [
    "xor", "circles", "moons", "spirals", "blobs", "sine-boundary",
  ]

  /// The regression generators by name: `sine` over one feature, `plane` and
  /// `multi-gaussian` over two.
  public static let regressionNames = ["sine", "plane", "multi-gaussian"]

  /// The data set called `name` (one of ``classificationNames`` or ``regressionNames``).
  ///
  /// - Throws: ``BackpropError/invalidArgument(name:detail:)`` for an unknown name, or from the
  ///   generator.
  public static func named<Scalar: TensorScalar>(
    _ name: String, count: Int, noise: Double, seed: UInt64, as type: Scalar.Type = Scalar.self
  ) throws -> DataSet<Scalar> {
    switch name {
    case "xor": try xor(count: count, noise: noise, seed: seed)
    case "circles": try circles(count: count, noise: noise, seed: seed)
    case "moons": try twoMoons(count: count, noise: noise, seed: seed)
    case "spirals": try spirals(count: count, noise: noise, seed: seed)
    case "blobs": try blobs(count: count, noise: noise, seed: seed)
    case "sine-boundary": try sineBoundary(count: count, noise: noise, seed: seed)
    case "sine": try sine(count: count, noise: noise, seed: seed)
    case "plane": try plane(count: count, noise: noise, seed: seed)
    case "multi-gaussian": try multiGaussian(count: count, noise: noise, seed: seed)
    default:
      throw BackpropError.invalidArgument(
        name: "toy data set '\(name)'",
        detail: "choose one of \((classificationNames + regressionNames).joined(separator: ", "))")
    }
  }

  private static func validate(count: Int, noise: Double) throws {
    guard count > 0, count <= 10_000_000 else {
      throw BackpropError.invalidArgument(
        name: "sample count", detail: "\(count) must be in 1...10000000")
    }
    guard noise.isFinite, noise >= 0 else {
      throw BackpropError.invalidArgument(name: "noise", detail: "\(noise) must be finite and ≥ 0")
    }
  }

  /// Draws `count` labelled points from `point`, jitters them by `noise` and shuffles them.
  private static func classification<Scalar: TensorScalar>(
    count: Int, noise: Double, seed: UInt64, classes: Int,
    point: (_ index: Int, _ generator: inout RandomGenerator) -> (position: [Double], label: Int)
  ) throws -> DataSet<Scalar> {
    try validate(count: count, noise: noise)
    var generator = RandomGenerator(seed: seed)
    var coordinates: [Scalar] = []
    var labels: [Int] = []
    for index in 0..<count {
      let (position, label) = point(index, &generator)
      coordinates += position.map { Scalar($0 + noise * generator.normal()) }
      labels.append(label)
    }
    let data = try DataSet(
      features: Tensor(shape: [count, 2], scalars: coordinates), labels: labels,
      classNames: (0..<classes).map(String.init), featureNames: ["x0", "x1"])
    return data.shuffled(using: &generator)
  }
}
