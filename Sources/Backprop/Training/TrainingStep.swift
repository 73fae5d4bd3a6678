/// Which engine trains: the fused step wherever the network and loss allow it, or the graph.
///
/// The two compute the same numbers (tested to 1e-12 in `Double`); the switch exists so that
/// the tests can run the graph on networks the fused step would take.
enum TrainingEngine {
  /// Whether ``Layer/fit(_:validation:loss:optimizer:configuration:callbacks:reducer:)``,
  /// ``Layer/trainingStep(input:target:loss:optimizer:)`` and
  /// ``Layer/evaluate(on:loss:batchSize:reducer:)`` may use the fused step (task-local; on by
  /// default).
  @TaskLocal static var usesFusedStep = true

  /// Runs `body` with the graph only.
  static func graphOnly<Result>(_ body: () throws -> Result) rethrows -> Result {
    try $usesFusedStep.withValue(false, operation: body)
  }
}

extension Layer {
  /// One step of gradient descent on one batch: run the model, compute the loss, differentiate,
  /// update. Returns the loss before the update.
  ///
  /// A `Sequential` of `Linear` layers, element-wise activations and `Dropout` trained with one
  /// of the built-in losses takes the fused step (`FusedStep`), with no graph; any other model
  /// records the graph, clears the gradients and back-propagates. Both give the same numbers.
  ///
  /// The loss is checked before anything changes: a NaN or infinite loss throws
  /// ``BackpropError/nonFiniteLoss(value:epoch:)`` and leaves the weights as they were, the last
  /// good ones. An empty batch throws ``BackpropError/invalidArgument(name:detail:)``.
  @discardableResult
  public func trainingStep(
    input: Tensor<Scalar>, target: Tensor<Scalar>, loss: some Loss,
    optimizer: some Optimizer<Scalar>
  ) throws -> Scalar {
    if let engine = fusedStep(for: loss), input.rank == 2, input.shape[1] == engine.inputCount,
      target.shape == [input.shape[0], engine.outputCount]
    {
      try engine.loss.checkTargets(target)
      return try input.withUnsafeBufferPointer { features in
        try target.withUnsafeBufferPointer { targets in
          guard let features = features.baseAddress, let targets = targets.baseAddress else {
            throw BackpropError.invalidArgument(
              name: "batch for \(loss)", detail: "the batch is empty (0 samples)")
          }
          return try engine.step(
            features: features, targets: targets, batch: input.shape[0], optimizer: optimizer,
            descent: FusedStep.plainDescent(of: optimizer))
        }
      }
    }
    return try graphStep(input: input, target: target, loss: loss, optimizer: optimizer).loss
  }

  /// The fused step for this model and `loss`, or nil where the graph must train (a model that
  /// is no `Sequential`, or one the fused step does not cover, or the graph asked for).
  func fusedStep(for loss: some Loss) -> FusedStep<Scalar>? {
    guard TrainingEngine.usesFusedStep, let network = self as? Sequential<Scalar> else {
      return nil
    }
    return network.fusedStep(for: loss)
  }

  /// The model's outputs for `features` (`[count, inputs]`) in inference mode, as a model
  /// trained with `loss` gives them: by the fused forward pass, 1024 rows at a time, where the
  /// model allows it, and by the graph otherwise (the same numbers).
  func outputs(for features: Tensor<Scalar>, loss: some Loss) throws -> Tensor<Scalar> {
    guard let engine = fusedStep(for: loss), features.rank == 2,
      features.shape[1] == engine.inputCount, features.shape[0] > 0
    else { return try self(features) }
    let (rows, inputs, width) = (features.shape[0], engine.inputCount, engine.outputCount)
    var result = try Tensor<Scalar>(zeros: [rows, width])
    try features.withUnsafeBufferPointer { source in
      try result.withUnsafeMutableBufferPointer { target in
        guard let source = source.baseAddress, let target = target.baseAddress else { return }
        for start in stride(from: 0, to: rows, by: 1024) {
          let count = min(1024, rows - start)
          try engine.forward(features: source + start * inputs, batch: count)
          UnsafeMutableRawPointer(target + start * width).copyMemory(
            from: engine.output, byteCount: count * width * MemoryLayout<Scalar>.stride)
        }
      }
    }
    return result
  }

  /// The graph's step, which also returns the model's output.
  func graphStep(
    input: Tensor<Scalar>, target: Tensor<Scalar>, loss: some Loss,
    optimizer: some Optimizer<Scalar>, weights: UnsafePointer<Scalar>? = nil
  ) throws -> (loss: Scalar, output: Tensor<Scalar>) {
    optimizer.zeroGradients()
    let output = try self(Variable(input))
    let lossValue: Variable<Scalar>
    if let weights {
      // Weighted rows need the loss's row terms: a built-in loss's.
      guard let rowLoss = ((loss as? LossFunction)?.loss ?? loss) as? any RowLoss else {
        throw BackpropError.invalidArgument(
          name: "sample weights with \(loss)", detail: "only the built-in losses take weights")
      }
      try requireSameShape(output, target, loss: loss)
      try rowLoss.checkTargets(target)
      lossValue = try rowLoss.recorded(
        output, target: target, rows: output.shape[0], operation: "weighted \(loss)",
        weighting: RowWeighting(weights: weights, rows: output.shape[0]))
    } else {
      lossValue = try loss(output, target)
    }
    let scalar = lossValue.value.scalar ?? .nan
    guard scalar.isFinite else {
      throw BackpropError.nonFiniteLoss(value: Double(scalar), epoch: nil)
    }
    try lossValue.backward()
    optimizer.step()
    return (scalar, output.value)
  }
}

extension Layer {
  /// Throws unless a batch's outputs have its targets' shape.
  private func requireSameShape(
    _ output: Variable<Scalar>, _ target: Tensor<Scalar>, loss: some Loss
  )
    throws
  {
    guard output.shape == target.shape, output.value.rank == 2 else {
      throw BackpropError.shapeMismatch(
        operation: "\(loss)", shapes: [output.shape, target.shape],
        detail: "the model's outputs must have the targets' shape")
    }
  }
}

extension Sequential {
  /// The network's fused step for `loss`, built once and kept while the loss stays the same.
  func fusedStep(for loss: some Loss) -> FusedStep<Scalar>? {
    let key = "\(type(of: loss)) \(loss)"
    if let cached = fusedStepCache, cached.key == key { return cached.step }
    let step = try? FusedStep(self, loss: loss)
    fusedStepCache = (key, step)
    return step
  }
}
