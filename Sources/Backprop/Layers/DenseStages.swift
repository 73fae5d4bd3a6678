/// An element-wise activation that follows a `Linear` layer.
enum ElementwiseActivation: Equatable {
  case identity, sigmoid, tanh, relu
  case leaky(slope: Double)
}

/// A `Linear` layer and the element-wise activation after it (identity when none follows).
struct DenseStage<Scalar: TensorScalar> {
  let linear: Linear<Scalar>
  var activation: ElementwiseActivation
}

extension Sequential {
  /// The network read as `Linear` layers each followed by at most one element-wise activation,
  /// as the step trace and the fused trainer take it. `Identity` layers pass through, and so do
  /// `Dropout` layers when `skippingDropout` (inference leaves values unchanged).
  ///
  /// - Throws: ``BackpropError/invalidArgument(name:detail:)`` naming the first layer that does
  ///   not fit, with `purpose` (such as "the trace") in the message, or when there is no
  ///   `Linear` layer.
  func denseStages(for purpose: String, skippingDropout: Bool) throws -> [DenseStage<Scalar>] {
    var stages: [DenseStage<Scalar>] = []
    for (index, layer) in layers.enumerated() {
      if let linear = layer as? Linear<Scalar> {
        stages.append(DenseStage(linear: linear, activation: .identity))
        continue
      }
      let activation: ElementwiseActivation
      switch layer {
      case is Sigmoid<Scalar>: activation = .sigmoid
      case is Tanh<Scalar>: activation = .tanh
      case is ReLU<Scalar>: activation = .relu
      case let leaky as LeakyReLU<Scalar>: activation = .leaky(slope: Double(leaky.slope))
      case is Identity<Scalar>: continue
      case is Dropout<Scalar> where skippingDropout: continue
      default:
        throw BackpropError.invalidArgument(
          name: "layer \(index) (\(layer))",
          detail: "\(purpose) follows Linear layers and element-wise activations only"
            + (layer is Softmax<Scalar>
              ? "; end the network in logits and use the cross-entropy loss, which applies the softmax"
              : ""))
      }
      guard let last = stages.indices.last, stages[last].activation == .identity else {
        throw BackpropError.invalidArgument(
          name: "layer \(index) (\(layer))", detail: "an activation must follow a Linear layer")
      }
      stages[last].activation = activation
    }
    guard !stages.isEmpty else {
      throw BackpropError.invalidArgument(
        name: "network", detail: "\(purpose) needs a Linear layer, and the network has none")
    }
    return stages
  }
}
