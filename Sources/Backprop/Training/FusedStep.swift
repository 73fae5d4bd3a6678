import CBackpropKernels
import Foundation

/// The training engine's fast path: one step of a `Sequential` of `Linear` layers, element-wise
/// activations and `Dropout` (the forward pass, the loss, the backward pass and the update) over
/// buffers allocated once, with no graph and no allocation after the first step.
///
/// ``Layer/fit(_:validation:loss:optimizer:configuration:callbacks:reducer:)`` and
/// ``Layer/trainingStep(input:target:loss:optimizer:)`` run it whenever the network and the loss
/// allow (see ``init(_:loss:)``); it computes what the ``Variable`` graph computes, through the
/// same definitions of each activation (``ElementwiseActivation``) and loss (``RowLoss``), and
/// the tests compare the two to 1e-12 in `Double`.
///
/// - The bias and activation are applied in the pass that reads each product's result, and δ is
///   formed in place.
/// - The middle of a step (everything between the first layer's product and the updates) is
///   split across threads by samples when none of its products is large enough to be split
///   itself; the split never changes a result.
/// - For SGD without momentum, each weight gradient is added, scaled by −η, straight into the
///   weights by the product that computes it, so no gradient is stored. For every other
///   optimizer the products write each trainable parameter's ``Variable/gradient`` and the
///   optimizer's own ``Optimizer/step()`` applies them; frozen parameters get no gradient.
final class FusedStep<Scalar: TensorScalar> {
  /// A stage's parameters and dropout.
  struct Stage {
    let weight: Variable<Scalar>
    let bias: Variable<Scalar>?
    let dropout: Dropout<Scalar>?
  }

  /// A stage's shape, kept apart from its parameters so that a step reads it without reference
  /// counting.
  struct Layout {
    let inputs: Int
    let outputs: Int
    /// The activation the stage applies (identity for one the loss takes in).
    let activation: ElementwiseActivation
  }

  /// The loss, as the engine computes it.
  let loss: any RowLoss
  /// The loss's description, by which a cached engine is recognised.
  let lossDescription: String
  private let stages: [Stage]
  private let layouts: [Layout]
  /// Each stage's weight and bias storage during a step (two slots a stage; nil for no bias).
  private let parameterAddresses: UnsafeMutablePointer<UnsafeMutablePointer<Scalar>?>
  private var batchCapacity = 0
  // Buffers owned by this object, allocated once (again only for a larger batch), so that a
  // step allocates nothing.
  private var activations: [UnsafeMutablePointer<Scalar>] = []
  /// The outputs after dropout, for the stages that have one.
  private var dropped: [UnsafeMutablePointer<Scalar>?] = []
  private var masks: [UnsafeMutablePointer<Scalar>?] = []
  /// No mask for any stage: the masks of a step that drops nothing, made once so that such a
  /// step allocates no array.
  private let noMasks: [UnsafeMutablePointer<Scalar>?]
  private var deltas: [UnsafeMutablePointer<Scalar>] = []
  /// A column of ones, batch long: ∂E/∂b = onesᵀ·δ is a product like ∂E/∂W = Aᵀ·δ.
  private var ones: UnsafeMutablePointer<Scalar>
  /// Each sample's loss, batch long, summed in order once every thread has written its rows.
  private var sampleLosses: UnsafeMutablePointer<Scalar>

  /// Prepares `network` for fused training with `loss`.
  ///
  /// - Throws: ``BackpropError/invalidArgument(name:detail:)`` naming what the fused step does
  ///   not cover (the graph then trains it): a layer other than `Linear`, an element-wise
  ///   activation, `Identity` or a `Dropout` after an activation; a loss other than the four of
  ///   ``LossFunction``; cross-entropy after an activation; binary cross-entropy without a
  ///   final sigmoid; a leaky ReLU with a negative slope; a dropout after the last layer.
  init(_ network: Sequential<Scalar>, loss: some Loss) throws {
    // A LossFunction fuses as the loss it names.
    let named: any Loss = (loss as? LossFunction)?.loss ?? loss
    guard let rowLoss = named as? any RowLoss else {
      throw BackpropError.invalidArgument(
        name: "\(loss) for fused training", detail: "only the built-in losses are fused")
    }
    let dense = try network.denseStages(for: "fused training", skippingDropout: false)
    for stage in dense where !stage.activation.derivativeNeedsOnlyOutput {
      throw BackpropError.invalidArgument(
        name: "\(stage.activation.name) for fused training", detail: "the slope is negative")
    }
    let last = dense[dense.count - 1]
    if last.dropout != nil {
      throw BackpropError.invalidArgument(
        name: "fused training", detail: "a Dropout after the output layer is not fused")
    }
    if rowLoss.needsLogits, last.activation != .identity {
      throw BackpropError.invalidArgument(
        name: "fused \(loss)", detail: "the network must end in logits (a Linear layer)")
    }
    if let absorbed = rowLoss.absorbedActivation, last.activation != absorbed {
      throw BackpropError.invalidArgument(
        name: "fused \(loss)", detail: "the network must end in \(absorbed.name)")
    }
    self.loss = rowLoss
    lossDescription = loss.description
    stages = dense.map {
      Stage(weight: $0.linear.weight, bias: $0.linear.bias, dropout: $0.dropout)
    }
    layouts = dense.enumerated().map { index, stage in
      Layout(
        inputs: stage.linear.inputSize ?? 0, outputs: stage.linear.outputSize ?? 0,
        activation: index == dense.count - 1 && rowLoss.absorbedActivation != nil
          ? .identity : stage.activation)
    }
    noMasks = Array(repeating: nil, count: dense.count)
    // Allocated only here, past every check that throws: a class whose initializer throws gets
    // no deinit, so a buffer made earlier would leak.
    ones = .allocate(capacity: 1)
    sampleLosses = .allocate(capacity: 1)
    // No step has run: no output yet, only a buffer that is valid to point at.
    output = UnsafePointer(sampleLosses)
    parameterAddresses = .allocate(capacity: 2 * dense.count)
    parameterAddresses.initialize(repeating: nil, count: 2 * dense.count)
  }

  deinit {
    for buffer in activations + deltas + [ones, sampleLosses] { buffer.deallocate() }
    for buffer in dropped + masks { buffer?.deallocate() }
    parameterAddresses.deallocate()
  }

  /// The number of inputs of the network.
  var inputCount: Int { layouts[0].inputs }
  /// The number of outputs of the network.
  var outputCount: Int { layouts[layouts.count - 1].outputs }

  /// The model's outputs of the last step or forward pass, `[batch, outputs]`: logits for
  /// cross-entropy, σ(z) for binary cross-entropy, the last activation's values otherwise.
  /// Stored rather than computed, because `fit` reads it after every step from generic code,
  /// where indexing an array of pointers costs a metadata lookup and a dynamic cast.
  private(set) var output: UnsafePointer<Scalar>

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
    for buffer in dropped + masks { buffer?.deallocate() }
    batchCapacity = batch
    ones = Self.buffer(batch, value: 1)
    sampleLosses = Self.buffer(batch)
    activations = layouts.map { Self.buffer(batch * $0.outputs) }
    output = UnsafePointer(activations[layouts.count - 1])
    deltas = layouts.map { Self.buffer(batch * $0.outputs) }
    dropped = zip(stages, layouts).map { $0.dropout == nil ? nil : Self.buffer(batch * $1.outputs) }
    masks = zip(stages, layouts).map { $0.dropout == nil ? nil : Self.buffer(batch * $1.outputs) }
  }

  /// One step of `optimizer` on a batch given as row-major features `[batch, inputs]` and
  /// targets `[batch, outputs]`; returns the loss before the update. ``Dropout`` layers drop
  /// units in training mode (``TrainingMode``), as in the graph.
  ///
  /// `descent` is `optimizer` as plain SGD (``plainDescent(of:)``), whose update the gradient's
  /// product makes. `upcomingFeatures`, when given, are the features the next step will train
  /// on: the threads that run the middle then read them into cache, so that the next step's
  /// first product does not wait for main memory. It changes no result.
  ///
  /// - Throws: ``BackpropError/invalidArgument(name:detail:)`` for an empty batch;
  ///   ``BackpropError/nonFiniteLoss(value:epoch:)`` for a NaN or infinite loss, with every
  ///   parameter unchanged.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  func step(
    features: UnsafePointer<Scalar>, targets: UnsafePointer<Scalar>, batch: Int,
    optimizer: any Optimizer<Scalar>, descent: SGD<Scalar>?,
    upcomingFeatures: UnsafeRawBufferPointer? = nil, weights: UnsafePointer<Scalar>? = nil,
    shards: ShardReduction<Scalar>? = nil
  ) throws -> Scalar {
    guard batch > 0 else {
      throw BackpropError.invalidArgument(
        name: "batch for \(lossDescription)", detail: "the batch is empty (0 samples)")
    }
    let pass = try prepare(
      batch: batch, targets: targets, dropping: TrainingMode.isTraining,
      weighting: weights.map { RowWeighting(weights: $0, rows: batch) },
      scaleRows: shards?.globalRows)
    var lossValue = pass.run(features: features, through: .backward, warming: upcomingFeatures)
    if let shards {
      // A shard's part of the global batch's gradient and loss, summed over the ranks before
      // the loss is judged, so that every rank decides alike.
      writeGradients(of: pass, features: features, batch: batch, descent: nil)
      lossValue = try shards.sum(loss: lossValue)
    }
    guard lossValue.isFinite else {
      throw BackpropError.nonFiniteLoss(value: Double(lossValue), epoch: nil)
    }
    if shards == nil {
      writeGradients(of: pass, features: features, batch: batch, descent: descent)
    }
    if descent == nil { optimizer.step() }
    return lossValue
  }

  /// ∂E/∂W = Aᵀ·δ and ∂E/∂b = onesᵀ·δ of a pass run backward, into the gradients, or, with
  /// `descent`, added times −η straight into the weights.
  @inline(__always)
  private func writeGradients(
    of pass: Pass, features: UnsafePointer<Scalar>, batch: Int, descent: SGD<Scalar>?
  ) {
    let ones = UnsafePointer(self.ones)
    for index in layouts.indices.reversed() {
      let layout = layouts[index]
      let delta = UnsafePointer(pass.deltas[index])
      func differentiate(
        _ parameter: Variable<Scalar>?, rows: Int, inputs: UnsafePointer<Scalar>, slot: Int
      ) {
        guard let parameter, parameter.requiresGradient, let values = pass.addresses[slot] else {
          return
        }
        var (destination, scale): (UnsafeMutablePointer<Scalar>?, Scalar) = (values, 1)
        if let descent {
          // w ← (1 − ηλ)w − ηλ₁·sign(w), then w += −η·∂E/∂w inside the product.
          let rate = Scalar(descent.learningRate)
          if descent.weightDecay != 0 {
            let shrink = 1 - rate * Scalar(descent.weightDecay)
            for element in 0..<(rows * layout.outputs) { values[element] *= shrink }
          }
          if descent.l1Penalty != 0 {
            let step = rate * Scalar(descent.l1Penalty)
            for element in 0..<(rows * layout.outputs) where values[element] != 0 {
              values[element] -= values[element] > 0 ? step : -step
            }
          }
          scale = -rate
        } else {
          destination = Self.gradientStorage(of: parameter)
        }
        guard let destination else { return }
        Scalar.multiplyMatrices(
          inputs, transposeA: true, delta, transposeB: false, into: destination,
          m: rows, n: layout.outputs, k: batch, scale: scale, accumulate: descent != nil)
      }
      differentiate(
        stages[index].weight, rows: layout.inputs,
        inputs: index == 0 ? features : pass.input(of: index), slot: 2 * index)
      differentiate(stages[index].bias, rows: 1, inputs: ones, slot: 2 * index + 1)
    }
  }

  /// `optimizer` if it is SGD without momentum, whose update a step makes inside the gradient's
  /// product; nil for any other. A dynamic cast costs more than a small network's whole step,
  /// so `fit` makes it once.
  static func plainDescent(of optimizer: any Optimizer<Scalar>) -> SGD<Scalar>? {
    (optimizer as? SGD<Scalar>).flatMap { $0.momentum == 0 ? $0 : nil }
  }

  /// One batch of `fit`: ``step(features:targets:batch:optimizer:descent:upcomingFeatures:)``,
  /// then the batch's outputs counted into `tally`; returns the loss as a `Double`.
  /// Specialized, so that `fit`'s generic loop neither converts a scalar nor reads a generic
  /// buffer.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  func fitStep(
    features: UnsafePointer<Scalar>, targets: UnsafePointer<Scalar>, batch: Int,
    optimizer: any Optimizer<Scalar>, descent: SGD<Scalar>?,
    upcomingFeatures: UnsafeRawBufferPointer?, weights: UnsafePointer<Scalar>?,
    shards: ShardReduction<Scalar>?, tally: inout MetricTally
  ) throws -> Double {
    let loss = try step(
      features: features, targets: targets, batch: batch, optimizer: optimizer, descent: descent,
      upcomingFeatures: upcomingFeatures, weights: weights, shards: shards)
    tally.add(predicted: output, expected: targets, rows: batch, width: outputCount)
    return Double(loss)
  }

  /// The loss of a batch in inference mode, leaving ``output`` with the model's outputs.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  func loss(features: UnsafePointer<Scalar>, targets: UnsafePointer<Scalar>, batch: Int) throws
    -> Scalar
  {
    guard batch > 0 else { return 0 }
    return try prepare(batch: batch, targets: targets, dropping: false)
      .run(features: features, through: .loss, warming: nil)
  }

  /// The model's outputs for a batch in inference mode, in ``output``.
  @_specialize(where Scalar == Float)
  @_specialize(where Scalar == Double)
  func forward(features: UnsafePointer<Scalar>, batch: Int) throws {
    guard batch > 0 else { return }
    _ = try prepare(batch: batch, targets: nil, dropping: false)
      .run(features: features, through: .forward, warming: nil)
  }

  /// The storage of a parameter's gradient, which is made to the parameter's shape if it has
  /// none, and unique; nothing else touches it until the step ends.
  private static func gradientStorage(of parameter: Variable<Scalar>) -> UnsafeMutablePointer<
    Scalar
  >? {
    var gradient =
      parameter.gradient.flatMap { $0.shape == parameter.value.shape ? $0 : nil }
      ?? Tensor(zerosShapedLike: parameter.value)
    parameter.gradient = nil
    let address = gradient.withUnsafeMutableBufferPointer { $0.baseAddress }
    parameter.gradient = gradient
    return address
  }

  /// Sizes the buffers, fixes each parameter's storage for the step, and draws the dropout
  /// masks (serially, in the order the graph draws them).
  private func prepare(
    batch: Int, targets: UnsafePointer<Scalar>?, dropping: Bool,
    weighting: RowWeighting<Scalar>? = nil, scaleRows: Int? = nil
  ) throws -> Pass {
    reserve(batch: batch)
    // Each parameter's storage is made unique once a step and then used through its address, so
    // that no use checks exclusivity or counts references; nothing else touches it meanwhile.
    for index in stages.indices {
      parameterAddresses[2 * index] = stages[index].weight.value.withUnsafeMutableBufferPointer {
        $0.baseAddress
      }
      parameterAddresses[2 * index + 1] =
        stages[index].bias?.value.withUnsafeMutableBufferPointer { $0.baseAddress } ?? nil
      guard parameterAddresses[2 * index] != nil else {
        throw BackpropError.invalidArgument(name: "layer \(index)", detail: "it has no weights")
      }
    }
    var masked = noMasks
    if dropping {
      for index in stages.indices {
        guard let dropout = stages[index].dropout, dropout.isActive, let mask = masks[index] else {
          continue
        }
        dropout.drawMask(into: mask, count: batch * layouts[index].outputs)
        masked[index] = mask
      }
    }
    let width = layouts[layouts.count - 1].outputs
    return Pass(
      layouts: layouts, activations: activations, dropped: dropped, masks: masked,
      deltas: deltas, addresses: parameterAddresses, sampleLosses: sampleLosses, loss: loss,
      scale: Scalar(loss.scale(rows: scaleRows ?? batch, width: width)), batch: batch,
      targets: targets,
      weighting: weighting)
  }

  /// How far a pass goes.
  enum Extent: Comparable {
    case forward, loss, backward
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
    let dropped: [UnsafeMutablePointer<Scalar>?]
    /// The masks drawn for this step; nil where nothing is dropped.
    let masks: [UnsafeMutablePointer<Scalar>?]
    let deltas: [UnsafeMutablePointer<Scalar>]
    let addresses: UnsafeMutablePointer<UnsafeMutablePointer<Scalar>?>
    let sampleLosses: UnsafeMutablePointer<Scalar>
    let loss: any RowLoss
    let scale: Scalar
    let batch: Int
    let targets: UnsafePointer<Scalar>?
    /// The batch's sample weights, if it has any.
    let weighting: RowWeighting<Scalar>?

    /// What stage `index` reads: the previous stage's output, after its dropout if any.
    func input(of index: Int) -> UnsafePointer<Scalar> {
      if masks[index - 1] != nil, let output = dropped[index - 1] { return UnsafePointer(output) }
      return UnsafePointer(activations[index - 1])
    }

    /// The first product, then the middle for every row (split across threads when it pays),
    /// and the batch's loss (0 for a forward pass).
    func run(
      features: UnsafePointer<Scalar>, through extent: Extent, warming: UnsafeRawBufferPointer?
    )
      -> Scalar
    {
      guard let firstWeight = addresses[0] else { return .nan }
      // The first product reads the batch; it is usually the largest, and split by itself.
      Scalar.multiplyMatrices(
        features, transposeA: false, firstWeight, transposeB: false, into: activations[0],
        m: batch, n: layouts[0].outputs, k: layouts[0].inputs, scale: 1, accumulate: false)
      let splits =
        batch * layouts.reduce(0) { $0 + $1.outputs } >= FusedStep.middleSplitActivations
        && !layouts.dropFirst().contains {
          Kernels.splitsProduct(m: batch, n: $0.outputs, k: $0.inputs)
        }
      Kernels.forEachRange(
        count: batch, parts: splits ? Kernels.threadCount : 1, block: 16, warming: warming
      ) { start, end in
        propagate(rows: start..<end, through: extent, builtinOnly: splits)
      }
      guard extent >= .loss else { return 0 }
      return LossTotal.of(loss, sampleLosses, rows: batch, scale: scale)
    }

    /// The middle of a step for some samples (rows of the batch), after the first product and
    /// before any parameter changes: the first layer's bias and activation, the forward pass of
    /// the other layers, each sample's loss, and δ of every layer, each passed down through
    /// weights that have not changed yet. Every operation is row by row, and when the middle is
    /// split the products run on the built-in kernel (never OpenBLAS or the small-product loop,
    /// whose sums depend on the rows they are given), so the rows may be split in any way
    /// without changing a result.
    func propagate(rows: Range<Int>, through extent: Extent, builtinOnly: Bool) {
      /// A product of the middle: by the built-in kernel alone when the middle is split (the
      /// decision rests on the shapes, never on the thread count), by any kernel otherwise.
      func multiply(
        _ a: UnsafePointer<Scalar>, _ b: UnsafePointer<Scalar>, transposeB: Bool,
        into c: UnsafeMutablePointer<Scalar>, m: Int, n: Int, k: Int
      ) {
        if builtinOnly {
          Scalar.multiplyMatricesBuiltin(
            a, transposeA: false, b, transposeB: transposeB, into: c, m: m, n: n, k: k,
            scale: 1, accumulate: false)
        } else {
          Scalar.multiplyMatrices(
            a, transposeA: false, b, transposeB: transposeB, into: c, m: m, n: n, k: k,
            scale: 1, accumulate: false)
        }
      }
      let count = rows.count
      // Z = A·W (the first layer's is done), then bias and activation in one pass over Z, then
      // the dropout mask.
      for index in layouts.indices {
        let layout = layouts[index]
        let offset = rows.lowerBound * layout.outputs
        let output = activations[index] + offset
        guard let weight = addresses[2 * index] else { return }
        if index > 0 {
          multiply(
            input(of: index) + rows.lowerBound * layout.inputs, weight, transposeB: false,
            into: output, m: count, n: layout.outputs, k: layout.inputs)
        }
        layout.activation.apply(
          output, rows: count, width: layout.outputs,
          bias: addresses[2 * index + 1].map { UnsafePointer($0) })
        if let mask = masks[index], let target = dropped[index] {
          for element in offset..<(offset + count * layout.outputs) {
            target[element] = activations[index][element] * mask[element]
          }
        }
      }
      let last = layouts.count - 1
      let width = layouts[last].outputs
      let offset = rows.lowerBound * width
      guard extent >= .loss, let targets else {
        if let absorbed = loss.absorbedActivation {
          absorbed.apply(activations[last] + offset, rows: count, width: width, bias: nil)
        }
        return
      }
      loss.rowTerms(
        input: activations[last] + offset, targets: targets + offset, delta: deltas[last] + offset,
        losses: sampleLosses + rows.lowerBound, rows: count, width: width, scale: scale)
      weighting?.apply(rows: rows, delta: deltas[last], losses: sampleLosses, width: width)
      guard extent == .backward else { return }
      layouts[last].activation.multiplyByDerivative(
        deltas[last] + offset, output: activations[last] + offset, count: count * width)
      // δ of the layer below = (δ·Wᵀ) ⊙ mask ⊙ f′.
      for index in layouts.indices.dropFirst().reversed() {
        let (layout, below) = (layouts[index], layouts[index - 1])
        let start = rows.lowerBound * layout.inputs
        let result = deltas[index - 1] + start
        guard let weight = addresses[2 * index] else { return }
        multiply(
          deltas[index] + rows.lowerBound * layout.outputs, weight, transposeB: true,
          into: result, m: count, n: layout.inputs, k: layout.outputs)
        if let mask = masks[index - 1] {
          for element in 0..<(count * below.outputs) { result[element] *= mask[start + element] }
        }
        below.activation.multiplyByDerivative(
          result, output: activations[index - 1] + start, count: count * below.outputs)
      }
    }
  }
}

/// The total of a ``RowLoss`` opened from an existential.
private enum LossTotal {
  static func of<Scalar: TensorScalar>(
    _ loss: any RowLoss, _ losses: UnsafePointer<Scalar>, rows: Int, scale: Scalar
  ) -> Scalar {
    func total<L: RowLoss>(_ loss: L) -> Scalar { L.total(losses, rows: rows, scale: scale) }
    return total(loss)
  }
}

/// The data-parallel part of a fused step: the rows of the global batch, whose mean the loss
/// and gradients are of (each rank's shard contributes its rows' share), and the sum of the
/// shards' gradients and losses over the ranks, packed into one buffer for one allreduce.
final class ShardReduction<Scalar: TensorScalar> {
  let reducer: any GradientReducer
  /// The rows of the global batch being trained on.
  var globalRows = 0
  /// The parameters that train, in the same order on every rank.
  private let training: [Variable<Scalar>]
  /// Their gradients, then the loss.
  private var buffer: [Scalar]

  init(reducer: any GradientReducer, parameters: [Variable<Scalar>]) {
    self.reducer = reducer
    training = parameters.filter(\.requiresGradient)
    buffer = Array(repeating: 0, count: training.reduce(1) { $0 + $1.value.count })
  }

  /// Sums the training parameters' gradients, and `loss`, over the ranks; returns the summed
  /// loss.
  func sum(loss: Scalar) throws -> Scalar {
    var offset = 0
    for parameter in training {
      let range = offset..<(offset + parameter.value.count)
      parameter.gradient?.withUnsafeBufferPointer { buffer.replaceSubrange(range, with: $0) }
      offset = range.upperBound
    }
    buffer[offset] = loss
    try buffer.withUnsafeMutableBufferPointer { try reducer.sum(scalars: $0) }
    offset = 0
    for parameter in training {
      let range = offset..<(offset + parameter.value.count)
      parameter.gradient?.withUnsafeMutableBufferPointer {
        _ = $0.update(fromContentsOf: buffer[range])
      }
      offset = range.upperBound
    }
    return buffer[buffer.count - 1]
  }
}
