import Backprop
import Testing

@Suite("Tensor")
struct TensorTests {
  @Test func creationAndShapes() throws {
    func check<S: TensorScalar>(_: S.Type) throws {
      let matrix = try Tensor<S>([[1, 2, 3], [4, 5, 6]])
      #expect(matrix.shape == [2, 3])
      #expect(matrix.rank == 2)
      #expect(matrix.count == 6)
      #expect(matrix.scalars == [1, 2, 3, 4, 5, 6])
      #expect(try matrix.element(at: [1, 2]) == 6)
      #expect(Tensor<S>(7).shape == [])
      #expect(Tensor<S>(7).scalar == 7)
      #expect(matrix.scalar == nil)
      #expect(try Tensor<S>(zeros: [2, 0]).count == 0)
      #expect(try Tensor<S>(shape: [2, 2], repeating: 3).scalars == [3, 3, 3, 3])
      #expect(try matrix.reshaped(to: [3, -1]).shape == [3, 2])
      #expect(try matrix.transposed().scalars == [1, 4, 2, 5, 3, 6])
    }
    try check(Float.self)
    try check(Double.self)
  }

  @Test func badShapesAreErrorsNotTraps() {
    expectError(containing: "[2, 2]", "4 elements", "3 scalars") {
      _ = try Tensor<Double>(shape: [2, 2], scalars: [1, 2, 3])
    }
    expectError(containing: "-1", "negative") { _ = try Tensor<Float>(zeros: [3, -1]) }
    expectError(containing: "memory") { _ = try Tensor<Double>(zeros: [1 << 40, 1 << 20]) }
    expectError(containing: "memory") { _ = try Tensor<Double>(zeros: [Int.max, 2]) }
    expectError(containing: "row 1 has 1 elements") { _ = try Tensor<Double>([[1, 2], [3]]) }
    expectError(containing: "[2, 3]", "[4]", "reshape") {
      _ = try Tensor<Double>(zeros: [2, 3]).reshaped(to: [4])
    }
    expectError(containing: "outside 0..<2") {
      _ = try Tensor<Double>(zeros: [2, 2]).element(at: [2, 0])
    }
    expectError(containing: "class index 3", "0..<3") {
      _ = try Tensor<Double>.oneHot(classIndices: [0, 3], classCount: 3)
    }
  }

  @Test func valueSemanticsWithCopyOnWrite() throws {
    let original = try Tensor<Double>([[1, 2], [3, 4]])
    var copy = original
    copy.withUnsafeMutableBufferPointer { $0[0] = 100 }
    #expect(original.scalars == [1, 2, 3, 4])
    #expect(copy.scalars == [100, 2, 3, 4])
    // A reshape shares the buffer until written to.
    var reshaped = try original.reshaped(to: [4])
    reshaped.withUnsafeMutableBufferPointer { $0[3] = -1 }
    #expect(original.scalars == [1, 2, 3, 4])
  }

  @Test func broadcastingArithmetic() throws {
    func check<S: TensorScalar>(_: S.Type) throws {
      let matrix = try Tensor<S>([[1, 2, 3], [4, 5, 6]])
      let row = Tensor<S>([10, 20, 30])
      let column = try Tensor<S>([[100], [200]])
      #expect(try (matrix + row).scalars == [11, 22, 33, 14, 25, 36])
      #expect(try (row + matrix).scalars == [11, 22, 33, 14, 25, 36])
      #expect(try (matrix * column).scalars == [100, 200, 300, 800, 1000, 1200])
      #expect(try (matrix - Tensor<S>(1)).scalars == [0, 1, 2, 3, 4, 5])
      #expect(try (row / Tensor<S>([2, 4, 5])).scalars == [5, 5, 6])
      let outer = try column + row  // [2, 1] with [3] → [2, 3]
      #expect(outer.shape == [2, 3])
      #expect(outer.scalars == [110, 120, 130, 210, 220, 230])
      #expect((matrix * 2).scalars == [2, 4, 6, 8, 10, 12])
      #expect((1 - row).scalars == [-9, -19, -29])
      #expect((-row).scalars == [-10, -20, -30])
    }
    try check(Float.self)
    try check(Double.self)
  }

  @Test func broadcastingInThreeDimensions() throws {
    var generator = RandomGenerator(seed: 3)
    let a: Tensor<Double> = try randomTensor([2, 1, 4], &generator)
    let b: Tensor<Double> = try randomTensor([3, 1], &generator)
    let sum = try a + b
    #expect(sum.shape == [2, 3, 4])
    for i in 0..<2 {
      for j in 0..<3 {
        for k in 0..<4 {
          #expect(
            try sum.element(at: [i, j, k]) == a.element(at: [i, 0, k]) + b.element(at: [j, 0]))
        }
      }
    }
  }

  @Test func mismatchedShapesNameBothShapes() {
    let a = Tensor<Double>([1, 2, 3])
    let b = Tensor<Double>([1, 2])
    expectError(containing: "add", "[3]", "[2]") { _ = try a + b }
    expectError(containing: "multiply", "[2, 3]", "[2]") {
      _ = try Tensor<Double>(zeros: [2, 3]) * b
    }
  }

  /// The product of every transpose combination against a plain triple loop.
  @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
  func matrixProduct(transposeA: Bool, transposeB: Bool) throws {
    func check<S: TensorScalar>(_: S.Type, tolerance: S) throws {
      var generator = RandomGenerator(seed: 11)
      let (m, k, n) = (5, 7, 3)
      let a: Tensor<S> = try randomTensor(transposeA ? [k, m] : [m, k], &generator)
      let b: Tensor<S> = try randomTensor(transposeB ? [n, k] : [k, n], &generator)
      let product = try a.matmul(b, transposingSelf: transposeA, transposingOther: transposeB)
      #expect(product.shape == [m, n])
      var expected = [S]()
      for i in 0..<m {
        for j in 0..<n {
          var sum: S = 0
          for p in 0..<k {
            let left = try a.element(at: transposeA ? [p, i] : [i, p])
            let right = try b.element(at: transposeB ? [j, p] : [p, j])
            sum += left * right
          }
          expected.append(sum)
        }
      }
      #expect(approximatelyEqual(product.scalars, expected, tolerance: tolerance))
    }
    try check(Float.self, tolerance: 1e-5)
    try check(Double.self, tolerance: 1e-12)
  }

  @Test func matrixProductShapeErrors() {
    let a = try? Tensor<Double>(zeros: [2, 3])
    let b = try? Tensor<Double>(zeros: [4, 5])
    expectError(containing: "matmul", "[2, 3]", "[4, 5]", "inner dimensions 3 and 4") {
      _ = try a?.matmul(b!)
    }
    expectError(containing: "matmul", "matrices") { _ = try a?.matmul(Tensor([1, 2, 3])) }
  }

  @Test func reductions() throws {
    func check<S: TensorScalar>(_: S.Type) throws {
      let matrix = try Tensor<S>([[1, 5, 3], [4, 2, 6]])
      #expect(matrix.sum().scalar == 21)
      #expect(matrix.mean().scalar == 3.5)
      #expect(try matrix.sum(alongAxis: 0).scalars == [5, 7, 9])
      #expect(try matrix.sum(alongAxis: 1).scalars == [9, 12])
      #expect(try matrix.sum(alongAxis: -1, keepingDimension: true).shape == [2, 1])
      #expect(try matrix.mean(alongAxis: 0).scalars == [2.5, 3.5, 4.5])
      #expect(try matrix.max().scalar == 6)
      #expect(try matrix.max(alongAxis: 0).scalars == [4, 5, 6])
      #expect(try matrix.max(alongAxis: 1).scalars == [5, 6])
      #expect(try matrix.argmax(alongAxis: 1) == [1, 2])
      #expect(try matrix.argmax(alongAxis: 0) == [1, 0, 1])
    }
    try check(Float.self)
    try check(Double.self)
    expectError(containing: "axis 2", "0..<2") {
      _ = try Tensor<Double>(zeros: [2, 2]).sum(alongAxis: 2)
    }
    expectError(containing: "empty") { _ = try Tensor<Double>(zeros: [0]).max() }
  }

  @Test func elementwiseFunctions() throws {
    let x = Tensor<Double>([-2, -0.5, 0, 0.5, 2])
    #expect(approximatelyEqual(x.exp().scalars, x.scalars.map { Double.exp($0) }, tolerance: 1e-15))
    #expect(
      approximatelyEqual(x.tanh().scalars, x.scalars.map { Double.tanh($0) }, tolerance: 1e-15))
    #expect(
      approximatelyEqual(
        x.sigmoid().scalars, x.scalars.map { 1 / (1 + Double.exp(-$0)) }, tolerance: 1e-15))
    #expect(x.sigmoid().scalars[2] == 0.5)
    #expect(x.relu().scalars == [0, 0, 0, 0.5, 2])
    #expect(x.leakyRelu(slope: 0.1).scalars == [-0.2, -0.05, 0, 0.5, 2])
    #expect(Tensor<Double>([1, Double.exp(2)]).log().scalars == [0, 2])
  }

  @Test func softmaxIsStableAtExtremeLogits() throws {
    func check<S: TensorScalar>(_: S.Type) throws {
      let logits = try Tensor<S>([[1000, -1000, 0], [-1000, -1000, -1000], [1, 2, 3]])
      let probabilities = try logits.softmax()
      let logProbabilities = try logits.logSoftmax()
      #expect(probabilities.isFinite)
      #expect(logProbabilities.isFinite)
      #expect(Array(probabilities.scalars[0..<3]) == [1, 0, 0])
      let third: S = 1 / 3
      #expect(
        approximatelyEqual(
          Array(probabilities.scalars[3..<6]), [third, third, third], tolerance: 1e-6))
      #expect(logProbabilities.scalars[1] == -2000)
      // Reference: scipy.special.softmax([1, 2, 3]).
      let reference: [S] = [0.09003057317038046, 0.24472847105479764, 0.6652409557748219]
      #expect(approximatelyEqual(Array(probabilities.scalars[6..<9]), reference, tolerance: 1e-6))
      #expect(
        try probabilities.sum(alongAxis: 1).isApproximatelyEqual(
          to: Tensor([1, 1, 1]), tolerance: 1e-6))
      // Along the first axis too.
      let columns = try logits.softmax(alongAxis: 0)
      #expect(
        try columns.sum(alongAxis: 0).isApproximatelyEqual(to: Tensor([1, 1, 1]), tolerance: 1e-6))
    }
    try check(Float.self)
    try check(Double.self)
  }

  @Test func descriptionShowsRows() throws {
    let matrix = try Tensor<Double>([[1, 2.5], [-3, 4]])
    #expect(matrix.description == "[[ 1.0,  2.5],\n [-3.0,  4.0]]")
    #expect(Tensor<Float>([1, 2]).debugDescription.hasPrefix("Tensor<Float>(shape: [2])"))
  }

  @Test func conversionBetweenScalarTypes() throws {
    let doubles = Tensor<Double>([0.1, 1e-3, 2])
    let floats = Tensor<Float>(doubles)
    #expect(floats.scalars == [Float(0.1), Float(1e-3), 2])
    #expect(Tensor<Double>(floats).shape == [3])
  }
}
