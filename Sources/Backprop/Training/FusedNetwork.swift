import Foundation

/// A network of `Linear` layers and element-wise activations trained by fused kernels: each step
/// runs the forward pass, the loss, the backward pass and the SGD update over buffers allocated
/// once, with no graph and no allocation after the first step.
///
/// It computes exactly what the ``Variable`` graph computes for the same network and loss (the
/// tests compare the two), but the bias and activation are applied in the same pass as the
/// product's result is read, δ is formed in place, and each weight gradient is added, scaled by
/// −η, straight into the weights by the product that computes it: the network's own parameters
/// change, and no gradient is ever stored.
///
/// Supported: `Linear` layers (with or without bias, none frozen) each followed by at most one
/// of sigmoid, tanh, ReLU, leaky ReLU or identity; losses MSE, ½Σ squared error, softmax
/// cross-entropy on logits, and binary cross-entropy after a final sigmoid.
public final class FusedNetwork<Scalar: TensorScalar> {
  /// A stage's parameters.
  struct Stage {
    let weight: Variable<Scalar>
    let bias: Variable<Scalar>?
  }

  /// A stage's shape, kept apart from its parameters so that a step reads it without reference
  /// counting.
  struct Layout {
    let inputs: Int
    let outputs: Int
    let activation: ElementwiseActivation
  }

  /// The network being trained.
  public let network: Sequential<Scalar>
  /// The loss.
  public let loss: LossFunction
  private let stages: [Stage]
  private let layouts: [Layout]
  /// Each stage's weight and bias storage during a step (two slots a stage; nil for no bias).
  private let parameterAddresses: UnsafeMutablePointer<UnsafeMutablePointer<Scalar>?>
  private var batchCapacity = 0
  // Buffers owned by this object, allocated once (the batch-sized ones again only for a larger
  // batch), so that a step allocates nothing.
  private var activations: [UnsafeMutablePointer<Scalar>] = []
  private var deltas: [UnsafeMutablePointer<Scalar>] = []
  /// A column of ones, batch long: ∂E/∂b = onesᵀ·δ is a product like ∂E/∂W = Aᵀ·δ.
  private var ones = UnsafeMutablePointer<Scalar>.allocate(capacity: 1)
  private var weightVelocities: [UnsafeMutablePointer<Scalar>] = []
  private var biasVelocities: [UnsafeMutablePointer<Scalar>] = []

  /// Prepares `network` for fused training with `loss`.
  ///
  /// - Throws: ``BackpropError/invalidArgument(name:detail:)`` naming the layer or loss that the
  ///   fused kernels do not cover (train those with ``Layer/fit(_:validation:loss:optimizer:configuration:callbacks:)``).
  public init(_ network: Sequential<Scalar>, loss: LossFunction) throws {
    let stages = try network.denseStages(for: "fused training", skippingDropout: false).map {
      dense in
      let linear = dense.linear
      guard linear.weight.requiresGradient, linear.bias?.requiresGradient ?? true else {
        throw BackpropError.invalidArgument(
          name: "\(linear) for fused training", detail: "frozen parameters are not supported")
      }
      // The derivative is read from the output's sign, which a slope ≤ 0 would not keep.
      if case .leaky(let slope) = dense.activation, slope <= 0 {
        throw BackpropError.invalidArgument(
          name: "LeakyReLU(slope: \(slope)) for fused training",
          detail: "the slope must be positive")
      }
      return (
        Stage(weight: linear.weight, bias: linear.bias),
        Layout(
          inputs: linear.inputSize ?? 0, outputs: linear.outputSize ?? 0,
          activation: dense.activation)
      )
    }
    let layouts = stages.map(\.1)
    let last = layouts[layouts.count - 1].activation
    switch loss {
    case .crossEntropy where last != .identity:
      throw BackpropError.invalidArgument(
        name: "fused cross-entropy", detail: "the network must end in logits (a Linear layer)")
    case .binaryCrossEntropy where last != .sigmoid:
      throw BackpropError.invalidArgument(
        name: "fused binary cross-entropy", detail: "the network must end in a sigmoid")
    default: break
    }
    self.network = network
    self.loss = loss
    self.stages = stages.map(\.0)
    self.layouts = layouts
    parameterAddresses = .allocate(capacity: 2 * stages.count)
    parameterAddresses.initialize(repeating: nil, count: 2 * stages.count)
  }

  deinit {
    for buffer in activations + deltas + weightVelocities + biasVelocities + [ones] {
      buffer.deallocate()
    }
    parameterAddresses.deallocate()
  }

  /// A zeroed buffer on a cache line of its own, so that threads writing neighbouring parts of
  /// a product's result never share a line at its start.
  private static func buffer(_ count: Int, value: Scalar = 0) -> UnsafeMutablePointer<Scalar> {
    let pointer = UnsafeMutableRawPointer.allocate(
      byteCount: max(count, 1) * MemoryLayout<Scalar>.stride, alignment: 64
    ).bindMemory(to: Scalar.self, capacity: max(count, 1))
    pointer.initialize(repeating: value, count: max(count, 1))
    return pointer
  }

  private func reserve(batch: Int) {
    guard batch > batchCapacity else { return }
    for buffer in activations + deltas + [ones] { buffer.deallocate() }
    batchCapacity = batch
    ones = Self.buffer(batch, value: 1)
    activations = layouts.map { Self.buffer(batch * $0.outputs) }
    deltas = layouts.map { Self.buffer(batch * $0.outputs) }
  }

  /// One step of SGD (w ← w − η(∂E/∂w + λw), with momentum μ as PyTorch's SGD) on a batch given
  /// as row-major features `[batch, inputs]` and targets `[batch, outputs]`; returns the loss
  /// before the update.
  ///
  /// A NaN or infinite loss leaves the weights unchanged and is returned as it is; so does NaN
  /// when the batch is not positive or the buffers hold fewer values than it needs.
  @_specialize(exported:true,where Scalar == Float)
  @_specialize(exported:true,where Scalar == Double)
  public func step(
    features: UnsafeBufferPointer<Scalar>, targets: UnsafeBufferPointer<Scalar>, batch: Int,
    learningRate: Scalar, momentum: Scalar = 0, weightDecay: Scalar = 0
  ) -> Scalar {
    guard batch > 0, features.count >= batch * (layouts.first?.inputs ?? 0),
      targets.count >= batch * (layouts.last?.outputs ?? 0), let input = features.baseAddress
    else { return .nan }
    reserve(batch: batch)
    if momentum != 0 && weightVelocities.isEmpty {
      weightVelocities = layouts.map { Self.buffer($0.inputs * $0.outputs) }
      biasVelocities = layouts.map { Self.buffer($0.outputs) }
    }
    // Local copies: reading the stored arrays once spares a dynamic exclusivity check per access.
    let (activations, deltas, layouts, ones) = (
      self.activations, self.deltas, self.layouts, UnsafePointer(self.ones)
    )
    let (weightVelocities, biasVelocities) = (self.weightVelocities, self.biasVelocities)
    // Each parameter's storage is made unique once a step and then used through its address, so
    // that no use checks exclusivity or counts references; nothing else touches it meanwhile.
    let addresses = parameterAddresses
    for index in stages.indices {
      addresses[2 * index] = stages[index].weight.value.withUnsafeMutableBufferPointer {
        $0.baseAddress
      }
      addresses[2 * index + 1] =
        stages[index].bias?.value.withUnsafeMutableBufferPointer { $0.baseAddress } ?? nil
    }
    // Forward: Z = A·W, then bias and activation in one pass over Z.
    for index in layouts.indices {
      let layout = layouts[index]
      guard let weight = addresses[2 * index] else { return .nan }
      let source = index == 0 ? input : UnsafePointer(activations[index - 1])
      let output = activations[index]
      Scalar.multiplyMatrices(
        source, transposeA: false, weight, transposeB: false, into: output,
        m: batch, n: layout.outputs, k: layout.inputs, scale: 1, accumulate: false)
      Self.biasAndActivate(
        output, batch: batch, width: layout.outputs, bias: addresses[2 * index + 1],
        layout.activation)
    }
    let lossValue = outputDelta(targets: targets, batch: batch)
    guard lossValue.isFinite else { return lossValue }
    let rule = Descent(learningRate: learningRate, momentum: momentum, weightDecay: weightDecay)
    // Backward, from the last layer down: each layer passes δ down through its weights before
    // they change, then descends.
    for index in layouts.indices.reversed() {
      let layout = layouts[index]
      guard let weight = addresses[2 * index] else { return .nan }
      let source = index == 0 ? input : UnsafePointer(activations[index - 1])
      let delta = deltas[index]
      if index > 0 {
        // δ of the layer below = (δ·Wᵀ) ⊙ f′.
        let below = layouts[index - 1]
        Scalar.multiplyMatrices(
          delta, transposeA: false, weight, transposeB: true, into: deltas[index - 1],
          m: batch, n: layout.inputs, k: layout.outputs, scale: 1, accumulate: false)
        Self.multiplyByDerivative(
          deltas[index - 1], output: activations[index - 1], count: batch * below.outputs,
          below.activation)
      }
      // ∂E/∂W = Aᵀ·δ and ∂E/∂b = onesᵀ·δ, each added to its parameters by the product itself.
      func descend(
        _ values: UnsafeMutablePointer<Scalar>, rows: Int, inputs: UnsafePointer<Scalar>,
        velocity: UnsafeMutablePointer<Scalar>?
      ) {
        let count = rows * layout.outputs
        let (destination, scale) = rule.prepare(values, count: count, velocity: velocity)
        Scalar.multiplyMatrices(
          inputs, transposeA: true, delta, transposeB: false, into: destination,
          m: rows, n: layout.outputs, k: batch, scale: scale, accumulate: true)
        rule.finish(values, count: count, velocity: velocity)
      }
      descend(
        weight, rows: layout.inputs, inputs: source,
        velocity: momentum == 0 ? nil : weightVelocities[index])
      if let bias = addresses[2 * index + 1] {
        descend(
          bias, rows: 1, inputs: ones, velocity: momentum == 0 ? nil : biasVelocities[index])
      }
    }
    return lossValue
  }

  /// PyTorch's SGD rule, g = ∂E/∂w + λw; v = μv + g; w −= ηv (w −= ηg without momentum), taken
  /// in two halves around the addition of ∂E/∂w, so that a product can add it where it belongs.
  private struct Descent {
    let learningRate: Scalar
    let momentum: Scalar
    let weightDecay: Scalar

    /// Takes the part of the step that does not need ∂E/∂w, and returns where ∂E/∂w is to be
    /// added and by what factor: without momentum, w ← (1 − ηλ)w and then w += −η·∂E/∂w; with
    /// it, v ← μv + λw and then v += ∂E/∂w.
    @inline(__always)
    func prepare(
      _ values: UnsafeMutablePointer<Scalar>, count: Int, velocity: UnsafeMutablePointer<Scalar>?
    ) -> (UnsafeMutablePointer<Scalar>, Scalar) {
      if let velocity {
        for index in 0..<count {
          velocity[index] = momentum * velocity[index] + weightDecay * values[index]
        }
        return (velocity, 1)
      }
      if weightDecay != 0 {
        let shrink = 1 - learningRate * weightDecay
        for index in 0..<count { values[index] *= shrink }
      }
      return (values, -learningRate)
    }

    /// Completes the step once ∂E/∂w is in: w −= ηv with momentum, nothing without.
    @inline(__always)
    func finish(
      _ values: UnsafeMutablePointer<Scalar>, count: Int, velocity: UnsafeMutablePointer<Scalar>?
    ) {
      guard let velocity else { return }
      for index in 0..<count { values[index] -= learningRate * velocity[index] }
    }
  }

  /// The loss of the last layer's activations against `targets`, and δ of the last layer.
  private func outputDelta(targets: UnsafeBufferPointer<Scalar>, batch: Int) -> Scalar {
    let last = layouts.count - 1
    let width = layouts[last].outputs
    let count = batch * width
    let activation = layouts[last].activation
    var total: Scalar = 0
    let output = activations[last]
    let delta = deltas[last]
    switch loss {
    case .crossEntropy:
      // Softmax of the logits, row by row, then δ = (p − t)/batch.
      for row in 0..<batch {
        let start = row * width
        var top = output[start]
        for column in 1..<max(width, 1) { top = max(top, output[start + column]) }
        var sum: Scalar = 0
        // −Σ t·log p = −Σ t·(z − top) + (Σ t)·log Σ exp(z − top), without taking log of a p.
        var weighted: Scalar = 0
        var mass: Scalar = 0
        for column in 0..<width {
          let shifted = output[start + column] - top
          let t = targets[start + column]
          if t != 0 {
            weighted += t * shifted
            mass += t
          }
          let e = Scalar.exp(shifted)
          output[start + column] = e
          sum += e
        }
        total -= weighted - mass * Scalar.log(sum)
        for column in 0..<width {
          let index = start + column
          output[index] /= sum
          delta[index] = (output[index] - targets[index]) / Scalar(batch)
        }
      }
      total /= Scalar(batch)
    case .meanSquaredError, .halfSumOfSquares:
      let mean = loss == .meanSquaredError
      let scale: Scalar = mean ? 2 / Scalar(count) : 1
      for index in 0..<count {
        let difference = output[index] - targets[index]
        total += difference * difference
        delta[index] = scale * difference
      }
      total = mean ? total / Scalar(count) : total / 2
      Self.multiplyByDerivative(delta, output: output, count: count, activation)
    case .binaryCrossEntropy:
      // With the final sigmoid, δ = (a − t)/count; the loss clamps the logarithm as the graph does.
      for index in 0..<count {
        let (a, t) = (output[index], targets[index])
        let logA = max(Scalar.log(a), -100)
        let logB = max(Scalar.log(1 - a), -100)
        total -= t * logA + (1 - t) * logB
        delta[index] = (a - t) / Scalar(count)
      }
      total /= Scalar(count)
    }
    return total
  }

  @inline(__always)
  private static func biasAndActivate(
    _ output: UnsafeMutablePointer<Scalar>, batch: Int, width: Int,
    bias: UnsafeMutablePointer<Scalar>?, _ activation: ElementwiseActivation
  ) {
    func apply(_ transform: (Scalar) -> Scalar) {
      if let bias {
        for row in 0..<batch {
          let values = output + row * width
          for column in 0..<width { values[column] = transform(values[column] + bias[column]) }
        }
      } else {
        for index in 0..<(batch * width) { output[index] = transform(output[index]) }
      }
    }
    // Float's tanh and sigmoid run vectorized over the whole buffer once the bias is in.
    let count = batch * width
    if Scalar.self == Float.self, activation == .tanh || activation == .sigmoid {
      apply { $0 }
      output.withMemoryRebound(to: Float.self, capacity: count) { values in
        let buffer = UnsafeMutableBufferPointer(start: values, count: count)
        activation == .tanh ? Kernels.tanh(buffer) : Kernels.sigmoid(buffer)
      }
      return
    }
    switch activation {
    case .identity: apply { $0 }
    case .sigmoid: apply { 1 / (1 + Scalar.exp(-$0)) }
    case .tanh: apply { Scalar.tanh($0) }
    case .relu: apply { max($0, 0) }
    case .leaky(let slope):
      let slope = Scalar(slope)
      apply { $0 > 0 ? $0 : slope * $0 }
    }
  }

  /// δ ⊙ f′, with f′ from the activation's output.
  @inline(__always)
  private static func multiplyByDerivative(
    _ delta: UnsafeMutablePointer<Scalar>, output: UnsafeMutablePointer<Scalar>, count: Int,
    _ activation: ElementwiseActivation
  ) {
    switch activation {
    case .identity: return
    case .sigmoid: for index in 0..<count { delta[index] *= output[index] * (1 - output[index]) }
    case .tanh: for index in 0..<count { delta[index] *= 1 - output[index] * output[index] }
    // Multiplies by a selected factor rather than branching, so that the loop is vectorized: half
    // the outputs of a ReLU are zero, at random.
    case .relu: for index in 0..<count { delta[index] *= output[index] > 0 ? 1 : 0 }
    case .leaky(let slope):
      let slope = Scalar(slope)
      for index in 0..<count { delta[index] *= output[index] > 0 ? 1 : slope }
    }
  }
}
