import Foundation
import Testing

@testable import Backprop

@Suite("Optimizers")
struct OptimizerTests {
  /// Five steps on f(w) = Σ s·(w − c)², compared with optax (float64), whose SGD, momentum,
  /// Nesterov and Adam updates are PyTorch's (`Tests/References/make_references.py`).
  static func fiveSteps(_ makeOptimizer: ([Variable<Double>]) throws -> any Optimizer<Double>)
    throws -> [Double]
  {
    let w = Variable(Tensor<Double>([1, -2, 0.5]), requiresGradient: true)
    let center = Variable(Tensor<Double>([0.3, 0.1, -0.2]))
    let scale = Variable(Tensor<Double>([1, 3, 0.5]))
    let optimizer = try makeOptimizer([w])
    for _ in 0..<5 {
      optimizer.zeroGradients()
      try (try (w - center).squared() * scale).sum().backward()
      optimizer.step()
    }
    return w.value.scalars
  }

  @Test func sgdVariantsAgreeWithOptax() throws {
    let plain = try Self.fiveSteps { try SGD(parameters: $0, learningRate: 0.1) }
    #expect(
      approximatelyEqual(
        plain, [0.5293760000000001, 0.07849600000000001, 0.213343], tolerance: 1e-14))
    let momentum = try Self.fiveSteps { try SGD(parameters: $0, learningRate: 0.1, momentum: 0.9) }
    #expect(
      approximatelyEqual(momentum, [-0.106294, 0.583126, -0.22041200000000005], tolerance: 1e-14))
    let nesterov = try Self.fiveSteps {
      try SGD(parameters: $0, learningRate: 0.1, momentum: 0.9, nesterov: true)
    }
    #expect(
      approximatelyEqual(
        nesterov, [0.008997693439999899, -0.02902969856000004, -0.2732071787300001],
        tolerance: 1e-13))
    let decayed = try Self.fiveSteps {
      try SGD(parameters: $0, learningRate: 0.1, momentum: 0.9, weightDecay: 0.01)
    }
    #expect(
      approximatelyEqual(
        decayed, [-0.1111334012403411, 0.5763406092568617, -0.22371740679197055], tolerance: 1e-13))
  }

  @Test func adamAgreesWithOptax() throws {
    let result = try Self.fiveSteps { try Adam(parameters: $0, learningRate: 0.1) }
    #expect(
      approximatelyEqual(
        result, [0.5145516422825562, -1.5027745538366268, 0.014551646103589944], tolerance: 1e-13))
  }

  /// The same five steps written out here with g = ∇ + λ₁·sign(w), the gradient of λ₁·Σ|w|.
  static func referenceL1Steps(l1: Double, adam: Bool) -> [Double] {
    var w = [1.0, -2, 0.5]
    let center = [0.3, 0.1, -0.2]
    let scale = [1.0, 3, 0.5]
    var (m, v, velocity) = ([0.0, 0, 0], [0.0, 0, 0], [0.0, 0, 0])
    for step in 1...5 {
      for i in 0..<3 {
        let sign: Double = w[i] > 0 ? 1 : w[i] < 0 ? -1 : 0
        let g = 2 * scale[i] * (w[i] - center[i]) + l1 * sign
        if adam {
          m[i] = 0.9 * m[i] + 0.1 * g
          v[i] = 0.999 * v[i] + 0.001 * g * g
          let mHat = m[i] / (1 - pow(0.9, Double(step)))
          let vHat = v[i] / (1 - pow(0.999, Double(step)))
          w[i] -= 0.1 * mHat / (vHat.squareRoot() + 1e-8)
        } else {
          velocity[i] = step == 1 ? g : 0.9 * velocity[i] + g
          w[i] -= 0.1 * velocity[i]
        }
      }
    }
    return w
  }

  @Test func anL1PenaltyAddsItsSignToTheGradient() throws {
    let sgd = try Self.fiveSteps {
      try SGD(parameters: $0, learningRate: 0.1, momentum: 0.9, l1Penalty: 0.05)
    }
    #expect(approximatelyEqual(sgd, Self.referenceL1Steps(l1: 0.05, adam: false), tolerance: 1e-13))
    let adam = try Self.fiveSteps { try Adam(parameters: $0, learningRate: 0.1, l1Penalty: 0.05) }
    #expect(approximatelyEqual(adam, Self.referenceL1Steps(l1: 0.05, adam: true), tolerance: 1e-12))
    #expect(
      sgd != (try Self.fiveSteps { try SGD(parameters: $0, learningRate: 0.1, momentum: 0.9) }))
    expectError(containing: "L1 penalty") {
      _ = try SGD(parameters: [], learningRate: 0.1, l1Penalty: -1) as SGD<Double>
    }
  }

  @Test func theFusedStepAppliesL1AsTheGraphDoes() throws {
    func stepped(fused: Bool) throws -> [Double] {
      let network = try Sequential<Double>.perceptron(sizes: [2, 3, 1], activation: .tanh, seed: 4)
      let optimizer = try SGD(
        parameters: network.parameters, learningRate: 0.2, weightDecay: 0.01, l1Penalty: 0.03)
      let input = try Tensor<Double>(shape: [4, 2], scalars: [0.5, -1, 1, 0.25, -0.5, 0.75, 0, 1])
      let target = try Tensor<Double>(shape: [4, 1], scalars: [1, -1, 0.5, 0])
      let step = {
        _ = try network.trainingStep(
          input: input, target: target, loss: MeanSquaredError(), optimizer: optimizer)
      }
      for _ in 0..<3 { try fused ? step() : TrainingEngine.graphOnly(step) }
      return network.parameters.flatMap(\.value.scalars)
    }
    #expect(
      approximatelyEqual(try stepped(fused: true), try stepped(fused: false), tolerance: 1e-12))
  }

  @Test func frozenParametersAreNotUpdated() throws {
    let trained = Variable(Tensor<Double>([1]), requiresGradient: true)
    let frozen = Variable(Tensor<Double>([2]), requiresGradient: true)
    let sgd = try SGD(parameters: [trained, frozen], learningRate: 0.5, momentum: 0.5)
    let adam = try Adam(parameters: [trained, frozen])
    for optimizer in [sgd, adam] as [any Optimizer<Double>] {
      optimizer.zeroGradients()
      try (trained * frozen).sum().backward()
      frozen.requiresGradient = false
      optimizer.step()
      #expect(frozen.value.scalars == [2])
      frozen.requiresGradient = true
    }
    #expect(trained.value.scalars != [1])
  }

  @Test func badHyperParametersAreRejected() {
    let w = [Variable(Tensor<Double>([1]), requiresGradient: true)]
    expectError(containing: "learning rate", "-0.1") {
      _ = try SGD(parameters: w, learningRate: -0.1)
    }
    expectError(containing: "learning rate", "nan") {
      _ = try SGD(parameters: w, learningRate: .nan)
    }
    expectError(containing: "momentum", "1.0", "[0, 1)") {
      _ = try SGD(parameters: w, learningRate: 0.1, momentum: 1)
    }
    expectError(containing: "Nesterov") {
      _ = try SGD(parameters: w, learningRate: 0.1, nesterov: true)
    }
    expectError(containing: "weight decay") {
      _ = try SGD(parameters: w, learningRate: 0.1, weightDecay: -1)
    }
    expectError(containing: "beta1") { _ = try Adam(parameters: w, beta1: 1.5) }
    expectError(containing: "epsilon") { _ = try Adam(parameters: w, epsilon: 0) }
    expectError(containing: "learning rate") {
      try SGD(parameters: w, learningRate: 0.1).setLearningRate(-1)
    }
  }

  @Test func descriptionsShowTheSettings() throws {
    let sgd = try SGD<Double>(parameters: [], learningRate: 0.5, momentum: 0.9)
    #expect(
      sgd.description == "SGD(learningRate: 0.5, momentum: 0.9, nesterov: false, weightDecay: 0.0)")
    #expect(try Adam<Float>(parameters: []).description.hasPrefix("Adam(learningRate: 0.001"))
    #expect(
      try SGD<Double>(parameters: [], learningRate: 0.5, l1Penalty: 0.01).description.hasSuffix(
        "weightDecay: 0.0, l1Penalty: 0.01)"))
  }
}
