import CBackpropKernels
import Foundation
import Testing

@testable import Backprop

/// The matrix-product kernels: every transpose combination and awkward size against a plain
/// Double reference, the same bits at every instruction-set level and thread count, and BLAS.
@Suite("Matrix-product kernels", .serialized)
struct KernelTests {
  struct Case: Sendable, CustomStringConvertible {
    var m: Int
    var n: Int
    var k: Int
    var description: String { "\(m)×\(k)·\(k)×\(n)" }
  }

  static let shapes = [
    Case(m: 1, n: 70, k: 90), Case(m: 13, n: 33, k: 17), Case(m: 37, n: 65, k: 300),
    Case(m: 130, n: 47, k: 259), Case(m: 12, n: 1030, k: 8), Case(m: 145, n: 64, k: 513),
    // Whole 8×32 tiles over four depth blocks, and a part tile of 9 rows and 20 columns.
    Case(m: 16, n: 96, k: 784), Case(m: 9, n: 20, k: 600),
    // Narrower than a tile: computed as the transposed product.
    Case(m: 150, n: 10, k: 70),
  ]

  /// op(A)·op(B) in Double, straight from the definition.
  func reference(
    _ a: [Float], _ b: [Float], _ shape: Case, transposeA: Bool, transposeB: Bool
  ) -> [Double] {
    var c = [Double](repeating: 0, count: shape.m * shape.n)
    for i in 0..<shape.m {
      for j in 0..<shape.n {
        var sum = 0.0
        for p in 0..<shape.k {
          let x = transposeA ? a[p * shape.m + i] : a[i * shape.k + p]
          let y = transposeB ? b[j * shape.k + p] : b[p * shape.n + j]
          sum += Double(x) * Double(y)
        }
        c[i * shape.n + j] = sum
      }
    }
    return c
  }

  func product(
    _ a: [Float], _ b: [Float], _ shape: Case, transposeA: Bool, transposeB: Bool,
    scale: Float = 1, accumulateOnto start: [Float]? = nil
  ) -> [Float] {
    var c = start ?? [Float](repeating: .nan, count: shape.m * shape.n)
    a.withUnsafeBufferPointer { a in
      b.withUnsafeBufferPointer { b in
        c.withUnsafeMutableBufferPointer { c in
          guard let a = a.baseAddress, let b = b.baseAddress, let c = c.baseAddress else { return }
          Float.multiplyMatrices(
            a, transposeA: transposeA, b, transposeB: transposeB, into: c, m: shape.m,
            n: shape.n, k: shape.k, scale: scale, accumulate: start != nil)
        }
      }
    }
    return c
  }

  func operands(_ shape: Case, seed: UInt64) -> ([Float], [Float]) {
    var generator = RandomGenerator(seed: seed)
    let a = (0..<(shape.m * shape.k)).map { _ in Float(generator.uniform(low: -1, high: 1)) }
    let b = (0..<(shape.k * shape.n)).map { _ in Float(generator.uniform(low: -1, high: 1)) }
    return (a, b)
  }

  @Test(arguments: shapes)
  func everyTransposeAndLevelAgreesWithTheReference(shape: Case) throws {
    let (a, b) = operands(shape, seed: UInt64(shape.m * 7 + shape.n))
    for transposeA in [false, true] {
      for transposeB in [false, true] {
        let expected = reference(a, b, shape, transposeA: transposeA, transposeB: transposeB)
        var results: [[Float]] = []
        for level in Kernels.InstructionSet.allCases
        where level.rawValue <= Kernels.detectedInstructionSet.rawValue {
          let result = withKernelSettings(level: level, threads: 1, blas: false) {
            product(a, b, shape, transposeA: transposeA, transposeB: transposeB)
          }
          let error = zip(result, expected).map { abs(Double($0) - $1) }.max() ?? 0
          #expect(error < 1e-4 * Double(shape.k).squareRoot(), "\(shape) \(level) error \(error)")
          results.append(result)
        }
        // Every level sums in the same order with fused multiply-adds: the same bits.
        #expect(results.allSatisfy { $0 == results[0] }, "\(shape) levels differ")
        let accumulated = withKernelSettings(
          level: Kernels.detectedInstructionSet, threads: 1, blas: false
        ) {
          product(
            a, b, shape, transposeA: transposeA, transposeB: transposeB, scale: -0.25,
            accumulateOnto: results[0])
        }
        #expect(
          zip(accumulated, results[0]).allSatisfy { abs($0 - 0.75 * $1) <= 1e-5 * (abs($1) + 1) },
          "\(shape) accumulating −¼ of the product")
      }
    }
  }

  /// Above the parallel threshold, a wide result is split by columns and a tall one by rows
  /// (with the product scaled and accumulated, as a fused training step adds it to weights).
  @Test func largeProductsGiveTheSameBitsOnAnyNumberOfThreads() throws {
    // 2·64·1030·300 ≈ 40 MFLOP and 2·1030·100·300 ≈ 62 MFLOP, each over two depth blocks.
    for (shape, transposeA, transposeB, scale) in [
      (Case(m: 64, n: 1030, k: 300), false, true, Float(1)),
      (Case(m: 1030, n: 100, k: 300), true, false, Float(-0.1)),
    ] {
      let (a, b) = operands(shape, seed: 3)
      let start = scale == 1 ? nil : operands(Case(m: shape.m, n: 1, k: shape.n), seed: 4).0
      let expected = reference(a, b, shape, transposeA: transposeA, transposeB: transposeB)
      for blas in [false, true] where !blas || Kernels.isBLASAvailable {
        let results = [1, 2, 3].map { threads in
          withKernelSettings(level: Kernels.detectedInstructionSet, threads: threads, blas: blas) {
            product(
              a, b, shape, transposeA: transposeA, transposeB: transposeB, scale: scale,
              accumulateOnto: start)
          }
        }
        #expect(results[1] == results[0] && results[2] == results[0], "\(shape) blas \(blas)")
        let error =
          zip(results[0].indices, expected).map { index, product in
            abs(Double(results[0][index]) - (Double(start?[index] ?? 0) + Double(scale) * product))
          }.max() ?? 0
        #expect(error < 1e-4 * Double(shape.k).squareRoot(), "\(shape) blas \(blas): \(error)")
      }
    }
  }

  /// A product large enough to split, made inside a part of a split (a step's middle does
  /// that): the worker threads are busy with the enclosing split, so it runs on the part's own
  /// thread rather than waiting for them, which would never end.
  @Test func aLargeProductInsideASplitRunsOnItsOwnThread() throws {
    let shape = Case(m: 200, n: 300, k: 250)  // 30 MFLOP, above the parallel threshold
    let (a, b) = operands(shape, seed: 5)
    withKernelSettings(threads: 2) {
      let expected = product(a, b, shape, transposeA: false, transposeB: false)
      var results = [[Float]](repeating: [], count: 4)
      results.withUnsafeMutableBufferPointer { results in
        Kernels.forEachRange(count: 4, parts: 2, block: 1) { start, end in
          for part in start..<end {
            results[part] = product(a, b, shape, transposeA: false, transposeB: false)
          }
        }
      }
      #expect(results.allSatisfy { $0 == expected })
    }
  }

  @Test(.enabled(if: Kernels.isBLASAvailable, "needs OpenBLAS (Scripts/test installs it)"))
  func openBLASAgreesAndRunsWithTheRightCoreType() throws {
    let shape = Case(m: 130, n: 200, k: 300)
    let (a, b) = operands(shape, seed: 9)
    for (transposeA, transposeB) in [(false, false), (true, false), (false, true), (true, true)] {
      let ours = withKernelSettings(level: Kernels.detectedInstructionSet, threads: 1, blas: false)
      {
        product(a, b, shape, transposeA: transposeA, transposeB: transposeB)
      }
      let theirs = withKernelSettings(level: Kernels.detectedInstructionSet, threads: 1, blas: true)
      {
        product(a, b, shape, transposeA: transposeA, transposeB: transposeB)
      }
      #expect(zip(ours, theirs).allSatisfy { abs($0 - $1) <= 1e-4 })
    }
    #expect(Kernels.blasCoreType != nil)
  }

  @Test func doubleProductsMatchTheReference() throws {
    let shape = Case(m: 33, n: 70, k: 45)
    var generator = RandomGenerator(seed: 4)
    let a: Tensor<Double> = try randomTensor([shape.m, shape.k], &generator)
    let b: Tensor<Double> = try randomTensor([shape.n, shape.k], &generator)
    let c = try a.matmul(b, transposingOther: true)
    let expected = reference(
      a.scalars.map(Float.init), b.scalars.map(Float.init), shape, transposeA: false,
      transposeB: true)
    #expect(zip(c.scalars, expected).allSatisfy { abs($0 - $1) < 1e-5 })
    // Scaled and accumulated: C + 2·A·Bᵀ.
    var twice = c.scalars
    a.withUnsafeBufferPointer { a in
      b.withUnsafeBufferPointer { b in
        twice.withUnsafeMutableBufferPointer { c in
          guard let a = a.baseAddress, let b = b.baseAddress, let c = c.baseAddress else { return }
          Double.multiplyMatrices(
            a, transposeA: false, b, transposeB: true, into: c, m: shape.m, n: shape.n,
            k: shape.k, scale: 2, accumulate: true)
        }
      }
    }
    #expect(zip(twice, expected).allSatisfy { abs($0 - 3 * $1) < 1e-5 })
  }
}

@Suite("Vectorized activations", .serialized)
struct ActivationKernelTests {
  /// Softmax cross-entropy, row by row, against a Double reference, with one-hot targets, soft
  /// targets that sum to 1 and targets that do not (δ = s·(p·Σt − t)), and rows of a whole and a
  /// partial vector; the logits are left as they were.
  @Test func softmaxCrossEntropyIsAccurateAndTheSameAtEveryLevel() {
    let (rows, width, divisor) = (37, 21, Float(64))
    var generator = RandomGenerator(seed: 13)
    let logits = (0..<(rows * width)).map { _ in Float(generator.uniform(low: -30, high: 30)) }
    let targets: [Float] = (0..<(rows * width)).map { index in
      let (row, column) = (index / width, index % width)
      if row % 4 == 2 { return column % 3 == 0 ? 1 : 0 }
      return row % 4 == 3 ? 1 / Float(width) : column == (row * 5) % width ? 1 : 0
    }
    let levels = Kernels.InstructionSet.allCases.filter {
      $0.rawValue <= Kernels.detectedInstructionSet.rawValue
    }
    let results = levels.map { level in
      withKernelSettings(level: level) {
        var (values, delta, losses) = (
          logits, [Float](repeating: .nan, count: rows * width),
          [Float](repeating: .nan, count: rows)
        )
        values.withUnsafeMutableBufferPointer { values in
          delta.withUnsafeMutableBufferPointer { delta in
            losses.withUnsafeMutableBufferPointer { losses in
              Kernels.softmaxCrossEntropy(
                values.baseAddress!, targets: targets, delta: delta.baseAddress!,
                losses: losses.baseAddress!, rows: rows, width: width, scale: 1 / divisor)
            }
          }
        }
        return [values, delta, losses]
      }
    }
    #expect(results.allSatisfy { $0 == results[0] }, "softmax differs between levels")
    for row in 0..<rows {
      let z = (0..<width).map { Double(logits[row * width + $0]) }
      let top = z.max()!
      let sum = z.map { Foundation.exp($0 - top) }.reduce(0, +)
      var loss = 0.0
      let mass = (0..<width).reduce(0.0) { $0 + Double(targets[row * width + $1]) }
      for column in 0..<width {
        let index = row * width + column
        let p = Foundation.exp(z[column] - top) / sum
        let t = Double(targets[index])
        loss -= t * (z[column] - top - Foundation.log(sum))
        // z − max z is rounded to Float first: an error of up to |z − max z|·2⁻²⁴ in exp's argument.
        let tolerance = (2e-6 + abs(z[column] - top) * 1.2e-7) * p + 1e-37
        #expect(results[0][0][index] == logits[index], "logit \(index) changed")
        let expected = (p * mass - t) / Double(divisor)
        #expect(
          abs(Double(results[0][1][index]) - expected) <= tolerance * mass / Double(divisor) + 1e-8,
          "δ[\(index)]")
      }
      #expect(abs(Double(results[0][2][row]) - loss) <= 1e-5 * max(1, loss), "loss of row \(row)")
    }
  }

  @Test func tanhAndSigmoidAreAccurateAndTheSameAtEveryLevel() {
    var generator = RandomGenerator(seed: 12)
    let inputs =
      (0..<4096).map { _ in Float(generator.uniform(low: -12, high: 12)) }
      + [0, -0.0, 1e-30, -1e-7, 0.6249, 0.625, -0.625, 9, -9, 89, -89, 200, -200]
      + (0..<2048).map { -87 - Float($0) / 89 } + [-103.9, -104, -110, -1e30, 88.37, 1e30, 50, -50]
      + [.nan, -.infinity, .infinity]
    func run(_ level: Kernels.InstructionSet, _ body: (UnsafeMutableBufferPointer<Float>) -> Void)
      -> [Float]
    {
      withKernelSettings(level: level) {
        var values = inputs
        values.withUnsafeMutableBufferPointer { body($0) }
        return values
      }
    }
    let levels = Kernels.InstructionSet.allCases.filter {
      $0.rawValue <= Kernels.detectedInstructionSet.rawValue
    }
    let tanh = { (x: Double) in Foundation.tanh(x) }
    let sigmoid = { (x: Double) in 1 / (1 + Foundation.exp(-x)) }
    // A bias added to each row first: rows narrower than a vector, and rows with a partial one.
    let bias = (0..<257).map { Float($0 % 7) / 4 - 0.75 }
    func withBias(width: Int, _ activation: BPActivation) -> (UnsafeMutableBufferPointer<Float>)
      -> Void
    {
      { values in
        Kernels.activate(
          values.baseAddress, rows: values.count / width, width: width, bias: bias, activation)
      }
    }
    var cases: [(String, (UnsafeMutableBufferPointer<Float>) -> Void, (Double, Int) -> Double)] =
      [
        ("tanh", Kernels.tanh, { x, _ in tanh(x) }),
        ("sigmoid", Kernels.sigmoid, { x, _ in sigmoid(x) }),
      ]
    for width in [1, 8, 257] where inputs.count % width == 0 {
      cases.append(
        (
          "tanh with bias, width \(width)", withBias(width: width, BPActivationTanh),
          { x, index in tanh(Double(Float(x) + bias[index % width])) }
        ))
      cases.append(
        (
          "sigmoid with bias, width \(width)", withBias(width: width, BPActivationSigmoid),
          { x, index in sigmoid(Double(Float(x) + bias[index % width])) }
        ))
    }
    #expect(cases.count == 8)
    for (name, kernel, reference) in cases {
      let results = levels.map { run($0, kernel) }
      let bits = results.map { $0.map(\.bitPattern) }
      #expect(bits.allSatisfy { $0 == bits[0] }, "\(name) differs between levels")
      for (index, (x, y)) in zip(inputs, results[0]).enumerated() {
        let exact = reference(Double(x), index)
        guard !exact.isNaN else {
          #expect(y.isNaN, "\(name)(\(x)) = \(y), not NaN")
          continue
        }
        // Below the normal range the ulp is the smallest subnormal: the sigmoid of −87 … −104
        // underflows gradually to 0, as the C library's expf does.
        let ulp = Double(Float(exact).ulp)
        #expect(
          abs(Double(y) - exact) <= 3 * max(ulp, Double(Float.leastNonzeroMagnitude)),
          "\(name)(\(x)) = \(y), exact \(exact)")
      }
    }
  }
}
