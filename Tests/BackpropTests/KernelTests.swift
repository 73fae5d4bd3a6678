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
  @Test func tanhAndSigmoidAreAccurateAndTheSameAtEveryLevel() {
    var generator = RandomGenerator(seed: 12)
    let inputs =
      (0..<4099).map { _ in Float(generator.uniform(low: -12, high: 12)) }
      + [0, -0.0, 1e-30, -1e-7, 0.6249, 0.625, -0.625, 9, -9, 89, -89, 200, -200]
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
    for (name, kernel, reference) in [
      ("tanh", Kernels.tanh, { (x: Double) in Foundation.tanh(x) }),
      ("sigmoid", Kernels.sigmoid, { (x: Double) in 1 / (1 + Foundation.exp(-x)) }),
    ] as [(String, (UnsafeMutableBufferPointer<Float>) -> Void, (Double) -> Double)] {
      let results = levels.map { run($0, kernel) }
      #expect(results.allSatisfy { $0 == results[0] }, "\(name) differs between levels")
      for (x, y) in zip(inputs, results[0]) {
        let exact = reference(Double(x))
        let ulp = Double(Float(exact).ulp)
        #expect(
          abs(Double(y) - exact) <= 3 * max(ulp, Double(Float.leastNormalMagnitude)),
          "\(name)(\(x)) = \(y), exact \(exact)")
      }
    }
  }
}
