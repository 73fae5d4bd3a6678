extension Layer {
  /// One step of gradient descent on one batch: clear the gradients, run the model, compute the
  /// loss, differentiate, update. Returns the loss before the update.
  ///
  /// The loss is checked before anything changes: a NaN or infinite loss throws
  /// ``BackpropError/nonFiniteLoss(value:epoch:)`` and leaves the weights as they were, the last
  /// good ones.
  @discardableResult
  public func trainingStep(
    input: Tensor<Scalar>, target: Tensor<Scalar>, loss: some Loss,
    optimizer: some Optimizer<Scalar>
  ) throws -> Scalar {
    try step(input: input, target: target, loss: loss, optimizer: optimizer).loss
  }

  /// ``trainingStep(input:target:loss:optimizer:)`` that also returns the model's output.
  func step(
    input: Tensor<Scalar>, target: Tensor<Scalar>, loss: some Loss,
    optimizer: some Optimizer<Scalar>
  ) throws -> (loss: Scalar, output: Tensor<Scalar>) {
    optimizer.zeroGradients()
    let output = try self(Variable(input))
    let lossValue = try loss(output, target)
    let scalar = lossValue.value.scalar ?? .nan
    guard scalar.isFinite else {
      throw BackpropError.nonFiniteLoss(value: Double(scalar), epoch: nil)
    }
    try lossValue.backward()
    optimizer.step()
    return (scalar, output.value)
  }
}
