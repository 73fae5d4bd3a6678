import Backprop
import Foundation
import Testing

@Suite("Step traces (explain)")
struct StepTraceTests {
  @Test func mazursWorkedExampleComesOutNumberForNumber() throws {
    let example = try Demo.mazurExample()
    let trace = try StepTrace(
      network: example.network, input: example.input, target: example.target, loss: example.loss,
      learningRate: example.learningRate)
    // The figures of Mazur's post, to the digits it prints.
    let published: [(String, Double, Double)] = [
      ("net_h1", 0.3775, 1e-12), ("out_h1", 0.593269992, 1e-9), ("out_h2", 0.596884378, 1e-9),
      ("net_o1", 1.105905967, 1e-9), ("out_o1", 0.75136507, 1e-8), ("out_o2", 0.772928465, 1e-9),
      ("E_o1", 0.274811083, 1e-9), ("E_o2", 0.023560026, 1e-9), ("E_total", 0.298371109, 1e-9),
      ("dE_dout_o1", 0.74136507, 1e-8), ("dout_dnet_o1", 0.186815602, 1e-9),
      ("dnet_dw5", 0.593269992, 1e-9), ("dE_dw5", 0.082167041, 1e-9),
      ("w5_new", 0.35891648, 1e-8), ("w6_new", 0.408666186, 1e-9), ("w7_new", 0.511301270, 1e-9),
      ("w8_new", 0.561370121, 1e-9), ("dE_dout_h1", 0.036350306, 1e-9),
      ("dout_dnet_h1", 0.241300709, 1e-9), ("dE_dw1", 0.000438568, 1e-9),
      ("w1_new", 0.149780716, 1e-9), ("w2_new", 0.19956143, 1e-8), ("w3_new", 0.24975114, 1e-8),
      ("w4_new", 0.29950229, 1e-8), ("b_h1_new", 0.35, 0),
    ]
    for (key, value, tolerance) in published {
      let traced = try #require(trace[key]?.values.first, "missing \(key)")
      #expect(abs(traced - value) <= tolerance, "\(key): \(traced) vs \(value)")
    }
    #expect(trace["∂E_total/∂w5"]?.key == "dE_dw5")
    #expect(trace["dE_dw5"]?.formula == "δ_o1 · out_h1")
    #expect(trace["dE_dout_h1"]?.formula == "δ_o1·w5 + δ_o2·w7")
  }

  /// The trace's gradients are the automatic differentiation's, for every supported loss.
  @Test(arguments: LossFunction.allCases)
  func gradientsAgreeWithAutomaticDifferentiation(loss: LossFunction) throws {
    var generator = RandomGenerator(seed: 11)
    let classification = loss.isClassification
    var layers: [any Layer<Double>] = [
      try Linear(inputSize: 3, outputSize: 4, generator: &generator), Tanh(),
      try Linear(inputSize: 4, outputSize: 3, generator: &generator), LeakyReLU(slope: 0.1),
      try Linear(inputSize: 3, outputSize: 2, generator: &generator),
    ]
    if loss == .binaryCrossEntropy { layers.append(Sigmoid()) }
    let network = try Sequential<Double>(layers)
    let input: Tensor<Double> = try randomTensor([3, 3], &generator)
    let target =
      classification
      ? try Tensor<Double>([[1, 0], [0, 1], [1, 0]]) : try randomTensor([3, 2], &generator)
    let trace = try StepTrace(
      network: network, input: input, target: target, loss: loss, learningRate: 0.1)
    let value = try loss.loss(network(Variable(input)), target)
    try value.backward()
    #expect(abs((trace["E_total"]?.values.first ?? 0) - (value.value.scalar ?? 0)) < 1e-12)
    // Weights are numbered layer by layer, neuron by neuron, in input order: the output-by-input
    // order of each layer's gradient.
    let automatic = network.layers.compactMap { $0 as? Linear<Double> }.flatMap { linear in
      (try? linear.weight.gradient?.transposed().scalars) ?? []
    }
    let traced = (1...automatic.count).map { trace["dE_dw\($0)"]?.values.first ?? .nan }
    #expect(approximatelyEqual(traced, automatic, tolerance: 1e-12))
    let biasGradients = network.layers.compactMap {
      ($0 as? Linear<Double>)?.bias?.gradient?.scalars
    }.joined()
    let tracedBiases = trace.layers.dropFirst().joined().map {
      trace["dE_db_\($0)"]?.values[0] ?? .nan
    }
    #expect(approximatelyEqual(tracedBiases, Array(biasGradients), tolerance: 1e-12))
    #expect(trace.layers.map(\.count) == [3, 4, 3, 2])
    #expect(trace.layers[1].first == "h1_1" && trace.layers[3] == ["o1", "o2"])
  }

  @Test func renderingsHoldEveryQuantityOrSummarizeLargeLayers() throws {
    let example = try Demo.mazurExample()
    let trace = try StepTrace(
      network: example.network, input: example.input, target: example.target, loss: example.loss,
      learningRate: 0.5)
    let text = try trace.rendered(as: .text)
    #expect(text.contains("∂E_total/∂w5     = δ_o1 · out_h1") && text.contains("0.35891648"))
    let markdown = try trace.rendered(as: .markdown)
    #expect(markdown.contains("| ∂E_total/∂w5 | δ_o1 · out_h1 | 0.0821670406 |"))
    let json = try JSONDecoder().decode(StepTrace.self, from: Data(trace.rendered(as: .json).utf8))
    #expect(json == trace)

    let wide = try Sequential<Double>.perceptron(sizes: [2, 20, 1], activation: .sigmoid, seed: 1)
    let large = try StepTrace(
      network: wide, input: Tensor([[0.5, -0.5]]), target: Tensor([[1]]), loss: .meanSquaredError,
      learningRate: 0.1)
    let summary = try large.rendered(as: .text)
    #expect(summary.contains("netInput of layer 1 (20 neurons): 20 values, min"))
    #expect(!summary.contains("net_h7 "))
    let chosen = try large.rendered(as: .text, neurons: ["h7"])
    #expect(chosen.contains("net_h7 ") && !chosen.contains("net_h8 "))
    expectError(containing: "neuron 'h99'") { _ = try large.rendered(as: .text, neurons: ["h99"]) }
    expectError(containing: "end the network in logits") {
      _ = try StepTrace(
        network: Sequential<Double>(wide.layers + [Softmax()]), input: Tensor([[0.5, -0.5]]),
        target: Tensor([[1]]),
        loss: .crossEntropy, learningRate: 0.1)
    }
  }
}

/// A backpropagation written by hand the way the seeds write it, with one bug switched on at a
/// time, printing its quantities under the trace's names.
struct HandWrittenBackprop {
  enum Bug: CaseIterable {
    case none, updateBeforeUse, missingDerivative, wrongVariable, wrongSign, factorTwo,
      meanVersusSum
    case softmaxTwice, wrongNeuron, wrongBias
  }

  var hidden: [[Double]]  // [neuron][input]
  var hiddenBias: [Double]
  var output: [[Double]]  // [neuron][hidden]
  var outputBias: [Double]
  var tanhHidden: Bool
  var softmaxOutput: Bool
  var learningRate: Double

  func activate(_ x: Double) -> Double { tanhHidden ? tanh(x) : 1 / (1 + exp(-x)) }
  func derivative(ofOutput y: Double) -> Double { tanhHidden ? 1 - y * y : y * (1 - y) }
  func derivativeAt(_ x: Double) -> Double {
    tanhHidden ? 1 - tanh(x) * tanh(x) : activate(x) * (1 - activate(x))
  }

  func run(inputs: [[Double]], targets: [[Double]], bug: Bug) -> [String: [Double]] {
    let n = inputs.count
    var printed: [String: [Double]] = [:]
    func put(_ key: String, _ value: [Double]) { printed[key] = value }
    let hiddenCount = hidden.count
    let outputCount = output.count
    var netH = Array(repeating: [Double](repeating: 0, count: n), count: hiddenCount)
    var outH = netH
    for j in 0..<hiddenCount {
      for s in 0..<n {
        netH[j][s] = zip(hidden[j], inputs[s]).map(*).reduce(hiddenBias[j], +)
        outH[j][s] = activate(netH[j][s])
      }
      put("net_h\(j + 1)", netH[j])
      put("out_h\(j + 1)", outH[j])
    }
    var netO = Array(repeating: [Double](repeating: 0, count: n), count: outputCount)
    var outO = netO
    for k in 0..<outputCount {
      for s in 0..<n {
        let bias = bug == .wrongBias && k == 0 ? hiddenBias[0] : outputBias[k]
        netO[k][s] = (0..<hiddenCount).reduce(bias) { $0 + output[k][$1] * outH[$1][s] }
      }
    }
    for s in 0..<n {
      if softmaxOutput {
        let exps = (0..<outputCount).map { exp(netO[$0][s]) }
        for k in 0..<outputCount { outO[k][s] = exps[k] / exps.reduce(0, +) }
      } else {
        for k in 0..<outputCount { outO[k][s] = 1 / (1 + exp(-netO[k][s])) }
      }
    }
    for k in 0..<outputCount {
      put("net_o\(k + 1)", netO[k])
      put("out_o\(k + 1)", outO[k])
    }
    let scale = bug == .meanVersusSum ? 1.0 : Double(n)
    var deltaO = netO
    for k in 0..<outputCount {
      if softmaxOutput {
        deltaO[k] = (0..<n).map { (outO[k][$0] - targets[$0][k]) / scale }
        if bug == .softmaxTwice {
          deltaO[k] = (0..<n).map { deltaO[k][$0] * outO[k][$0] * (1 - outO[k][$0]) }
        }
      } else {
        var dEdOut = (0..<n).map { outO[k][$0] - targets[$0][k] }
        if bug == .wrongSign { dEdOut = dEdOut.map { -$0 } }
        if bug == .factorTwo { dEdOut = dEdOut.map { 2 * $0 } }
        put("dE_dout_o\(k + 1)", dEdOut)
        deltaO[k] = (0..<n).map { dEdOut[$0] * outO[k][$0] * (1 - outO[k][$0]) }
      }
      put("delta_o\(k + 1)", deltaO[k])
    }
    var weight = hidden.count * hidden[0].count
    var newOutput = output
    for k in 0..<outputCount {
      for j in 0..<hiddenCount {
        weight += 1
        let source = bug == .wrongNeuron && k == 0 && j == 1 ? outH[0] : outH[j]
        let gradient = (0..<n).reduce(0) { $0 + deltaO[k][$1] * source[$1] }
        put("dE_dw\(weight)", [gradient])
        newOutput[k][j] = output[k][j] - learningRate * gradient
        put("w\(weight)_new", [newOutput[k][j]])
      }
    }
    let used = bug == .updateBeforeUse ? newOutput : output
    weight = 0
    for j in 0..<hiddenCount {
      let dEdOut = (0..<n).map { s in
        (0..<outputCount).reduce(0) { $0 + deltaO[$1][s] * used[$1][j] }
      }
      put("dE_dout_h\(j + 1)", dEdOut)
      let slope: [Double]
      switch bug {
      case .wrongVariable: slope = dEdOut.map { derivativeAt($0) }
      default: slope = outH[j].map { derivative(ofOutput: $0) }
      }
      if bug != .missingDerivative { put("dout_dnet_h\(j + 1)", slope) }
      let delta = bug == .missingDerivative ? dEdOut : zip(dEdOut, slope).map(*)
      put("delta_h\(j + 1)", delta)
      for i in 0..<hidden[j].count {
        weight += 1
        let gradient = (0..<n).reduce(0) { $0 + delta[$1] * inputs[$1][i] }
        put("dE_dw\(weight)", [gradient])
        put("w\(weight)_new", [hidden[j][i] - learningRate * gradient])
      }
    }
    return printed
  }

  /// The same network as a `Sequential`, for the trace.
  func network() throws -> Sequential<Double> {
    try Sequential<Double>(
      [
        try Linear(weights: hidden, layout: .outputByInput, bias: hiddenBias),
        tanhHidden ? Tanh() : Sigmoid(),
        try Linear(weights: output, layout: .outputByInput, bias: outputBias),
      ] + (softmaxOutput ? [] : [Sigmoid()]))
  }
}

@Suite("Checking a hand-written backprop")
struct TraceCheckTests {
  /// Mazur's network (sigmoid, ½Σ squared error), one sample.
  let mazur = HandWrittenBackprop(
    hidden: [[0.15, 0.20], [0.25, 0.30]], hiddenBias: [0.35, 0.35],
    output: [[0.40, 0.45], [0.50, 0.55]], outputBias: [0.60, 0.60], tanhHidden: false,
    softmaxOutput: false, learningRate: 0.5)
  /// A tanh/softmax network as in seed 002, a batch of two, cross-entropy (mean).
  let softmax = HandWrittenBackprop(
    hidden: [[0.2, -0.4], [0.7, 0.1], [-0.3, 0.5]], hiddenBias: [0.1, -0.2, 0.05],
    output: [[0.3, -0.6, 0.2], [-0.1, 0.4, 0.5], [0.6, 0.2, -0.3]], outputBias: [0.05, 0, -0.1],
    tanhHidden: true, softmaxOutput: true, learningRate: 0.1)

  func check(_ network: HandWrittenBackprop, bug: HandWrittenBackprop.Bug) throws -> TraceCheck {
    let inputs: [[Double]] = network.softmaxOutput ? [[0.5, -1.2], [1.5, 0.3]] : [[0.05, 0.10]]
    let targets: [[Double]] = network.softmaxOutput ? [[0, 1, 0], [1, 0, 0]] : [[0.01, 0.99]]
    let trace = try StepTrace(
      network: network.network(), input: Tensor(inputs), target: Tensor(targets),
      loss: network.softmaxOutput ? .crossEntropy : .halfSumOfSquares,
      learningRate: network.learningRate)
    return trace.check(network.run(inputs: inputs, targets: targets, bug: bug))
  }

  @Test func aCorrectHandWrittenBackpropGetsNoComplaint() throws {
    for network in [mazur, softmax] {
      let report = try check(network, bug: .none)
      #expect(report.passed, "\(report)")
      #expect(report.compared > 20)
    }
  }

  @Test(arguments: [
    (
      HandWrittenBackprop.Bug.updateBeforeUse, "mazur", BackpropBug.updatedBeforeUse,
      "dE_dout_h1"
    ),
    (.missingDerivative, "mazur", .missingActivationDerivative, "delta_h1"),
    (.wrongVariable, "softmax", .derivativeOfWrongVariable, "dout_dnet_h1"),
    (.wrongSign, "mazur", .wrongSign, "dE_dout_o1"),
    (.factorTwo, "mazur", .factorTwo, "dE_dout_o1"),
    (.meanVersusSum, "softmax", .sumInsteadOfMean, "delta_o1"),
    (.softmaxTwice, "softmax", .softmaxDerivativeTwice, "delta_o1"),
    (.wrongNeuron, "mazur", .wrongIndex, "dE_dw6"),
    (.wrongBias, "mazur", .wrongIndex, "net_o1"),
  ])
  func eachPlantedBugIsFoundAndNamed(
    bug: HandWrittenBackprop.Bug, network: String, expected: BackpropBug, at key: String
  ) throws {
    let report = try check(network == "mazur" ? mazur : softmax, bug: bug)
    #expect(report.firstMismatch?.quantity.key == key, "\(report)")
    #expect(report.firstMismatch?.bug == expected, "\(report)")
    #expect(report.description.contains("likely bug: \(expected.title) [\(expected.rawValue)]"))
  }

  @Test func unknownNamesAndUnexplainedErrorsAreReported() throws {
    let example = try Demo.mazurExample()
    let trace = try StepTrace(
      network: example.network, input: example.input, target: example.target, loss: example.loss,
      learningRate: 0.5)
    let report = trace.check(["net_h1": [0.3775], "net_h9": [1], "dE_dw5": [0.0911]])
    #expect(report.unknownNames == ["net_h9"] && !report.passed)
    #expect(report.firstMismatch?.quantity.key == "dE_dw5" && report.firstMismatch?.bug == nil)
    #expect(report.description.contains("no common bug explains it"))
  }
}
