/// A `Linear` layer, the element-wise activation after it (identity when none follows), and the
/// ``Dropout`` after that, if any.
struct DenseStage<Scalar: TensorScalar> {
  let linear: Linear<Scalar>
  var activation: ElementwiseActivation
  var dropout: Dropout<Scalar>?
}

extension Sequential {
  /// The network read as `Linear` layers each followed by at most one element-wise activation
  /// and then at most one `Dropout`, as the step trace and the fused training step take it.
  /// `Identity` layers pass through, and so do `Dropout` layers when `skippingDropout`
  /// (inference leaves values unchanged).
  ///
  /// - Throws: ``BackpropError/invalidArgument(name:detail:)`` naming the first layer that does
  ///   not fit, with `purpose` (such as "the trace") in the message, or when there is no
  ///   `Linear` layer.
  func denseStages(for purpose: String, skippingDropout: Bool) throws -> [DenseStage<Scalar>] {
    var stages: [DenseStage<Scalar>] = []
    for (index, layer) in layers.enumerated() {
      func refuse(_ detail: String) -> BackpropError {
        .invalidArgument(name: "layer \(index) (\(layer))", detail: detail)
      }
      if let linear = layer as? Linear<Scalar> {
        stages.append(DenseStage(linear: linear, activation: .identity))
        continue
      }
      if let dropout = layer as? Dropout<Scalar> {
        if skippingDropout { continue }
        guard let last = stages.indices.last, stages[last].dropout == nil else {
          throw refuse("\(purpose) takes a Dropout only after a Linear layer or its activation")
        }
        stages[last].dropout = dropout
        continue
      }
      guard let activation = (layer as? any ElementwiseLayer)?.activation else {
        throw refuse(
          "\(purpose) follows Linear layers and element-wise activations only"
            + (layer is Softmax<Scalar>
              ? "; end the network in logits and use the cross-entropy loss, which applies the softmax"
              : ""))
      }
      if activation == .identity { continue }
      guard let last = stages.indices.last, stages[last].activation == .identity,
        stages[last].dropout == nil
      else { throw refuse("an activation must follow a Linear layer") }
      stages[last].activation = activation
    }
    guard !stages.isEmpty else {
      throw BackpropError.invalidArgument(
        name: "network", detail: "\(purpose) needs a Linear layer, and the network has none")
    }
    return stages
  }
}
