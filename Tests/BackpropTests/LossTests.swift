import Backprop
import Testing

/// Reference values computed with JAX (float64, `jax.value_and_grad`) for a 3-4-2 tanh network
/// with fixed weights on two samples, by `Tests/References/make_references.py`.
enum JAXReference {
  static let inputs: [[Double]] = [[0.2, -0.4, 0.9], [-0.7, 0.1, 0.3]]
  static let weight1: [[Double]] = [
    [0.1, -0.2, 0.3, 0.05], [0.4, 0.25, -0.6, 0.1], [-0.3, 0.8, 0.2, -0.5],
  ]
  static let bias1: [Double] = [0.01, -0.02, 0.03, 0.0]
  static let weight2: [[Double]] = [[0.7, -0.1], [0.2, 0.5], [-0.4, 0.3], [0.6, -0.8]]
  static let bias2: [Double] = [0.05, -0.05]
  static let targets: [[Double]] = [[0, 1], [1, 0]]

  /// Loss and gradients of W1, b1, W2, b2 (W row-major, input × output).
  struct Case {
    var loss: Double
    var gradients: [[Double]]
  }

  static let meanSquaredError = Case(
    loss: 0.3543848713659058,
    gradients: [
      [
        0.2146886932232035, 0.006841424156321032, -0.14531950001971577, 0.25248034029789707,
        0.028611253173713325, 0.032649170251552666, -0.0009487441185177555, -0.016134693723382325,
        -0.24933227025667282, -0.09217164056307216, 0.1198912632535291, -0.1611074338208638,
      ],
      [-0.5119018248767068, -0.1261729434790689, 0.28274469121739954, -0.42968825306886327],
      [
        0.1623149783689143, 0.0368210358412875, -0.32574720573665034, -0.023902853108470557,
        -0.04616314680475617, -0.08154908987997785, 0.2126043674444367, 0.038129221086193134,
      ],
      [-0.7780421759154996, -0.015198666428153373],
    ])

  static let halfSumOfSquares = Case(
    loss: 0.7087697427318116,
    gradients: meanSquaredError.gradients.map { $0.map { $0 * 2 } })

  static let binaryCrossEntropy = Case(
    loss: 0.5847506396817503,
    gradients: [
      [
        0.08192356103145917, -0.030458786527384513, -0.07137987348576753, 0.1452553261790997,
        -0.03435931148442196, 0.010501145705993533, 0.027661629901915, -0.05608504952260031,
        0.025015296567864324, -0.00326709756301842, -0.015756735385808344, 0.03151948335762795,
      ],
      [-0.03860923146057627, 0.022224469724223372, 0.041517191658308715, -0.08519660968926765],
      [
        -0.020711962892993395, 0.015421683436866814, 0.00031344462508187815, 0.010104418008904409,
        0.06454204954109487, -0.06275438407312488, -0.018794788935869264, 0.01190566963983106,
      ],
      [-0.03382063218399904, 0.05853668553480171],
    ])

  static let softmaxCrossEntropy = Case(
    loss: 0.5228137774953912,
    gradients: [
      [
        0.16771944031758815, -0.055035596516002594, -0.14294312755347402, 0.2869940889207022,
        -0.05097081449690694, 0.01664556688235587, 0.04194224091737296, -0.0852423784310864,
        -0.00019700178395278857, 0.0002770543059038329, 0.004145809820162331, -0.005582759830376378,
      ],
      [-0.14609995042914553, 0.04821841563031161, 0.1297059498119283, -0.2568419379706668],
      [
        -0.010034060411645656, 0.010034060411645661, -0.047648611974495124, 0.0476486119744951,
        0.09922811427102259, -0.09922811427102259, 0.0005517680243194201, -0.0005517680243194104,
      ],
      [-0.17061122120884625, 0.1706112212088462],
    ])

  static func model<S: TensorScalar>(_: S.Type, sigmoidOutput: Bool = false) throws -> Sequential<S>
  {
    let convert = { (rows: [[Double]]) in rows.map { $0.map { S($0) } } }
    let layers: [any Layer<S>] = [
      try Linear(weights: convert(weight1), layout: .inputByOutput, bias: bias1.map { S($0) }),
      Tanh(),
      try Linear(weights: convert(weight2), layout: .inputByOutput, bias: bias2.map { S($0) }),
    ]
    return try Sequential(sigmoidOutput ? layers + [Sigmoid()] : layers)
  }
}

@Suite("Losses")
struct LossTests {
  static let cases: [(any Loss, JAXReference.Case, Bool)] = [
    (MeanSquaredError(), JAXReference.meanSquaredError, false),
    (HalfSumOfSquares(), JAXReference.halfSumOfSquares, false),
    (BinaryCrossEntropy(), JAXReference.binaryCrossEntropy, true),
    (SoftmaxCrossEntropy(), JAXReference.softmaxCrossEntropy, false),
  ]

  @Test(arguments: 0..<4)
  func agreesWithJAX(caseIndex: Int) throws {
    let (loss, reference, sigmoidOutput) = Self.cases[caseIndex]
    func check<S: TensorScalar>(_: S.Type, tolerance: S) throws {
      let model = try JAXReference.model(S.self, sigmoidOutput: sigmoidOutput)
      let input = try Tensor<S>(JAXReference.inputs.map { $0.map { S($0) } })
      let target = try Tensor<S>(JAXReference.targets.map { $0.map { S($0) } })
      let value = try loss(model(Variable(input)), target)
      try value.backward()
      #expect(abs(value.value.scalar! - S(reference.loss)) <= tolerance, "\(loss)")
      for (parameter, expected) in zip(model.parameters, reference.gradients) {
        #expect(
          approximatelyEqual(
            parameter.gradient!.scalars, expected.map { S($0) }, tolerance: tolerance),
          "\(loss) \(parameter.name)")
      }
    }
    try check(Double.self, tolerance: 1e-12)
    try check(Float.self, tolerance: 1e-5)
  }

  @Test func reductions() throws {
    let prediction = Variable(try Tensor<Double>([[1, 2], [3, 5]]))
    let target = try Tensor<Double>([[0, 2], [1, 1]])
    // Squared errors: 1, 0, 4, 16.
    #expect(try MeanSquaredError()(prediction, target).value.scalar == 21.0 / 4)
    #expect(try MeanSquaredError(reduction: .sum)(prediction, target).value.scalar == 21)
    #expect(try HalfSumOfSquares()(prediction, target).value.scalar == 10.5)
    #expect(try HalfSumOfSquares(reduction: .mean)(prediction, target).value.scalar == 10.5 / 2)
    let probabilities = Variable(try Tensor<Double>([[0.5, 0.25]]))
    let labels = try Tensor<Double>([[1, 0]])
    let bce = [-Double.log(0.5), -Double.log(0.75)]
    #expect(
      abs(try BinaryCrossEntropy()(probabilities, labels).value.scalar! - bce.reduce(0, +) / 2)
        < 1e-15)
    #expect(
      abs(
        try BinaryCrossEntropy(reduction: .sum)(probabilities, labels).value.scalar!
          - bce.reduce(0, +))
        < 1e-15)
  }

  @Test func classIndicesEqualOneHotRows() throws {
    let logits = Variable(
      try Tensor<Double>([[1, 2, 0.5], [0.1, -1, 3]]), requiresGradient: true)
    for reduction in Reduction.allCases {
      let loss = SoftmaxCrossEntropy(reduction: reduction)
      let fromOneHot = try loss(logits, Tensor([[0, 1, 0], [0, 0, 1]])).value.scalar!
      let fromIndices = try loss(logits, Tensor([1, 2])).value.scalar!
      #expect(abs(fromOneHot - fromIndices) < 1e-15)
    }
    expectError(containing: "class index 1.5", "whole numbers") {
      _ = try SoftmaxCrossEntropy()(logits, Tensor([0, 1.5]))
    }
    expectError(containing: "class index 3.0", "0..<3") {
      _ = try SoftmaxCrossEntropy()(logits, Tensor([0, 3]))
    }
  }

  @Test func crossEntropyIsStableAtExtremeLogits() throws {
    func check<S: TensorScalar>(_: S.Type) throws {
      let logits = Variable(
        try Tensor<S>([[1000, -1000], [-1000, 1000]]), requiresGradient: true)
      let loss = try SoftmaxCrossEntropy()(logits, Tensor([1, 1]))
      #expect(loss.value.scalar == 1000)  // the first sample is 2000 off, the second right
      try loss.backward()
      #expect(logits.gradient!.isFinite)
      #expect(logits.gradient!.scalars == [0.5, -0.5, 0, 0])
    }
    try check(Float.self)
    try check(Double.self)
  }

  @Test func binaryCrossEntropyAtZeroAndOneIsFinite() throws {
    let p = Variable(Tensor<Double>([0, 1]), requiresGradient: true)
    let loss = try BinaryCrossEntropy(reduction: .sum)(p, Tensor([1, 0]))
    #expect(loss.value.scalar == 200)
    try loss.backward()
    #expect(p.gradient!.isFinite)
    #expect(p.gradient!.scalars[0] < 0 && p.gradient!.scalars[1] > 0)
  }

  @Test func badTargetsAreClearErrors() {
    let prediction = Variable(Tensor<Double>([0.2, 0.4, 0.6, 0.8]))
    expectError(containing: "MeanSquaredError", "[4]", "[4, 1]", "same shape") {
      _ = try MeanSquaredError()(prediction, Tensor(zeros: [4, 1]))
    }
    expectError(containing: "element 1 is 2.0", "[0, 1]") {
      _ = try BinaryCrossEntropy()(prediction, Tensor([0, 2, 0, 1]))
    }
    expectError(containing: "element 0 is -0.5", "Sigmoid") {
      _ = try BinaryCrossEntropy()(Variable(Tensor([-0.5, 0.5])), Tensor([0, 1]))
    }
    expectError(containing: "SoftmaxCrossEntropy", "[2, 3]", "[3]") {
      _ = try SoftmaxCrossEntropy()(Variable(Tensor(zeros: [2, 3])), Tensor([1, 0, 0]))
    }
  }
}
