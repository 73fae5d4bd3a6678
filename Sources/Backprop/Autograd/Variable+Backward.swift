/// Reverse-mode differentiation over the recorded graph.
extension Variable {
  /// Computes the gradient of this scalar with respect to every variable it depends on that
  /// requires a gradient, and adds it to their ``gradient``.
  ///
  /// - Throws: ``BackpropError/notDifferentiable(detail:)`` when this variable holds more than one
  ///   element (use ``backward(seed:)`` for a vector-Jacobian product).
  public func backward() throws {
    guard value.count == 1 else {
      throw BackpropError.notDifferentiable(
        detail:
          "backward() needs a scalar, this variable has shape \(BackpropError.format(shape)); "
          + "reduce it first (for example with sum() or mean()) or pass a seed")
    }
    try backward(seed: Tensor(shape: shape, repeating: 1))
  }

  /// Back-propagates `seed` as the gradient of this variable: the vector-Jacobian product.
  ///
  /// Every node is visited once, in reverse topological order, after the gradients of all its
  /// uses have been summed, so a value used twice receives both contributions.
  public func backward(seed: Tensor<Scalar>) throws {
    guard seed.shape == shape else {
      throw BackpropError.shapeMismatch(
        operation: "backward", shapes: [shape, seed.shape],
        detail: "the seed must have the variable's shape")
    }
    guard requiresGradient else {
      throw BackpropError.notDifferentiable(
        detail: "this variable does not depend on anything that requires a gradient")
    }
    var pending: [ObjectIdentifier: Tensor<Scalar>] = [ObjectIdentifier(self): seed]
    for node in topologicalOrder().reversed() {
      guard let gradient = pending.removeValue(forKey: ObjectIdentifier(node)) else { continue }
      guard let pullback = node.pullback else {
        if let existing = node.gradient {
          node.gradient = try existing + gradient
        } else {
          node.gradient = gradient
        }
        continue
      }
      node.gradient = gradient
      let inputGradients = try pullback(gradient)
      for (input, inputGradient) in zip(node.inputs, inputGradients) {
        guard input.requiresGradient, let inputGradient else { continue }
        assert(
          inputGradient.shape == input.shape, "\(node.operation) returned a wrong gradient shape")
        let key = ObjectIdentifier(input)
        if var sum = pending.removeValue(forKey: key) {
          sum.addInPlace(inputGradient)
          pending[key] = sum
        } else {
          pending[key] = inputGradient
        }
      }
    }
  }

  /// The variables that this one depends on and that require a gradient, each after all of its
  /// inputs (iterative depth-first search, so deep graphs cannot overflow the stack).
  func topologicalOrder() -> [Variable] {
    var order: [Variable] = []
    var visited: Set<ObjectIdentifier> = []
    var stack: [(node: Variable, expanded: Bool)] = [(self, false)]
    while let (node, expanded) = stack.popLast() {
      if expanded {
        order.append(node)
        continue
      }
      guard visited.insert(ObjectIdentifier(node)).inserted else { continue }
      stack.append((node, true))
      for input in node.inputs.reversed() where input.requiresGradient {
        if !visited.contains(ObjectIdentifier(input)) { stack.append((input, false)) }
      }
    }
    return order
  }
}
