import Backprop
import Testing

@Suite("Automatic differentiation")
struct AutogradTests {
  @Test func aValueUsedTwiceGetsBothContributions() throws {
    func check<S: TensorScalar>(_: S.Type) throws {
      let a = Variable(Tensor<S>(3), requiresGradient: true)
      let b = try a + a
      let c = try b * b
      try c.backward()
      // c = (2a)² = 4a², dc/da = 8a = 24; dc/db = 2b = 12.
      #expect(c.value.scalar == 36)
      #expect(a.gradient?.scalar == 24)
      #expect(b.gradient?.scalar == 12)
    }
    try check(Float.self)
    try check(Double.self)
  }

  @Test func gradientsAccumulateUntilCleared() throws {
    let x = Variable(Tensor<Double>([1, 2]), requiresGradient: true)
    for _ in 0..<3 { try (x * 2).sum().backward() }
    #expect(x.gradient?.scalars == [6, 6])
    x.zeroGradient()
    #expect(x.gradient == nil)
    try (x * 2).sum().backward()
    #expect(x.gradient?.scalars == [2, 2])
  }

  @Test func inferenceRecordsNothing() throws {
    let w = Variable(Tensor<Double>([2]), requiresGradient: true)
    let result = try GradientRecording.withoutRecording { try w * w }
    #expect(!result.requiresGradient)
    #expect(result.isLeaf)
    #expect(result.value.scalars == [4])
    let recorded = try w * w
    #expect(recorded.requiresGradient)
    #expect(recorded.operation == "multiply")
    #expect(recorded.inputs.count == 2)
  }

  @Test func frozenParametersGetNoGradient() throws {
    let trained = Variable(Tensor<Double>([1, 2]), requiresGradient: true)
    let frozen = Variable(Tensor<Double>([3, 4]), requiresGradient: false)
    try (trained * frozen).sum().backward()
    #expect(trained.gradient?.scalars == [3, 4])
    #expect(frozen.gradient == nil)
  }

  @Test func broadcastGradientsSumBackToTheOperandShape() throws {
    let matrix = Variable(try Tensor<Double>([[1, 2, 3], [4, 5, 6]]), requiresGradient: true)
    let bias = Variable(Tensor<Double>([10, 20, 30]), requiresGradient: true)
    try (matrix + bias).sum().backward()
    #expect(bias.gradient?.scalars == [2, 2, 2])
    #expect(matrix.gradient?.scalars == [1, 1, 1, 1, 1, 1])
  }

  @Test func intermediateGradientsCanBeInspected() throws {
    // Mazur-style chain: out = σ(w·x); the gradient at each node is kept after backward().
    let w = Variable(Tensor<Double>([0.5]), requiresGradient: true)
    let x = Variable(Tensor<Double>([2]))
    let net = try w * x
    let out = net.sigmoid()
    let loss = try (out - Variable(Tensor([0]))).squared().sum() * 0.5
    try loss.backward()
    let o = out.value.scalars[0]
    #expect(out.gradient?.scalars == [o])
    #expect(approximatelyEqual(net.gradient?.scalars ?? [], [o * o * (1 - o)], tolerance: 1e-15))
    #expect(approximatelyEqual(w.gradient?.scalars ?? [], [2 * o * o * (1 - o)], tolerance: 1e-15))
  }

  @Test func backwardNeedsAScalarOrASeed() throws {
    let x = Variable(Tensor<Double>([1, 2]), requiresGradient: true)
    let y = x * 3
    expectError(containing: "backward() needs a scalar", "[2]") { try y.backward() }
    try y.backward(seed: Tensor([1, 10]))
    #expect(x.gradient?.scalars == [3, 30])
    expectError(containing: "backward", "[2]", "[3]") { try y.backward(seed: Tensor([1, 2, 3])) }
    expectError(containing: "does not depend on anything") {
      try Variable(Tensor<Double>(1)).backward()
    }
  }

  @Test func deepGraphsDoNotOverflowTheStack() throws {
    let x = Variable(Tensor<Double>(1), requiresGradient: true)
    var y = x
    for _ in 0..<20_000 { y = y + 1 }
    try y.backward()
    #expect(x.gradient?.scalar == 1)
  }

  @Test func detachedVariablesStopTheGradient() throws {
    let x = Variable(Tensor<Double>(2), requiresGradient: true)
    let y = try x * x.detached()
    try y.backward()
    #expect(x.gradient?.scalar == 2)
  }
}
