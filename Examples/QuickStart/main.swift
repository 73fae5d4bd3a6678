import Backprop

var generator = RandomGenerator(seed: 1)
let model = try Sequential<Double>(
  Linear(inputSize: 2, outputSize: 3, generator: &generator), Sigmoid(),
  Linear(inputSize: 3, outputSize: 1, generator: &generator), Sigmoid())
let inputs = try Tensor<Double>([[0, 0], [0, 1], [1, 0], [1, 1]])
let targets = try Tensor<Double>([[0], [1], [1], [0]])
let optimizer = try SGD(parameters: model.parameters, learningRate: 0.5, momentum: 0.9)
for _ in 0..<1000 {
  try model.trainingStep(
    input: inputs, target: targets, loss: MeanSquaredError(), optimizer: optimizer)
}
print(model, try model(inputs), separator: "\n")
