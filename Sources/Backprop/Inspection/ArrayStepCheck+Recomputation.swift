/// A row-major matrix of Doubles: the check's arithmetic, small and exact to the order it states.
struct StepMatrix: Equatable {
  var rows: Int
  var columns: Int
  var values: [Double]

  init(rows: Int, columns: Int, values: [Double]) {
    self.rows = rows
    self.columns = columns
    self.values = values
  }

  init(rows: Int, columns: Int, repeating value: Double = 0) {
    self.init(rows: rows, columns: columns, values: Array(repeating: value, count: rows * columns))
  }

  subscript(row: Int, column: Int) -> Double { values[row * columns + column] }

  var transposed: StepMatrix {
    var result = StepMatrix(rows: columns, columns: rows)
    for row in 0..<rows {
      for column in 0..<columns { result.values[column * rows + row] = self[row, column] }
    }
    return result
  }

  /// self · other, each sum taken in index order.
  func times(_ other: StepMatrix) -> StepMatrix {
    var result = StepMatrix(rows: rows, columns: other.columns)
    for row in 0..<rows {
      for column in 0..<other.columns {
        var sum = 0.0
        for inner in 0..<columns { sum += self[row, inner] * other[inner, column] }
        result.values[row * other.columns + column] = sum
      }
    }
    return result
  }

  /// Each row plus the 1×columns `vector`.
  func addingRow(_ vector: StepMatrix) -> StepMatrix {
    var result = self
    for row in 0..<rows {
      for column in 0..<columns { result.values[row * columns + column] += vector.values[column] }
    }
    return result
  }

  /// The 1×columns sum of the rows.
  var columnSums: StepMatrix {
    var result = StepMatrix(rows: 1, columns: columns)
    for row in 0..<rows {
      for column in 0..<columns { result.values[column] += self[row, column] }
    }
    return result
  }

  func map(_ transform: (Double) -> Double) -> StepMatrix {
    StepMatrix(rows: rows, columns: columns, values: values.map(transform))
  }

  func combined(_ other: StepMatrix, _ operation: (Double, Double) -> Double) -> StepMatrix {
    StepMatrix(rows: rows, columns: columns, values: zip(values, other.values).map(operation))
  }

  /// Every value times `scale`. (A method, not an operator: an internal `*` overload would
  /// slow the type-checking of every expression that multiplies, in the tests too.)
  func scaled(by scale: Double) -> StepMatrix { map { scale * $0 } }
}

extension ArrayStepCheck {
  /// The check of one step under one choice of layouts.
  struct Setup {
    let given: [Quantity: (name: String, array: NumPyArray)]
    let input: StepMatrix
    let target: StepMatrix
    let functions: [StepActivation]
    var loss: LossFunction
    let learningRate: Double?
    /// Layer sizes, input first.
    let sizes: [Int]
    /// The layouts each weight's shape allows (two for a square one).
    let allowedLayouts: [[Layout]]
    let tolerance: Double
    var layouts: [Layout] = []
    var memo: [Quantity: StepMatrix] = [:]

    var layerCount: Int { functions.count }
    var sampleCount: Int { input.rows }

    /// The names of the inputs and the targets, as saved.
    let inputName: String
    let targetName: String
    /// The weights before the step, layer by layer, with their names.
    let weights: [(name: String, array: NumPyArray)]

    init(
      recognized: [Quantity: (name: String, array: NumPyArray)],
      input: (name: String, array: NumPyArray), target: (name: String, array: NumPyArray),
      weights: [(name: String, array: NumPyArray)], functions: [StepActivation],
      loss: LossFunction, learningRate: Double?
    ) throws {
      given = recognized
      inputName = input.name
      targetName = target.name
      self.weights = weights
      self.input = try Self.batchMatrix(input.array, name: input.name)
      self.functions = functions
      self.loss = loss
      self.learningRate = learningRate
      var sizes = [self.input.columns]
      var allowed: [[Layout]] = []
      for layer in 1...functions.count {
        let (name, weight) = weights[layer - 1]
        guard weight.shape.count == 2 else {
          throw BackpropError.invalidArgument(
            name: name, detail: "a weight must be a matrix, its shape is \(weight.shape)")
        }
        let (rows, columns, previous) = (weight.shape[0], weight.shape[1], sizes[layer - 1])
        if rows == previous && columns == previous {
          allowed.append([.inputByOutput, .outputByInput])
          sizes.append(rows)
        } else if rows == previous {
          allowed.append([.inputByOutput])
          sizes.append(columns)
        } else if columns == previous {
          allowed.append([.outputByInput])
          sizes.append(rows)
        } else {
          throw BackpropError.invalidArgument(
            name: name,
            detail: "its shape \(weight.shape) does not take the \(previous) values of the layer "
              + "before (neither in×out nor out×in)")
        }
      }
      self.sizes = sizes
      allowedLayouts = allowed
      // Each layout tried recomputes the step in plain loops: a hand-written step's size.
      let work = zip(sizes, sizes.dropFirst()).reduce(0) { $0 + $1.0 * $1.1 } * self.input.rows
      guard work <= Self.largestStep else {
        throw BackpropError.invalidArgument(
          name: "step",
          detail: "\(self.input.rows) samples through layers \(sizes) take \(work) "
            + "multiply-adds, more than the \(Self.largestStep) the check recomputes; save "
            + "fewer samples")
      }
      self.target = try Self.targets(
        target.array, name: target.name, rows: self.input.rows, width: sizes[sizes.count - 1],
        loss: loss)
      let single = recognized.values.contains {
        ["<f4", "<f2", ">f4", "|f2"].contains($0.array.descriptor)
      }
      tolerance = single ? 1e-4 : 1e-6
      let updates = recognized.filter { [.updatedWeight, .updatedBias].contains($0.key.kind) }
        .map(\.value.name)
      if learningRate == nil, !updates.isEmpty {
        throw BackpropError.invalidArgument(
          name: updates.sorted().joined(separator: ", "),
          detail: "checking updated weights needs --learning-rate")
      }
    }

    /// The most multiply-adds of one forward pass the check takes on (each layout tried runs the
    /// forward and backward passes a few times over).
    static let largestStep = 20_000_000

    static func batchMatrix(_ array: NumPyArray, name: String) throws -> StepMatrix {
      switch array.shape.count {
      case 1: return StepMatrix(rows: array.shape[0], columns: 1, values: array.values)
      case 2:
        return StepMatrix(rows: array.shape[0], columns: array.shape[1], values: array.values)
      default:
        throw BackpropError.invalidArgument(
          name: name, detail: "expected a matrix (samples × values), the shape is \(array.shape)")
      }
    }

    /// The targets as rows of the output's width: class indices become one-hot rows.
    static func targets(
      _ array: NumPyArray, name: String, rows: Int, width: Int, loss: LossFunction
    ) throws -> StepMatrix {
      var matrix = try batchMatrix(array, name: name)
      if matrix.columns == 1, width > 1, loss.isClassification {
        var oneHot = StepMatrix(rows: matrix.rows, columns: width)
        for (row, value) in matrix.values.enumerated() {
          guard value >= 0, value < Double(width), value == value.rounded() else {
            throw BackpropError.invalidArgument(
              name: name, detail: "class index \(value) in row \(row) is not in 0..<\(width)")
          }
          oneHot.values[row * width + Int(value)] = 1
        }
        matrix = oneHot
      }
      guard matrix.rows == rows, matrix.columns == width else {
        throw BackpropError.invalidArgument(
          name: name,
          detail: "expected \(rows) rows of \(width) targets (one per output), the shape is "
            + "\(array.shape)")
      }
      return matrix
    }

    // MARK: Parameters in the canonical layout

    func weight(_ layer: Int) -> StepMatrix {
      let array = weights[layer - 1].array
      let matrix = StepMatrix(rows: array.shape[0], columns: array.shape[1], values: array.values)
      return layouts[layer - 1] == .inputByOutput ? matrix : matrix.transposed
    }

    func bias(_ layer: Int) -> StepMatrix? {
      guard let array = given[Quantity(.bias, layer: layer)]?.array,
        array.values.count == sizes[layer]
      else { return nil }
      return StepMatrix(rows: 1, columns: sizes[layer], values: array.values)
    }

    /// How the user stored a bias.
    func biasForm(_ layer: Int) -> String? {
      guard let array = given[Quantity(.bias, layer: layer)]?.array else { return nil }
      if array.shape.count == 1 { return "vector" }
      return array.shape.first == 1 ? "row" : "column"
    }

    // MARK: The step, from any values

    /// The quantity computed from `lookup`'s values of the quantities it depends on.
    func derive(_ quantity: Quantity, _ lookup: (Quantity) -> StepMatrix) -> StepMatrix {
      let layer = quantity.layer
      let function = functions[layer - 1]
      switch quantity.kind {
      case .preActivation:
        let previous = layer == 1 ? input : lookup(Quantity(.activation, layer: layer - 1))
        let product = previous.times(weight(layer))
        return bias(layer).map { product.addingRow($0) } ?? product
      case .activation:
        return activate(lookup(Quantity(.preActivation, layer: layer)), function)
      case .activationGradient:
        if layer == layerCount { return lossGradient(lookup) }
        return lookup(Quantity(.delta, layer: layer + 1)).times(weight(layer + 1).transposed)
      case .delta:
        if layer == layerCount, loss == .crossEntropy || loss == .binaryCrossEntropy {
          return lossGradient(lookup)
        }
        return multiplyByDerivative(
          lookup(Quantity(.activationGradient, layer: layer)), layer: layer, lookup)
      case .weightGradient:
        let previous = layer == 1 ? input : lookup(Quantity(.activation, layer: layer - 1))
        return previous.transposed.times(lookup(Quantity(.delta, layer: layer)))
      case .biasGradient:
        return lookup(Quantity(.delta, layer: layer)).columnSums
      case .updatedWeight:
        return weight(layer).combined(lookup(Quantity(.weightGradient, layer: layer))) {
          $0 - (learningRate ?? 0) * $1
        }
      case .updatedBias:
        let current = bias(layer) ?? StepMatrix(rows: 1, columns: sizes[layer])
        return current.combined(lookup(Quantity(.biasGradient, layer: layer))) {
          $0 - (learningRate ?? 0) * $1
        }
      case .input: return input
      case .target: return target
      case .weight: return weight(layer)
      case .bias: return bias(layer) ?? StepMatrix(rows: 1, columns: sizes[layer])
      }
    }

    func activate(_ z: StepMatrix, _ function: StepActivation) -> StepMatrix {
      switch function {
      case .elementwise: return z.map { function.elementValue($0) }
      case .softmax:
        var result = z
        for row in 0..<z.rows {
          let line = Array(z.values[(row * z.columns)..<((row + 1) * z.columns)])
          let probabilities = (try? Tensor(line).softmax().scalars) ?? line
          for column in 0..<z.columns {
            result.values[row * z.columns + column] = probabilities[column]
          }
        }
        return result
      }
    }

    /// gradient ⊙ f′ of the layer, f′ read from its output (and input) as the one definition does.
    func multiplyByDerivative(
      _ gradient: StepMatrix, layer: Int, _ lookup: (Quantity) -> StepMatrix
    ) -> StepMatrix {
      let output = lookup(Quantity(.activation, layer: layer))
      let z = lookup(Quantity(.preActivation, layer: layer))
      var result = gradient
      for index in result.values.indices {
        result.values[index] *= functions[layer - 1].derivative(
          output: output.values[index], input: z.values[index])
      }
      return result
    }

    /// The loss's own derivative (the fused δ of its one definition): with respect to the
    /// logits for cross-entropy, to the net input of the sigmoid for binary cross-entropy, and to
    /// the prediction for the squared errors.
    func lossGradient(_ lookup: (Quantity) -> StepMatrix) -> StepMatrix {
      lossTerms(lookup, loss: loss).delta
    }

    func lossTerms(_ lookup: (Quantity) -> StepMatrix, loss: LossFunction) -> (
      delta: StepMatrix, value: Double
    ) {
      let takesNetInput = loss == .crossEntropy || loss == .binaryCrossEntropy
      let values = lookup(Quantity(takesNetInput ? .preActivation : .activation, layer: layerCount))
      let (delta, terms, scale) = Self.rowTerms(
        values, targets: target, loss: loss, batchRows: values.rows)
      return (delta, scale * terms.reduce(0, +))
    }

    /// The loss's row terms and δ of `input` (logits, the net input of binary cross-entropy's
    /// sigmoid, or predictions) against `targets`, with the scale of a batch of `batchRows` rows,
    /// by the loss's one definition.
    static func rowTerms(
      _ input: StepMatrix, targets: StepMatrix, loss: LossFunction, batchRows: Int
    ) -> (delta: StepMatrix, terms: [Double], scale: Double) {
      var values = input
      let (rows, width) = (values.rows, values.columns)
      var delta = StepMatrix(rows: rows, columns: width)
      var terms = [Double](repeating: .nan, count: rows)
      // Every loss of LossFunction is a RowLoss.
      guard let rowLoss = loss.loss as? any RowLoss else { return (delta, terms, .nan) }
      let scale = rowLoss.scale(rows: batchRows, width: width)
      values.values.withUnsafeMutableBufferPointer { input in
        targets.values.withUnsafeBufferPointer { targets in
          delta.values.withUnsafeMutableBufferPointer { delta in
            terms.withUnsafeMutableBufferPointer { terms in
              guard let input = input.baseAddress, let targets = targets.baseAddress,
                let delta = delta.baseAddress, let terms = terms.baseAddress
              else { return }
              rowLoss.rowTerms(
                input: input, targets: targets, delta: delta, losses: terms, rows: rows,
                width: width, scale: scale)
            }
          }
        }
      }
      return (delta, terms, scale)
    }

    /// The reference value of a quantity: the correct step.
    mutating func reference(_ quantity: Quantity) -> StepMatrix {
      if let known = memo[quantity] { return known }
      var dependencies: [Quantity: StepMatrix] = [:]
      // Recursion through a closure cannot mutate self: the dependencies are found first.
      for dependency in Self.dependencies(of: quantity, layerCount: layerCount) {
        dependencies[dependency] = reference(dependency)
      }
      let value = derive(quantity) { dependencies[$0] ?? StepMatrix(rows: 0, columns: 0) }
      memo[quantity] = value
      return value
    }

    /// What a quantity is computed from (all that `derive` may look up).
    static func dependencies(of quantity: Quantity, layerCount: Int) -> [Quantity] {
      let layer = quantity.layer
      switch quantity.kind {
      case .preActivation: return layer == 1 ? [] : [Quantity(.activation, layer: layer - 1)]
      case .activation: return [Quantity(.preActivation, layer: layer)]
      case .activationGradient:
        if layer == layerCount {
          return [Quantity(.activation, layer: layer), Quantity(.preActivation, layer: layer)]
        }
        return [Quantity(.delta, layer: layer + 1)]
      case .delta:
        return [
          Quantity(.activationGradient, layer: layer), Quantity(.activation, layer: layer),
          Quantity(.preActivation, layer: layer),
        ]
      case .weightGradient:
        return (layer == 1 ? [] : [Quantity(.activation, layer: layer - 1)]) + [
          Quantity(.delta, layer: layer)
        ]
      case .biasGradient: return [Quantity(.delta, layer: layer)]
      case .updatedWeight: return [Quantity(.weightGradient, layer: layer)]
      case .updatedBias: return [Quantity(.biasGradient, layer: layer)]
      case .input, .target, .weight, .bias: return []
      }
    }

    /// The shape the user's array of a quantity has when it is right: the layer's layout for
    /// weights, samples × values for the batch's values.
    func expectedShape(_ quantity: Quantity, canonical: StepMatrix) -> [Int] {
      if [.weightGradient, .updatedWeight].contains(quantity.kind),
        layouts[quantity.layer - 1] == .outputByInput
      {
        return [canonical.columns, canonical.rows]
      }
      return [canonical.rows, canonical.columns]
    }

    /// Whether `shape` holds a quantity of `expected` shape: the same, or with a dimension of 1
    /// dropped or added (a bias as a row, a column or a vector; one sample's values as a vector).
    static func fits(_ shape: [Int], _ expected: [Int]) -> Bool {
      shape.filter { $0 != 1 } == expected.filter { $0 != 1 }
        && shape.reduce(1, *) == expected.reduce(1, *)
        && (shape.count <= 2 || shape == expected)
    }

    /// The user's array of a quantity in the canonical layout, when it has the expected shape.
    func userValue(_ quantity: Quantity, expected: StepMatrix) -> StepMatrix? {
      guard let array = given[quantity]?.array,
        Self.fits(array.shape, expectedShape(quantity, canonical: expected))
      else { return nil }
      return canonical(array.values, quantity, expected: expected)
    }

    /// Values in the user's layout of a quantity, as a canonical matrix.
    func canonical(_ values: [Double], _ quantity: Quantity, expected: StepMatrix) -> StepMatrix {
      let shape = expectedShape(quantity, canonical: expected)
      let matrix = StepMatrix(rows: shape[0], columns: shape[1], values: values)
      let swapped =
        [.weightGradient, .updatedWeight].contains(quantity.kind)
        && layouts[quantity.layer - 1] == .outputByInput
      return swapped ? matrix.transposed : matrix
    }
  }
}
