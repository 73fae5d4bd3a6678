import Backprop
import Testing

@Suite("Training step")
struct TrainingStepTests {
  @Test func aStepLowersTheLoss() throws {
    func check<S: TensorScalar>(_: S.Type) throws {
      var generator = RandomGenerator(seed: 3)
      let model = try Sequential<S>(
        Linear(inputSize: 2, outputSize: 4, generator: &generator), Tanh(),
        Linear(inputSize: 4, outputSize: 1, generator: &generator), Sigmoid())
      let inputs = try Tensor<S>([[0, 0], [0, 1], [1, 0], [1, 1]])
      let targets = try Tensor<S>([[0], [1], [1], [0]])
      let optimizer = try SGD(parameters: model.parameters, learningRate: 0.5)
      let first = try model.trainingStep(
        input: inputs, target: targets, loss: MeanSquaredError(), optimizer: optimizer)
      let second = try model.trainingStep(
        input: inputs, target: targets, loss: MeanSquaredError(), optimizer: optimizer)
      #expect(second < first)
    }
    try check(Float.self)
    try check(Double.self)
  }

  @Test func aNaNLossKeepsTheLastGoodWeights() throws {
    let layer = try Linear<Double>(weights: [[1], [2]], layout: .inputByOutput, bias: [0])
    let optimizer = try SGD(parameters: layer.parameters, learningRate: 0.1)
    let before = layer.parameters.map(\.value)
    expectError(containing: "the loss became nan", "last good ones") {
      try layer.trainingStep(
        input: Tensor([[Double.nan, 1]]), target: Tensor([[0]]), loss: MeanSquaredError(),
        optimizer: optimizer)
    }
    #expect(layer.parameters.map(\.value) == before)
    expectError(containing: "the loss became inf") {
      try layer.trainingStep(
        input: Tensor([[1e200, 1]]), target: Tensor([[0]]), loss: MeanSquaredError(),
        optimizer: optimizer)
    }
    #expect(layer.parameters.map(\.value) == before)
  }
}
