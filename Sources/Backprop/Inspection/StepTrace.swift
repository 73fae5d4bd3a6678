import Foundation

/// Every named quantity of one step of gradient descent, in the notation of Mazur's worked
/// example: per neuron its net input and output, the loss per output and in total, and per
/// weight ∂E/∂out, ∂out/∂net, their product δ, ∂net/∂w, ∂E/∂w and the updated weight.
///
/// The values are computed neuron by neuron from the chain rule as a person would by hand, not
/// by the automatic differentiation of ``Variable``; tests check that the two agree. Neurons are
/// named `i1…` (inputs), `h1…` (one hidden layer; `h2_3` is neuron 3 of hidden layer 2 when
/// there are several) and `o1…` (outputs); weights are numbered `w1, w2, …` layer by layer, for
/// each neuron its incoming weights in input order (so Mazur's w1…w8 come out as his), and the
/// bias of neuron `h1` is `b_h1`.
///
/// Each quantity has an ASCII ``Quantity/key`` (`net_h1`, `dE_dout_o1`, `delta_o1`, `dnet_dw5`,
/// `dE_dw5`, `w5_new`) and a ``Quantity/symbol`` in the post's notation (`∂E_total/∂w5`), and one
/// value per sample of the batch (per-weight quantities have one value, summed over the batch).
public struct StepTrace: Sendable, Equatable, Codable {
  /// What a quantity is.
  public enum Kind: String, Sendable, Codable, CaseIterable {
    /// A weight before the step.
    case weight
    /// A bias before the step.
    case bias
    /// An input value.
    case input
    /// A target value.
    case target
    /// A neuron's net input: the weighted sum plus bias.
    case netInput
    /// A neuron's output: the activation of its net input.
    case output
    /// One output's share of the loss.
    case lossTerm
    /// The total loss.
    case totalLoss
    /// ∂E_total/∂out of a neuron.
    case lossByOutput
    /// ∂out/∂net of a neuron: the activation's derivative.
    case outputByNet
    /// δ = ∂E_total/∂net of a neuron.
    case delta
    /// ∂net/∂w of a weight: the output of the neuron it comes from.
    case netByWeight
    /// ∂E_total/∂w of a weight.
    case lossByWeight
    /// ∂E_total/∂b of a bias.
    case lossByBias
    /// A weight after the step.
    case updatedWeight
    /// A bias after the step.
    case updatedBias
  }

  /// One named quantity.
  public struct Quantity: Sendable, Equatable, Codable {
    /// The ASCII name, as code would print it: `net_h1`, `dE_dw5`, `w5_new`.
    public var key: String
    /// The name in the worked example's notation: `net_h1`, `∂E_total/∂w5`, `w5⁺`.
    public var symbol: String
    /// What the quantity is.
    public var kind: Kind
    /// The layer: 0 for inputs, 1 for the first `Linear`, and so on.
    public var layer: Int
    /// The neuron it belongs to (for a weight, the neuron it leads into).
    public var neuron: String
    /// How it is computed from the quantities before it.
    public var formula: String
    /// One value per sample, or one value for weights, biases and the total loss.
    public var values: [Double]
    /// The weight it is about (`w5`), for a weight, ∂net/∂w, ∂E/∂w and an updated weight.
    public var weight: String? = nil
    /// The neuron or input that weight comes from.
    public var source: String? = nil
  }

  /// The quantities in the order they are computed.
  public var quantities: [Quantity]
  /// The number of samples in the batch.
  public var sampleCount: Int
  /// The learning rate of the update.
  public var learningRate: Double
  /// The loss.
  public var loss: LossFunction
  /// The neurons of each layer, inputs first.
  public var layers: [[String]]
  /// The activation after each `Linear` layer (`σ`, `tanh`, `ReLU`, `LeakyReLU`, `softmax`, or
  /// empty for none), the first layer's at index 0.
  public var activations: [String]

  /// The same activations, typed, for the checker: read from their names by
  /// ``Activation/init(symbol:)``.
  var stageActivations: [Activation?] { activations.map(Activation.init(symbol:)) }

  /// How a neuron's output is written: i1 for an input, out_h1 for any other neuron.
  static func outName(_ neuron: String) -> String {
    neuron.hasPrefix("i") ? neuron : "out_\(neuron)"
  }

  /// The quantity of `kind` of a neuron or a weight, by type rather than by name.
  func quantity(_ kind: Kind, neuron: String? = nil, weight: String? = nil) -> Quantity? {
    quantities.first {
      $0.kind == kind && (neuron == nil || $0.neuron == neuron)
        && (weight == nil || $0.weight == weight)
    }
  }

  /// The names of the neurons of layers of `layerSizes` (inputs first): `i1…`, then `h1…` for a
  /// single hidden layer or `h1_1…`, `h2_1…` for several, then `o1…`. Network diagrams use the
  /// same names, so a neuron picked in a picture can be found in a trace.
  public static func neuronNames(layerSizes: [Int]) -> [[String]] {
    layerSizes.enumerated().map { index, size in
      let prefix =
        index == 0
        ? "i" : index == layerSizes.count - 1 ? "o" : layerSizes.count == 3 ? "h" : "h\(index)_"
      return (0..<max(size, 0)).map { "\(prefix)\($0 + 1)" }
    }
  }

  /// The quantity called `name` (its key or its symbol).
  public subscript(name: String) -> Quantity? {
    quantities.first { $0.key == name || $0.symbol == name }
  }
}

extension StepTrace {
  /// The trace of one step of plain gradient descent (w⁺ = w − η ∂E_total/∂w) of `network` on a
  /// batch, with `loss` (half the sum of squares as in the worked example, MSE, binary or softmax
  /// cross-entropy; for the latter the network ends in logits and out_o is their softmax).
  ///
  /// Frozen parameters keep their value in the update. The network is not changed.
  ///
  /// - Throws: ``BackpropError/invalidArgument(name:detail:)`` for a layer other than `Linear`,
  ///   an element-wise activation or identity, or for shapes that do not fit.
  public init<Scalar: TensorScalar>(
    network: Sequential<Scalar>, input: Tensor<Scalar>, target: Tensor<Scalar>, loss: LossFunction,
    learningRate: Double
  ) throws {
    let stages = try Self.stages(of: network, loss: loss)
    guard input.rank == 2, target.rank == 2, input.shape[0] == target.shape[0],
      input.shape[1] == stages[0].linear.inputSize,
      target.shape[1] == stages.last?.linear.outputSize
    else {
      throw BackpropError.shapeMismatch(
        operation: "StepTrace", shapes: [input.shape, target.shape],
        detail: "the input and target must be [batch, \(stages[0].linear.inputSize ?? 0)] and "
          + "[batch, \(stages.last?.linear.outputSize ?? 0)]")
    }
    var builder = TraceBuilder(
      stages: stages, input: input.scalars.map(Double.init),
      target: target.scalars.map(Double.init),
      sampleCount: input.shape[0], loss: loss, learningRate: learningRate)
    builder.build()
    self.init(
      quantities: builder.quantities, sampleCount: input.shape[0], learningRate: learningRate,
      loss: loss, layers: builder.names, activations: stages.map(\.activation.name))
  }

  /// A `Linear` layer and the activation after it.
  struct Stage {
    var linear: Linear<Double>
    var weightFrozen: Bool
    var biasFrozen: Bool
    var activation: Activation
  }

  /// A stage's activation: an element-wise one, by its one definition, or the softmax inside
  /// the cross-entropy loss.
  enum Activation: Equatable {
    case elementwise(ElementwiseActivation)
    /// The softmax inside the cross-entropy loss.
    case softmax

    /// The symbol in formulas (`σ`, `tanh`, `softmax`; empty for the identity).
    var name: String {
      switch self {
      case .elementwise(let activation): activation.symbol
      case .softmax: "softmax"
      }
    }

    /// The activation a symbol names (nil for a leaky ReLU, whose slope the symbol lacks).
    init?(symbol: String) {
      let known: [Activation] = [
        .softmax, .elementwise(.identity), .elementwise(.sigmoid), .elementwise(.tanh),
        .elementwise(.relu),
      ]
      guard let match = known.first(where: { $0.name == symbol }) else { return nil }
      self = match
    }
  }

  static func stages<Scalar: TensorScalar>(of network: Sequential<Scalar>, loss: LossFunction)
    throws -> [Stage]
  {
    var stages = try network.denseStages(for: "the trace", skippingDropout: true).compactMap {
      dense -> Stage? in
      guard let copy = dense.linear.converted(to: Double.self) as? Linear<Double> else {
        return nil
      }
      return Stage(
        linear: copy, weightFrozen: !dense.linear.weight.requiresGradient,
        biasFrozen: !(dense.linear.bias?.requiresGradient ?? false),
        activation: .elementwise(dense.activation))
    }
    if loss == .crossEntropy {
      guard stages[stages.count - 1].activation == .elementwise(.identity) else {
        throw BackpropError.invalidArgument(
          name: "cross-entropy trace", detail: "the network must end in logits (a Linear layer)")
      }
      stages[stages.count - 1].activation = .softmax
    }
    return stages
  }
}

/// Computes the quantities of a ``StepTrace`` neuron by neuron.
private struct TraceBuilder {
  let stages: [StepTrace.Stage]
  let input: [Double]
  let target: [Double]
  let sampleCount: Int
  let loss: LossFunction
  let learningRate: Double
  var quantities: [StepTrace.Quantity] = []
  var names: [[String]] = []
  /// weightNames[l][i][j]: the weight from neuron i of layer l to neuron j of layer l + 1.
  var weightNames: [[[String]]] = []

  init(
    stages: [StepTrace.Stage], input: [Double], target: [Double], sampleCount: Int,
    loss: LossFunction, learningRate: Double
  ) {
    self.stages = stages
    self.input = input
    self.target = target
    self.sampleCount = sampleCount
    self.loss = loss
    self.learningRate = learningRate
    names = StepTrace.neuronNames(
      layerSizes: [stages[0].linear.inputSize ?? 0] + stages.map { $0.linear.outputSize ?? 0 })
    var counter = 0
    for (index, stage) in stages.enumerated() {
      let sources = names[index].count
      let destinations = stage.linear.outputSize ?? 0
      var layer = Array(repeating: Array(repeating: "", count: destinations), count: sources)
      for j in 0..<destinations {
        for i in 0..<sources {
          counter += 1
          layer[i][j] = "w\(counter)"
        }
      }
      weightNames.append(layer)
    }
  }

  mutating func add(
    _ key: String, _ symbol: String, _ kind: StepTrace.Kind, layer: Int, neuron: String,
    _ formula: String, _ values: [Double], weight: String? = nil, source: String? = nil
  ) {
    quantities.append(
      StepTrace.Quantity(
        key: key, symbol: symbol, kind: kind, layer: layer, neuron: neuron, formula: formula,
        values: values, weight: weight, source: source))
  }

  /// weights[l][i][j] of stage l, as Double.
  func weights(_ stage: Int) -> [[Double]] {
    stages[stage].linear.weightRows(layout: .inputByOutput)
  }

  func biases(_ stage: Int) -> [Double]? {
    stages[stage].linear.bias?.value.scalars
  }

  mutating func build() {
    let count = sampleCount
    // Parameters.
    for stage in stages.indices {
      let w = weights(stage)
      for j in names[stage + 1].indices {
        for i in names[stage].indices {
          add(
            weightNames[stage][i][j], weightNames[stage][i][j], .weight, layer: stage + 1,
            neuron: names[stage + 1][j], "given", [w[i][j]], weight: weightNames[stage][i][j],
            source: names[stage][i])
        }
      }
      if let b = biases(stage) {
        for (j, neuron) in names[stage + 1].enumerated() {
          add(
            "b_\(neuron)", "b_\(neuron)", .bias, layer: stage + 1, neuron: neuron, "given", [b[j]])
        }
      }
    }
    // Inputs and targets, per sample.
    let inputWidth = names[0].count
    let outputWidth = names.last?.count ?? 0
    func column(_ values: [Double], _ width: Int, _ index: Int) -> [Double] {
      (0..<count).map { values[$0 * width + index] }
    }
    var outputs: [[[Double]]] = [names[0].indices.map { column(input, inputWidth, $0) }]
    for (i, name) in names[0].enumerated() {
      add(name, name, .input, layer: 0, neuron: name, "given", outputs[0][i])
    }
    let targets = (0..<outputWidth).map { column(target, outputWidth, $0) }
    for (k, neuron) in (names.last ?? []).enumerated() {
      add(
        "t_\(neuron)", "t_\(neuron)", .target, layer: stages.count, neuron: neuron, "given",
        targets[k])
    }

    // Forward pass.
    var nets: [[[Double]]] = [[]]
    for (stage, definition) in stages.enumerated() {
      let w = weights(stage)
      let b = biases(stage)
      let sources = names[stage]
      var layerNets: [[Double]] = []
      for (j, neuron) in names[stage + 1].enumerated() {
        let values = (0..<count).map { s in
          sources.indices.reduce(b?[j] ?? 0) { $0 + w[$1][j] * outputs[stage][$1][s] }
        }
        var terms = sources.indices.map {
          "\(weightNames[stage][$0][j])·\(StepTrace.outName(sources[$0]))"
        }
        if b != nil { terms.append("b_\(neuron)") }
        let formula = terms.count <= 6 ? terms.joined(separator: " + ") : "Σ w·out + b_\(neuron)"
        add(
          "net_\(neuron)", "net_\(neuron)", .netInput, layer: stage + 1, neuron: neuron, formula,
          values)
        layerNets.append(values)
      }
      nets.append(layerNets)
      let activated = Self.activate(layerNets, definition.activation, count: count)
      for (j, neuron) in names[stage + 1].enumerated() {
        let formula: String
        switch definition.activation {
        case .elementwise(let activation): formula = activation.formula(neuron: neuron)
        case .softmax: formula = "exp(net_\(neuron)) / Σ exp(net)"
        }
        add(
          "out_\(neuron)", "out_\(neuron)", .output, layer: stage + 1, neuron: neuron, formula,
          activated[j])
      }
      outputs.append(activated)
    }

    // Loss.
    let last = stages.count
    let outputNames = names[last]
    let predicted = outputs[last]
    let elements = Double(count * outputWidth)
    let isLogitForm =
      loss == .binaryCrossEntropy && stages[stages.count - 1].activation == .elementwise(.sigmoid)
    var total = 0.0
    for (k, neuron) in outputNames.enumerated() {
      let terms = (0..<count).map { s -> Double in
        let (y, t) = (predicted[k][s], targets[k][s])
        switch loss {
        case .halfSumOfSquares: return 0.5 * (t - y) * (t - y)
        case .meanSquaredError: return (y - t) * (y - t) / elements
        case .crossEntropy: return t == 0 ? 0 : -t * Foundation.log(max(y, 1e-300)) / Double(count)
        case .binaryCrossEntropy where isLogitForm:
          // The logit form of −(t·ln y + (1 − t)·ln(1 − y)), exact however saturated y is.
          let z = nets[last][k][s]
          return (max(z, 0) - z * t + Foundation.log1p(Foundation.exp(-abs(z)))) / elements
        case .binaryCrossEntropy:
          return
            -(t * Foundation.log(max(y, 1e-300)) + (1 - t) * Foundation.log(max(1 - y, 1e-300)))
            / elements
        }
      }
      total += terms.reduce(0, +)
      let formula: String
      switch loss {
      case .halfSumOfSquares: formula = "½(t_\(neuron) − out_\(neuron))²"
      case .meanSquaredError: formula = "(out_\(neuron) − t_\(neuron))² / \(Int(elements))"
      case .crossEntropy: formula = "−t_\(neuron)·ln(out_\(neuron)) / \(count)"
      case .binaryCrossEntropy:
        formula =
          "−(t_\(neuron)·ln(out_\(neuron)) + (1 − t_\(neuron))·ln(1 − out_\(neuron))) / \(Int(elements))"
      }
      add("E_\(neuron)", "E_\(neuron)", .lossTerm, layer: last, neuron: neuron, formula, terms)
    }
    add(
      "E_total", "E_total", .totalLoss, layer: last, neuron: "",
      outputNames.map { "E_\($0)" }.joined(separator: " + ")
        + (count > 1 ? ", summed over the batch" : ""), [total])

    // Backward pass, from the output layer down.
    var deltas: [[Double]] = []
    var gradientsOfWeights: [[[Double]]] = Array(repeating: [], count: stages.count)
    var gradientsOfBiases: [[Double]] = Array(repeating: [], count: stages.count)
    for stage in stages.indices.reversed() {
      let layer = stage + 1
      let neurons = names[layer]
      var newDeltas: [[Double]] = []
      for (j, neuron) in neurons.enumerated() {
        let out = outputs[layer][j]
        let lossByOutput: [Double]
        let lossFormula: String
        if layer == last {
          let t = targets[j]
          switch loss {
          case .halfSumOfSquares:
            lossByOutput = (0..<count).map { out[$0] - t[$0] }
            lossFormula = "out_\(neuron) − t_\(neuron)"
          case .meanSquaredError:
            lossByOutput = (0..<count).map { 2 * (out[$0] - t[$0]) / elements }
            lossFormula = "2(out_\(neuron) − t_\(neuron)) / \(Int(elements))"
          case .crossEntropy:
            lossByOutput = (0..<count).map { -t[$0] / (max(out[$0], 1e-300) * Double(count)) }
            lossFormula = "−t_\(neuron) / (out_\(neuron) · \(count))"
          case .binaryCrossEntropy:
            lossByOutput = (0..<count).map {
              (out[$0] - t[$0]) / max(out[$0] * (1 - out[$0]) * elements, 1e-300)
            }
            lossFormula =
              "(out_\(neuron) − t_\(neuron)) / (out_\(neuron)(1 − out_\(neuron)) · \(Int(elements)))"
          }
        } else {
          let w = weights(stage + 1)
          lossByOutput = (0..<count).map { s in
            deltas.indices.reduce(0) { $0 + deltas[$1][s] * w[j][$1] }
          }
          let terms = names[layer + 1].indices.map {
            "δ_\(names[layer + 1][$0])·\(weightNames[stage + 1][j][$0])"
          }
          lossFormula = terms.count <= 6 ? terms.joined(separator: " + ") : "Σ δ·w"
        }
        add(
          "dE_dout_\(neuron)", "∂E_total/∂out_\(neuron)", .lossByOutput, layer: layer,
          neuron: neuron, lossFormula, lossByOutput)
        let delta: [Double]
        // A sigmoid before binary cross-entropy, like the softmax before cross-entropy, is
        // differentiated with its loss: δ = (out − t)/n, which stays exact when σ saturates.
        if stages[stage].activation == .softmax {
          delta = (0..<count).map { (out[$0] - targets[j][$0]) / Double(count) }
          add(
            "delta_\(neuron)", "δ_\(neuron)", .delta, layer: layer, neuron: neuron,
            "(out_\(neuron) − t_\(neuron)) / \(count) (softmax and cross-entropy together)", delta)
        } else if layer == last && isLogitForm {
          let (derivative, formula) = Self.derivative(
            stages[stage].activation, net: nets[layer][j], out: out, neuron: neuron)
          add(
            "dout_dnet_\(neuron)", "∂out_\(neuron)/∂net_\(neuron)", .outputByNet, layer: layer,
            neuron: neuron, formula, derivative)
          delta = (0..<count).map { (out[$0] - targets[j][$0]) / elements }
          add(
            "delta_\(neuron)", "δ_\(neuron)", .delta, layer: layer, neuron: neuron,
            "(out_\(neuron) − t_\(neuron)) / \(Int(elements)) (σ and binary cross-entropy together)",
            delta)
        } else {
          let (derivative, formula) = Self.derivative(
            stages[stage].activation, net: nets[layer][j], out: out, neuron: neuron)
          add(
            "dout_dnet_\(neuron)", "∂out_\(neuron)/∂net_\(neuron)", .outputByNet, layer: layer,
            neuron: neuron, formula, derivative)
          delta = zip(lossByOutput, derivative).map(*)
          add(
            "delta_\(neuron)", "δ_\(neuron)", .delta, layer: layer, neuron: neuron,
            "∂E_total/∂out_\(neuron) · ∂out_\(neuron)/∂net_\(neuron)", delta)
        }
        newDeltas.append(delta)
      }
      // The weights into this layer, and its biases.
      var layerGradients = Array(
        repeating: Array(repeating: 0.0, count: neurons.count), count: names[stage].count)
      for (j, neuron) in neurons.enumerated() {
        for (i, source) in names[stage].enumerated() {
          let name = weightNames[stage][i][j]
          add(
            "dnet_d\(name)", "∂net_\(neuron)/∂\(name)", .netByWeight, layer: layer, neuron: neuron,
            StepTrace.outName(source), outputs[stage][i], weight: name, source: source)
          let gradient = (0..<count).reduce(0) { $0 + newDeltas[j][$1] * outputs[stage][i][$1] }
          add(
            "dE_d\(name)", "∂E_total/∂\(name)", .lossByWeight, layer: layer, neuron: neuron,
            "δ_\(neuron) · \(StepTrace.outName(source))"
              + (count > 1 ? ", summed over the batch" : ""),
            [gradient], weight: name, source: source)
          layerGradients[i][j] = gradient
        }
        if biases(stage) != nil {
          let gradient = newDeltas[j].reduce(0, +)
          add(
            "dE_db_\(neuron)", "∂E_total/∂b_\(neuron)", .lossByBias, layer: layer, neuron: neuron,
            "δ_\(neuron)" + (count > 1 ? ", summed over the batch" : ""), [gradient])
          gradientsOfBiases[stage].append(gradient)
        }
      }
      gradientsOfWeights[stage] = layerGradients
      deltas = newDeltas
    }

    // Updates.
    for stage in stages.indices {
      let w = weights(stage)
      for (j, neuron) in names[stage + 1].enumerated() {
        for i in names[stage].indices {
          let name = weightNames[stage][i][j]
          let frozen = stages[stage].weightFrozen
          add(
            "\(name)_new", "\(name)⁺", .updatedWeight, layer: stage + 1, neuron: neuron,
            frozen ? "\(name) (frozen)" : "\(name) − η·∂E_total/∂\(name), η = \(learningRate)",
            [frozen ? w[i][j] : w[i][j] - learningRate * gradientsOfWeights[stage][i][j]],
            weight: name, source: names[stage][i])
        }
      }
      if let b = biases(stage) {
        for (j, neuron) in names[stage + 1].enumerated() {
          let frozen = stages[stage].biasFrozen
          add(
            "b_\(neuron)_new", "b_\(neuron)⁺", .updatedBias, layer: stage + 1, neuron: neuron,
            frozen ? "b_\(neuron) (frozen)" : "b_\(neuron) − η·∂E_total/∂b_\(neuron)",
            [frozen ? b[j] : b[j] - learningRate * gradientsOfBiases[stage][j]])
        }
      }
    }
  }

  static func activate(_ nets: [[Double]], _ activation: StepTrace.Activation, count: Int)
    -> [[Double]]
  {
    switch activation {
    case .softmax:
      var result = nets
      for s in 0..<count {
        let top = nets.map { $0[s] }.max() ?? 0
        let exponentials = nets.map { Foundation.exp($0[s] - top) }
        let total = exponentials.reduce(0, +)
        for j in nets.indices { result[j][s] = exponentials[j] / total }
      }
      return result
    case .elementwise(let activation): return nets.map { $0.map { activation.value($0) } }
    }
  }

  static func derivative(
    _ activation: StepTrace.Activation, net: [Double], out: [Double], neuron: String
  )
    -> ([Double], String)
  {
    switch activation {
    case .elementwise(let activation):
      (
        zip(net, out).map { activation.derivative(output: $1, input: $0) },
        activation.derivativeFormula(neuron: neuron)
      )
    case .softmax: (net.map { _ in 1 }, "1 (no activation)")
    }
  }
}
