import CBackpropKernels
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
  /// Each sample's loss, batch long, summed in order once every thread has written its rows.
  private var sampleLosses = UnsafeMutablePointer<Scalar>.allocate(capacity: 1)
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
    for buffer in activations + deltas + weightVelocities + biasVelocities + [ones, sampleLosses] {
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
    for buffer in activations + deltas + [ones, sampleLosses] { buffer.deallocate() }
    batchCapacity = batch
    ones = Self.buffer(batch, value: 1)
    sampleLosses = Self.buffer(batch)
    activations = layouts.map { Self.buffer(batch * $0.outputs) }
    deltas = layouts.map { Self.buffer(batch * $0.outputs) }
  }

  /// One step of SGD (w ← w − η(∂E/∂w + λw), with momentum μ as PyTorch's SGD) on a batch given
  /// as row-major features `[batch, inputs]` and targets `[batch, outputs]`; returns the loss
  /// before the update.
  ///
  /// The step's middle (everything between the first layer's product and the updates) is split
  /// across threads by samples when none of its products is large enough to be split itself.
  /// `upcomingFeatures`, when given, are the features the next step will train on: the threads
  /// that run the middle then read them into cache, so that the next step's first product does
  /// not wait for main memory. Neither changes a result.
  ///
  /// A NaN or infinite loss leaves the weights unchanged and is returned as it is; so does NaN
  /// when the batch is not positive or the buffers hold fewer values than it needs.
  @_specialize(exported:true,where Scalar == Float)
  @_specialize(exported:true,where Scalar == Double)
  public func step(
    features: UnsafeBufferPointer<Scalar>, targets: UnsafeBufferPointer<Scalar>, batch: Int,
    learningRate: Scalar, momentum: Scalar = 0, weightDecay: Scalar = 0,
    upcomingFeatures: UnsafeBufferPointer<Scalar>? = nil
  ) -> Scalar {
    guard batch > 0, features.count >= batch * (layouts.first?.inputs ?? 0),
      targets.count >= batch * (layouts.last?.outputs ?? 0), let input = features.baseAddress,
      let target = targets.baseAddress
    else { return .nan }
    reserve(batch: batch)
    if momentum != 0 && weightVelocities.isEmpty {
      weightVelocities = layouts.map { Self.buffer($0.inputs * $0.outputs) }
      biasVelocities = layouts.map { Self.buffer($0.outputs) }
    }
    // Each parameter's storage is made unique once a step and then used through its address, so
    // that no use checks exclusivity or counts references; nothing else touches it meanwhile.
    let addresses = parameterAddresses
    // Local copies: reading the stored arrays once spares a dynamic exclusivity check per access.
    let pass = Pass(
      layouts: layouts, activations: activations, deltas: deltas, addresses: addresses,
      sampleLosses: sampleLosses, loss: loss, batch: batch, targets: target)
    let (activations, deltas, layouts, ones) = (
      pass.activations, pass.deltas, pass.layouts, UnsafePointer(self.ones)
    )
    let (weightVelocities, biasVelocities) = (self.weightVelocities, self.biasVelocities)
    for index in stages.indices {
      addresses[2 * index] = stages[index].weight.value.withUnsafeMutableBufferPointer {
        $0.baseAddress
      }
      addresses[2 * index + 1] =
        stages[index].bias?.value.withUnsafeMutableBufferPointer { $0.baseAddress } ?? nil
      guard addresses[2 * index] != nil else { return .nan }
    }
    guard let firstWeight = addresses[0] else { return .nan }
    // The first product reads the batch; it is usually the largest, and split by itself.
    Scalar.multiplyMatrices(
      input, transposeA: false, firstWeight, transposeB: false, into: activations[0],
      m: batch, n: layouts[0].outputs, k: layouts[0].inputs, scale: 1, accumulate: false)
    let splitsMiddle =
      batch * layouts.reduce(0) { $0 + $1.outputs } >= Self.middleSplitActivations
      && !layouts.dropFirst().contains {
        Kernels.splitsProduct(m: batch, n: $0.outputs, k: $0.inputs)
      }
    Kernels.forEachRange(
      count: batch, parts: splitsMiddle ? Kernels.threadCount : 1, block: 16,
      warming: upcomingFeatures.map { UnsafeRawBufferPointer($0) }
    ) { start, end in
      pass.propagate(rows: start..<end)
    }
    let lossValue = pass.totalLoss()
    guard lossValue.isFinite else { return lossValue }
    // ∂E/∂W = Aᵀ·δ and ∂E/∂b = onesᵀ·δ, each added to its parameters by the product itself.
    let rule = Descent(learningRate: learningRate, momentum: momentum, weightDecay: weightDecay)
    for index in layouts.indices.reversed() {
      let layout = layouts[index]
      let source = index == 0 ? input : UnsafePointer(activations[index - 1])
      let delta = UnsafePointer(deltas[index])
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
      guard let weight = addresses[2 * index] else { return .nan }
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

  /// The fewest activations (batch × the layers' widths) for which the middle of a step is split
  /// across threads: below it, the middle takes a few microseconds, and waking a thread (about
  /// one) would gain little. mlp's 128 × 138 gains about 5%.
  private static var middleSplitActivations: Int { 8192 }

  /// What the passes of one step read, taken from the stored properties once a step, so that
  /// no pass checks exclusivity or counts references on them.
  private struct Pass {
    let layouts: [Layout]
    let activations: [UnsafeMutablePointer<Scalar>]
    let deltas: [UnsafeMutablePointer<Scalar>]
    let addresses: UnsafeMutablePointer<UnsafeMutablePointer<Scalar>?>
    let sampleLosses: UnsafeMutablePointer<Scalar>
    let loss: LossFunction
    let batch: Int
    let targets: UnsafePointer<Scalar>

    /// The middle of a step for some samples (rows of the batch), after the first product and
    /// before any parameter changes: the first layer's bias and activation, the forward pass of
    /// the other layers, each sample's loss, and δ of every layer, each passed down through
    /// weights that have not changed yet. Every operation is row by row, so the rows may be split
    /// in any way without changing a result.
    func propagate(rows: Range<Int>) {
      let count = rows.count
      // Z = A·W (the first layer's is done), then bias and activation in one pass over Z.
      for index in layouts.indices {
        let layout = layouts[index]
        let output = activations[index] + rows.lowerBound * layout.outputs
        guard let weight = addresses[2 * index] else { return }
        if index > 0 {
          Scalar.multiplyMatrices(
            activations[index - 1] + rows.lowerBound * layout.inputs, transposeA: false,
            weight, transposeB: false, into: output, m: count, n: layout.outputs,
            k: layout.inputs, scale: 1, accumulate: false)
        }
        FusedNetwork.biasAndActivate(
          output, batch: count, width: layout.outputs, bias: addresses[2 * index + 1],
          layout.activation)
      }
      outputDelta(rows: rows)
      // δ of the layer below = (δ·Wᵀ) ⊙ f′.
      for index in layouts.indices.dropFirst().reversed() {
        let (layout, below) = (layouts[index], layouts[index - 1])
        let result = deltas[index - 1] + rows.lowerBound * layout.inputs
        guard let weight = addresses[2 * index] else { return }
        Scalar.multiplyMatrices(
          deltas[index] + rows.lowerBound * layout.outputs, transposeA: false,
          weight, transposeB: true, into: result, m: count, n: layout.inputs,
          k: layout.outputs, scale: 1, accumulate: false)
        FusedNetwork.multiplyByDerivative(
          result, output: activations[index - 1] + rows.lowerBound * layout.inputs,
          count: count * below.outputs, below.activation)
      }
    }

    /// The loss of some samples (rows) of the last layer's activations against `targets`, each
    /// in `sampleLosses`, and δ of the last layer for those rows. The scales (1/batch, 2/count,
    /// 1/count) are the whole batch's.
    func outputDelta(rows: Range<Int>) {
      let width = layouts[layouts.count - 1].outputs
      let count = batch * width
      let offset = rows.lowerBound * width
      let (output, delta, target, losses) = (
        activations[layouts.count - 1] + offset, deltas[layouts.count - 1] + offset,
        targets + offset, sampleLosses + rows.lowerBound
      )
      /// Sets each row's loss to Σ over its columns of `term` (which also sets δ).
      func eachRow(_ term: (Int) -> Scalar) {
        for row in 0..<rows.count {
          var sum: Scalar = 0
          for index in (row * width)..<((row + 1) * width) { sum += term(index) }
          losses[row] = sum
        }
      }
      switch loss {
      case .crossEntropy where Scalar.self == Float.self:
        // The vectorized kernel of the loop below.
        func float(_ pointer: UnsafePointer<Scalar>) -> UnsafeMutablePointer<Float> {
          UnsafeMutableRawPointer(mutating: pointer).assumingMemoryBound(to: Float.self)
        }
        Kernels.softmaxCrossEntropy(
          float(output), targets: float(target), delta: float(delta), losses: float(losses),
          rows: rows.count, width: width, divisor: Float(batch))
      case .crossEntropy:
        // Softmax of the logits, row by row, then δ = (p − t)/batch.
        for row in 0..<rows.count {
          let start = row * width
          var top = output[start]
          for column in 1..<max(width, 1) { top = max(top, output[start + column]) }
          var sum: Scalar = 0
          // −Σ t·log p = −Σ t·(z − top) + (Σ t)·log Σ exp(z − top), without taking log of a p.
          var weighted: Scalar = 0
          var mass: Scalar = 0
          for column in 0..<width {
            let shifted = output[start + column] - top
            let t = target[start + column]
            if t != 0 {
              weighted += t * shifted
              mass += t
            }
            let e = Scalar.exp(shifted)
            output[start + column] = e
            sum += e
          }
          losses[row] = mass * Scalar.log(sum) - weighted
          for column in 0..<width {
            let index = start + column
            output[index] /= sum
            delta[index] = (output[index] - target[index]) / Scalar(batch)
          }
        }
      case .meanSquaredError, .halfSumOfSquares:
        let scale: Scalar = loss == .meanSquaredError ? 2 / Scalar(count) : 1
        eachRow { index in
          let difference = output[index] - target[index]
          delta[index] = scale * difference
          return difference * difference
        }
        FusedNetwork.multiplyByDerivative(
          delta, output: output, count: rows.count * width, layouts[layouts.count - 1].activation)
      case .binaryCrossEntropy:
        // With the final sigmoid, δ = (a − t)/count; the loss clamps the logarithm as the graph does.
        eachRow { index in
          let (a, t) = (output[index], target[index])
          delta[index] = (a - t) / Scalar(count)
          return -(t * max(Scalar.log(a), -100) + (1 - t) * max(Scalar.log(1 - a), -100))
        }
      }
    }

    /// The batch's loss: the samples' losses summed in order, then averaged as the loss defines.
    func totalLoss() -> Scalar {
      var total: Scalar = 0
      for row in 0..<batch { total += sampleLosses[row] }
      let count = Scalar(batch * layouts[layouts.count - 1].outputs)
      switch loss {
      case .crossEntropy: return total / Scalar(batch)
      case .meanSquaredError, .binaryCrossEntropy: return total / count
      case .halfSumOfSquares: return total / 2
      }
    }
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
    // Float's tanh and sigmoid add the bias and activate in one vectorized pass.
    if Scalar.self == Float.self, activation == .tanh || activation == .sigmoid {
      Kernels.activate(
        UnsafeMutableRawPointer(output).assumingMemoryBound(to: Float.self), rows: batch,
        width: width, bias: UnsafeRawPointer(bias)?.assumingMemoryBound(to: Float.self),
        activation == .tanh ? BPActivationTanh : BPActivationSigmoid)
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
