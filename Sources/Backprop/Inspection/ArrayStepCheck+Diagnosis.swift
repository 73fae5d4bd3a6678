import Foundation

extension ArrayStepCheck.Setup {
  typealias Quantity = ArrayStepCheck.Quantity
  typealias Finding = ArrayStepCheck.Finding
  typealias Bug = ArrayStepCheck.Bug
  typealias Layout = ArrayStepCheck.Layout

  /// A value some bug would have given, with what to say about it.
  struct Candidate {
    var bug: Bug
    var value: StepMatrix
    var explanation: String
    var fix: String?
  }

  // MARK: Choosing the layouts

  /// Checks under every layout the shapes allow (a square weight has two) and keeps the one
  /// under which the most arrays agree or follow from the user's earlier ones, then the most
  /// mismatches a known bug explains, then the latest first mismatch, then in×out.
  mutating func checkEveryLayout() -> ([ArrayStepCheck.LayerLayout], [Finding]) {
    var choices: [[Layout]] = [[]]
    for allowed in allowedLayouts {
      // Past three square weights, the rest are taken as numpy's (2⁴ checks is plenty).
      let options = choices.count >= 8 ? [allowed[0]] : allowed
      choices = choices.flatMap { choice in options.map { choice + [$0] } }
    }
    var best: (layouts: [Layout], findings: [Finding], score: (Int, Int, Int))?
    for choice in choices {
      layouts = choice
      memo = [:]
      let findings = check()
      // The layouts that leave the fewest bugs: arrays that agree, or that follow from the
      // user's own earlier arrays, count for the layout.
      let consistent = findings.filter { $0.agrees || $0.followsFromEarlier }.count
      let explained = findings.filter { $0.bug != nil }.count
      let firstBad = findings.firstIndex { !$0.agrees } ?? findings.count
      if let current = best, (consistent, explained, firstBad) <= current.score { continue }
      best = (choice, findings, (consistent, explained, firstBad))
    }
    guard let best else { return ([], []) }
    layouts = best.layouts
    memo = [:]
    let described = layouts.enumerated().map { index, layout in
      let layer = index + 1
      let name = weights[index].name
      let square = allowedLayouts[index].count == 2
      let reason =
        square
        ? "\(name) is square: both layouts tried, the numbers fit \(layout.rawValue)"
        : "from the shape of \(name), \(sizes[layer - 1]) inputs and \(sizes[layer]) outputs"
      return ArrayStepCheck.LayerLayout(
        layer: layer, weight: layout, bias: biasForm(layer), reason: reason)
    }
    return (described, best.findings)
  }

  // MARK: Comparing

  /// The verdict on every given computed array, in the order of computation.
  mutating func check() -> [Finding] {
    let computed = given.keys.filter { ![.input, .target, .weight, .bias].contains($0.kind) }
      .sorted { $0.position(layerCount: layerCount) < $1.position(layerCount: layerCount) }
    return computed.compactMap { quantity in
      given[quantity].map { finding(for: quantity, name: $0.name, array: $0.array) }
    }
  }

  /// The largest difference an entry may have from `expected`: the tolerance relative to the
  /// array's largest magnitude.
  func allowedError(_ expected: StepMatrix) -> Double {
    tolerance * max(expected.values.reduce(0) { max($0, abs($1)) }, 1e-12)
  }

  func close(_ given: StepMatrix, _ expected: StepMatrix) -> Bool {
    let allowed = allowedError(expected)
    return zip(given.values, expected.values).allSatisfy { abs($0 - $1) <= allowed }
  }

  mutating func finding(for quantity: Quantity, name: String, array: NumPyArray) -> Finding {
    let expected = reference(quantity)
    guard let value = userValue(quantity, expected: expected) else {
      return shapeFinding(quantity, name: name, array: array, expected: expected)
    }
    var finding = worst(quantity, name: name, shape: array.shape, value: value, expected: expected)
    if close(value, expected) {
      finding.agrees = true
      finding.explanation = "agrees"
      return finding
    }
    let upstream = fromUsersValues(quantity)
    if close(value, upstream), !close(upstream, expected) {
      finding.followsFromEarlier = true
      finding.explanation =
        "follows from the earlier mismatch: it is what the given \(upstreamNames(quantity)) give"
      return finding
    }
    for candidate in candidates(for: quantity, expected: expected)
    where close(value, candidate.value) {
      return finding.blaming(candidate)
    }
    if let scaled = scaleCandidate(quantity, value: value, expected: expected) {
      return finding.blaming(scaled)
    }
    // A square weight's gradient in the other layout: its shape cannot tell.
    if [.weightGradient, .updatedWeight].contains(quantity.kind), value.rows == value.columns,
      let transposed = transposedCandidate(
        quantity, name: name, readBack: value.transposed, expected: expected,
        layout: "it is the transpose of \(quantity.conventionalName)'s layout")
    {
      return finding.blaming(transposed)
    }
    // Some entries wrong and the rest right, against the correct values or, after an earlier
    // mismatch, against what the user's own earlier arrays give.
    for (basis, against) in [(expected, ""), (upstream, " given the earlier arrays")] {
      let allowed = allowedError(basis)
      let wrong = zip(value.values, basis.values).enumerated()
        .filter { !(abs($0.element.0 - $0.element.1) <= allowed) }.map(\.offset)
      guard !wrong.isEmpty, wrong.count < value.values.count else { continue }
      let entries = wrong.prefix(4).map {
        "["
          + index(of: $0, in: quantity, shape: array.shape).map(String.init)
          .joined(separator: ", ") + "]"
      }
      finding.bug = .wrongIndex
      finding.explanation =
        "\(wrong.count) of its \(value.values.count) entries disagree\(against) "
        + "(\(entries.joined(separator: " "))\(wrong.count > 4 ? " …" : "")) while the rest agree: "
        + "a value taken from the wrong neuron, weight or layer"
      let sources = wrong.compactMap { wrongSource(quantity, offset: $0, value: value.values[$0]) }
      if !sources.isEmpty { finding.explanation += ": " + sources.joined(separator: "; ") }
      finding.fix =
        "check the indices in the lines that compute \(name)\(entries.count == 1 ? entries[0] : "")"
      return finding
    }
    finding.explanation = "no known bug gives these values"
    return finding
  }

  /// Which other value an index typo put into entry `offset` (canonical) of a quantity: another
  /// value added where a net input's bias belongs, or a weight gradient with another neuron's
  /// derivative or another input; nil when none fits.
  mutating func wrongSource(_ quantity: Quantity, offset: Int, value: Double) -> String? {
    let layer = quantity.layer
    let allowed = tolerance * max(abs(value), 1e-12)
    switch quantity.kind {
    case .preActivation:
      guard let bias = bias(layer) else { return nil }
      // The net input from the user's own earlier values, less its bias.
      let correct = fromUsersValues(quantity)
      let (row, column) = (offset / correct.columns, offset % correct.columns)
      let residual = value - (correct.values[offset] - bias.values[column])
      let previous = layer == 1 ? input : inputValue(Quantity(.activation, layer: layer - 1))
      let biasName = "\(names(Quantity(.bias, layer: layer)))[\(column)]"
      for k in 0..<previous.columns where abs(previous[row, k] - residual) <= allowed {
        return "[\(row), \(column)] adds \(previousActivationName(layer))[\(row), \(k)] where "
          + "\(biasName) belongs"
      }
      for k in bias.values.indices where k != column && abs(bias.values[k] - residual) <= allowed {
        return "[\(row), \(column)] adds \(names(Quantity(.bias, layer: layer)))[\(k)] where "
          + "\(biasName) belongs"
      }
    case .weightGradient:
      let function = functions[layer - 1]
      let previous = layer == 1 ? input : inputValue(Quantity(.activation, layer: layer - 1))
      let output = inputValue(Quantity(.activation, layer: layer))
      let z = inputValue(Quantity(.preActivation, layer: layer))
      let delta = inputValue(Quantity(.delta, layer: layer))
      let columns = output.columns
      let (source, target) = (offset / columns, offset % columns)
      let outputName = names(Quantity(.activation, layer: layer))
      if layer < layerCount || loss == .meanSquaredError || loss == .halfSumOfSquares {
        let incoming = inputValue(Quantity(.activationGradient, layer: layer))
        for k in 0..<columns where k != target {
          var sum = 0.0
          for row in 0..<previous.rows {
            sum +=
              previous[row, source] * incoming[row, target]
              * function.derivative(output: output[row, k], input: z[row, k])
          }
          if abs(sum - value) <= allowed {
            return "the gradient of the weight from \(previousActivationName(layer))[:, \(source)] "
              + "to neuron \(target) uses the derivative of \(outputName)[:, \(k)], neuron \(k)'s"
          }
        }
      }
      for k in 0..<previous.columns where k != source {
        var sum = 0.0
        for row in 0..<previous.rows { sum += previous[row, k] * delta[row, target] }
        if abs(sum - value) <= allowed {
          return "the gradient of the weight from input \(source) to neuron \(target) uses "
            + "\(previousActivationName(layer))[:, \(k)]"
        }
      }
    default: break
    }
    return nil
  }

  /// The index, in the user's own shape, of entry `offset` of the canonical matrix.
  func index(of offset: Int, in quantity: Quantity, shape: [Int]) -> [Int] {
    let expected = memo[quantity]
    if let expected, [.weightGradient, .updatedWeight].contains(quantity.kind),
      layouts[quantity.layer - 1] == .outputByInput
    {
      return [offset % expected.columns, offset / expected.columns]
    }
    var remaining = offset
    var index: [Int] = []
    for size in shape.reversed() {
      index.insert(remaining % max(size, 1), at: 0)
      remaining /= max(size, 1)
    }
    return index
  }

  func worst(
    _ quantity: Quantity, name: String, shape: [Int], value: StepMatrix, expected: StepMatrix
  ) -> Finding {
    var worstOffset = 0
    var worstGap = -1.0
    for (offset, pair) in zip(value.values, expected.values).enumerated()
    where abs(pair.0 - pair.1) > worstGap || pair.0.isNaN {
      worstGap = pair.0.isNaN ? .infinity : abs(pair.0 - pair.1)
      worstOffset = offset
      if pair.0.isNaN { break }
    }
    let (given, wanted) = (value.values[worstOffset], expected.values[worstOffset])
    return Finding(
      name: name, quantity: quantity, agrees: false, followsFromEarlier: false,
      worstIndex: index(of: worstOffset, in: quantity, shape: shape),
      given: given, expected: wanted, ratio: wanted == 0 ? nil : given / wanted, bug: nil,
      explanation: "", fix: nil)
  }

  /// An array whose size is not the expected one: a transposed or an unsummed one, or neither.
  func shapeFinding(_ quantity: Quantity, name: String, array: NumPyArray, expected: StepMatrix)
    -> Finding
  {
    var finding = Finding(
      name: name, quantity: quantity, agrees: false, followsFromEarlier: false, worstIndex: [],
      given: nil,
      expected: nil, ratio: nil, bug: nil, explanation: "", fix: nil)
    let shape = array.shape
    if quantity.kind == .biasGradient, shape.count == 2, shape[0] == sampleCount,
      shape[1] == sizes[quantity.layer]
    {
      let delta = names(Quantity(.delta, layer: quantity.layer))
      return finding.blaming(
        Candidate(
          bug: .biasGradientNotSummed, value: expected,
          explanation:
            "its shape \(shape) has a row per sample: the bias gradient must be summed over the "
            + "batch",
          fix: "\(name) = \(delta).sum(axis=0)"))
    }
    let wanted = expectedShape(quantity, canonical: expected)
    if shape.count == 2, shape == Array(wanted.reversed()) {
      // The other layout: read as such, it is the transpose of what was written.
      let written = StepMatrix(rows: shape[0], columns: shape[1], values: array.values)
      if let transposed = transposedCandidate(
        quantity, name: name,
        readBack: wanted[0] == expected.rows ? written.transposed : written, expected: expected,
        layout: "its shape \(shape) is the transpose of \(wanted)")
      {
        return finding.blaming(transposed)
      }
    }
    finding.explanation = "its shape is \(shape), where \(wanted) is expected"
    return finding
  }

  /// The `transposed` bug, when an array read back in the other layout (`readBack`, canonical)
  /// is the correct value, or the correct value times a constant of another bug; `layout` says
  /// how the layout shows.
  func transposedCandidate(
    _ quantity: Quantity, name: String, readBack: StepMatrix, expected: StepMatrix,
    layout: String
  ) -> Candidate? {
    let fix =
      quantity.kind == .weightGradient ? weightGradientCode(quantity.layer, name: name) : nil
    if close(readBack, expected) {
      return Candidate(
        bug: .transposed, value: readBack, explanation: "\(layout), and so are its values",
        fix: fix)
    }
    guard let scaled = scaleCandidate(quantity, value: readBack, expected: expected) else {
      return nil
    }
    return Candidate(
      bug: .transposed, value: readBack,
      explanation: "\(layout); transposed back, \(scaled.explanation) (\(scaled.bug.rawValue))",
      fix: [fix, scaled.fix].compactMap { $0 }.joined(separator: "; "))
  }

  /// The quantity recomputed from the user's own arrays wherever they were given (and what is
  /// not given, recomputed from those in turn).
  func fromUsersValues(_ quantity: Quantity) -> StepMatrix {
    var known: [Quantity: StepMatrix] = [:]
    func users(_ dependency: Quantity) -> StepMatrix {
      if let value = known[dependency] { return value }
      let expected = memo[dependency] ?? StepMatrix(rows: 0, columns: 0)
      let value = userValue(dependency, expected: expected) ?? derive(dependency, users)
      known[dependency] = value
      return value
    }
    return derive(quantity, users)
  }

  func upstreamNames(_ quantity: Quantity) -> String {
    let names = Self.dependencies(of: quantity, layerCount: layerCount).compactMap {
      given[$0]?.name
    }
    return names.isEmpty ? "arrays" : names.joined(separator: " and ")
  }

  /// The name the user saved a quantity under, else its conventional name.
  func names(_ quantity: Quantity) -> String {
    if quantity.kind == .target { return targetName }
    if quantity.kind == .input || quantity.layer == 0 { return inputName }
    return given[quantity]?.name ?? quantity.conventionalName
  }

  /// `a` of the layer before (X for the first).
  func previousActivationName(_ layer: Int) -> String {
    layer == 1 ? names(Quantity(.input, layer: 0)) : names(Quantity(.activation, layer: layer - 1))
  }

  // MARK: The bugs

  /// The values the bugs that change more than a scale would have given.
  mutating func candidates(for quantity: Quantity, expected: StepMatrix) -> [Candidate] {
    let layer = quantity.layer
    let name = names(quantity)
    var found: [Candidate] = []
    switch quantity.kind {
    case .preActivation:
      let previous = layer == 1 ? input : reference(Quantity(.activation, layer: layer - 1))
      if bias(layer) != nil {
        found.append(
          Candidate(
            bug: .missingBias, value: previous.times(weight(layer)),
            explanation: "it is \(previousActivationName(layer)) @ W without the bias",
            fix:
              "\(name) = \(previousActivationName(layer)) @ \(names(Quantity(.weight, layer: layer))) + \(names(Quantity(.bias, layer: layer)))"
          ))
      }
    case .delta:
      let function = functions[layer - 1]
      let output = inputValue(Quantity(.activation, layer: layer))
      let z = inputValue(Quantity(.preActivation, layer: layer))
      let outputName = names(Quantity(.activation, layer: layer))
      let derivative = function.derivativeCode(output: outputName)
      if layer == layerCount, loss == .crossEntropy || loss == .binaryCrossEntropy {
        found.append(
          Candidate(
            bug: .softmaxDerivativeTwice,
            value: expected.combined(output) { $0 * function.derivative(output: $1, input: 0) },
            explanation:
              "it is the correct δ times \(derivative): the loss's δ = p − t already holds the "
              + "output activation's derivative",
            fix: outputDeltaCode(name: name)))
        break
      }
      let incoming = inputValue(Quantity(.activationGradient, layer: layer))
      let incomingName = names(Quantity(.activationGradient, layer: layer))
      let fix = "\(name) = \(incomingName) * \(derivative)"
      found.append(
        Candidate(
          bug: .missingActivationDerivative, value: incoming,
          explanation: "it is ∂L/∂a (\(incomingName)) without the activation's derivative",
          fix: fix))
      found.append(
        Candidate(
          bug: .derivativeOfWrongVariable,
          value: incoming.map { function.derivative(output: function.elementValue($0), input: $0) },
          explanation:
            "it is the activation's derivative taken of \(incomingName) (f′(\(incomingName))), "
            + "not of the layer's output, and not multiplied by \(incomingName)",
          fix: fix))
      found.append(
        Candidate(
          bug: .derivativeOfWrongVariable,
          value: incoming.combined(z) { $0 * function.derivative(output: $1, input: $1) },
          explanation:
            "the derivative formula \(derivative) was given the pre-activation "
            + "\(names(Quantity(.preActivation, layer: layer))), where it expects the output",
          fix: fix))
      found.append(
        Candidate(
          bug: .derivativeOfWrongVariable,
          value: incoming.combined(output) {
            $0 * function.derivative(output: function.elementValue($1), input: $1)
          },
          explanation: "the derivative was taken of f(\(outputName)): the activation applied twice",
          fix: fix))
      if layer < layerCount, let updated = updatedWeight(layer + 1) {
        let early = reference(Quantity(.delta, layer: layer + 1)).times(updated.transposed)
        found.append(
          Candidate(
            bug: .updatedBeforeUse,
            value: multiplyByDerivative(early, layer: layer) {
              $0.kind == .activation ? output : z
            },
            explanation:
              "it was computed with \(names(Quantity(.weight, layer: layer + 1))) already updated",
            fix: "compute every gradient before updating any weight"))
      }
    case .activationGradient where layer < layerCount:
      if let updated = updatedWeight(layer + 1) {
        found.append(
          Candidate(
            bug: .updatedBeforeUse,
            value: reference(Quantity(.delta, layer: layer + 1)).times(updated.transposed),
            explanation:
              "it was computed with \(names(Quantity(.weight, layer: layer + 1))) already updated",
            fix: "compute every gradient before updating any weight"))
      }
    case .biasGradient:
      let delta = inputValue(Quantity(.delta, layer: layer))
      let deltaName = names(Quantity(.delta, layer: layer))
      let summed = "\(name) = \(deltaName).sum(axis=0)"
      found.append(
        Candidate(
          bug: .biasGradientNotSummed,
          value: StepMatrix(
            rows: 1, columns: delta.columns, values: Array(delta.values.prefix(delta.columns))),
          explanation:
            "it is the first sample's δ: the bias gradient must be summed over the batch",
          fix: summed))
      found.append(
        Candidate(
          bug: .biasGradientNotSummed, value: delta.columnSums.scaled(by: 1 / Double(sampleCount)),
          explanation: "it is averaged over the batch, where the weight gradients are summed",
          fix: summed))
    case .updatedWeight, .updatedBias:
      let gradient = reference(
        Quantity(quantity.kind == .updatedWeight ? .weightGradient : .biasGradient, layer: layer))
      let before =
        quantity.kind == .updatedWeight
        ? weight(layer) : (bias(layer) ?? StepMatrix(rows: 1, columns: sizes[layer]))
      let parameter = names(
        Quantity(quantity.kind == .updatedWeight ? .weight : .bias, layer: layer))
      let gradientName = names(
        Quantity(quantity.kind == .updatedWeight ? .weightGradient : .biasGradient, layer: layer))
      found.append(
        Candidate(
          bug: .wrongSign, value: before.combined(gradient) { $0 + (learningRate ?? 0) * $1 },
          explanation: "the update adds η·∇: it goes uphill",
          fix: "\(name) = \(parameter) - lr * \(gradientName)"))
    default: break
    }
    return found
  }

  /// The user's value of a quantity where given in the right shape, else the correct one: what
  /// the user's next line computed from.
  mutating func inputValue(_ quantity: Quantity) -> StepMatrix {
    let correct = reference(quantity)
    return userValue(quantity, expected: correct) ?? correct
  }

  /// W after the step, from the user's array if given, else W − η·∇W.
  mutating func updatedWeight(_ layer: Int) -> StepMatrix? {
    let quantity = Quantity(.updatedWeight, layer: layer)
    let correct = reference(quantity)
    if let given = userValue(quantity, expected: correct) { return given }
    return learningRate == nil ? nil : correct
  }

  /// The output layer's δ written in the user's names, for the loss checked.
  func outputDeltaCode(name: String) -> String {
    let output = names(Quantity(.activation, layer: layerCount))
    let target = names(Quantity(.target, layer: 0))
    let derivative = functions[layerCount - 1].derivativeCode(output: output)
    let error = "(\(output) - \(target))"
    switch loss {
    case .crossEntropy: return "\(name) = \(error) / len(\(target))"
    case .binaryCrossEntropy: return "\(name) = \(error) / \(target).size"
    case .halfSumOfSquares: return "\(name) = \(error) * \(derivative)"
    case .meanSquaredError: return "\(name) = 2 * \(error) / \(target).size * \(derivative)"
    }
  }

  func weightGradientCode(_ layer: Int, name: String) -> String {
    let previous = previousActivationName(layer)
    let delta = names(Quantity(.delta, layer: layer))
    return layouts[layer - 1] == .inputByOutput
      ? "\(name) = \(previous).T @ \(delta)" : "\(name) = \(delta).T @ \(previous)"
  }

  /// A value that is the correct one times a constant: a sign, a factor 2, or the batch's N.
  func scaleCandidate(_ quantity: Quantity, value: StepMatrix, expected: StepMatrix) -> Candidate? {
    let dot = zip(value.values, expected.values).reduce(0) { $0 + $1.0 * $1.1 }
    let norm = expected.values.reduce(0) { $0 + $1 * $1 }
    guard norm > 0, case let scale = dot / norm, scale.isFinite, scale != 0,
      close(value, expected.scaled(by: scale))
    else { return nil }
    // The number of terms the loss averages over: samples for cross-entropy, elements for MSE
    // and binary cross-entropy, none for ½Σ.
    let averaged: Double =
      switch loss {
      case .crossEntropy: Double(sampleCount)
      case .binaryCrossEntropy, .meanSquaredError: Double(target.values.count)
      case .halfSumOfSquares: 1
      }
    let n = Double(sampleCount)
    func near(_ a: Double, _ b: Double) -> Bool { abs(a - b) <= 1e-3 * abs(b) }
    let name = names(quantity)
    let magnitude = abs(scale)
    let sign = scale < 0 ? "the opposite sign" : ""
    let isGradient = [.activationGradient, .delta, .weightGradient, .biasGradient].contains(
      quantity.kind)
    var candidate: Candidate?
    let ratio = String(format: "%.6g", scale)
    if near(magnitude, 1) {
      candidate = Candidate(
        bug: .wrongSign, value: expected.scaled(by: scale),
        explanation: "it has the opposite sign"
          + (quantity.kind == .delta && quantity.layer == layerCount
            ? " (the error written target − prediction)" : "")
          + (isGradient ? ", so the update w − η·∇ goes uphill" : ""),
        fix: quantity.kind == .delta && quantity.layer == layerCount
          ? outputDeltaCode(name: name) : nil)
    } else if isGradient, averaged > 1, near(magnitude, averaged) || near(magnitude, averaged / 2) {
      let half = near(magnitude, averaged / 2)
      candidate = Candidate(
        bug: .sumInsteadOfMean, value: expected.scaled(by: scale),
        explanation: "it is \(ratio)× the correct value: summed over the \(Int(averaged)) terms "
          + "the loss averages"
          + (half ? ", and without the 2 of the square's derivative (the gradient of ½Σ)" : ""),
        fix: "divide the output's δ by \(Int(averaged)) (the mean's N) once")
    } else if isGradient,
      near(magnitude, 1 / n) || near(magnitude, 2 / n)
        || (averaged > 1 && near(magnitude, 1 / averaged))
    {
      candidate = Candidate(
        bug: quantity.kind == .biasGradient ? .biasGradientNotSummed : .meanInsteadOfSum,
        value: expected.scaled(by: scale),
        explanation:
          "it is \(ratio)× the correct value: averaged over the batch where the loss sums",
        fix: quantity.kind == .biasGradient
          ? "\(name) = \(names(Quantity(.delta, layer: quantity.layer))).sum(axis=0)"
          : "do not divide by N: the loss is a sum")
    } else if near(magnitude, 2) || near(magnitude, 0.5) {
      candidate = Candidate(
        bug: .factorTwo, value: expected.scaled(by: scale),
        explanation: "it is \(ratio)× the correct value: a factor 2 "
          + (loss == .halfSumOfSquares
            ? "(the ½ of ½Σ cancels the square's 2)" : "(d/da (a − y)² = 2(a − y))"),
        fix: nil)
    }
    if var found = candidate, scale < 0, found.bug != .wrongSign {
      found.explanation += ", and with \(sign)"
      candidate = found
    }
    return candidate
  }

  // MARK: Beyond one loss

  /// Warnings: no bias at all, and the all-zero rows whose output that fixes.
  mutating func warnings() -> [ArrayStepCheck.Warning] {
    guard (1...layerCount).allSatisfy({ given[Quantity(.bias, layer: $0)] == nil }) else {
      return []
    }
    var message = "no layer has a bias (no b1…b\(layerCount) given): the forward pass is z = a @ W"
    let zeroRows = (0..<sampleCount).filter { row in
      (0..<input.columns).allSatisfy { input[row, $0] == 0 }
    }
    // Without biases a zero row stays zero through hidden layers with f(0) = 0 (tanh, ReLU), so
    // the output is f(0) whatever the weights.
    let hiddenKeepZero = functions.dropLast().allSatisfy { $0.elementValue(0) == 0 }
    if let row = zeroRows.first, hiddenKeepZero {
      let width = sizes[layerCount]
      let netInputs = StepMatrix(rows: zeroRows.count, columns: width)
      let fixed = activate(netInputs, functions[layerCount - 1])
      let targets = StepMatrix(
        rows: zeroRows.count, columns: width,
        values: zeroRows.flatMap { zero in (0..<width).map { target[zero, $0] } })
      // The loss of those rows alone, scaled as in the whole batch: what no weights can remove.
      let takesNetInput = loss == .crossEntropy || loss == .binaryCrossEntropy
      let (_, terms, scale) = Self.rowTerms(
        takesNetInput ? netInputs : fixed, targets: targets, loss: loss, batchRows: sampleCount)
      let format = { (values: ArraySlice<Double>) in
        values.map { String(format: "%g", $0) }.joined(separator: ", ")
      }
      message +=
        ". The all-zero input (row \(row) of \(names(Quantity(.input, layer: 0)))) gives z = 0 in "
        + "every layer, so the output is [\(format(fixed.values.prefix(width)))] whatever the "
        + "weights, while its target is [\(format(targets.values.prefix(width)))]"
        + String(format: ": the loss cannot fall below %.6g", scale * terms.reduce(0, +))
    }
    return [ArrayStepCheck.Warning(bug: .missingBias, message: message)]
  }

  /// Another loss whose gradients the given ones are, when the checked loss's are not.
  func fittingLoss(findings: [Finding], layouts described: [ArrayStepCheck.LayerLayout])
    -> LossFunction?
  {
    let gradientKinds: [ArrayStepCheck.Kind] = [
      .activationGradient, .delta, .weightGradient, .biasGradient,
    ]
    let gradients = findings.filter { gradientKinds.contains($0.quantity.kind) }
    guard gradients.contains(where: { !$0.agrees }) else { return nil }
    let last = functions[layerCount - 1]
    for other in LossFunction.allCases where other != loss {
      switch other {
      case .crossEntropy where last != .softmax: continue
      case .binaryCrossEntropy where last != .elementwise(.sigmoid): continue
      case .meanSquaredError where last == .softmax, .halfSumOfSquares where last == .softmax:
        continue
      default: break
      }
      var alternative = self
      alternative.layouts = described.map(\.weight)
      alternative.memo = [:]
      alternative.loss = other
      let agree = gradients.allSatisfy { finding in
        let expected = alternative.reference(finding.quantity)
        guard let value = alternative.userValue(finding.quantity, expected: expected) else {
          return false
        }
        return alternative.close(value, expected)
      }
      if agree { return other }
    }
    return nil
  }
}

extension ArrayStepCheck.Finding {
  /// The finding with a candidate's bug, explanation and fix.
  func blaming(_ candidate: ArrayStepCheck.Setup.Candidate) -> Self {
    var finding = self
    finding.bug = candidate.bug
    finding.explanation = candidate.explanation
    finding.fix = candidate.fix
    return finding
  }
}
