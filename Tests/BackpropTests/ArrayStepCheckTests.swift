import Foundation
import Testing

@testable import Backprop

/// `ArrayStepCheck`: a hand-written step's matrices, by their names and layouts, against the
/// recomputed step. Mazur's published numbers are the independent reference; the planted bugs of
/// every identifier, in both layouts, are checked against numpy in Tests/Seeds/check_steps.py.
@Suite("Checking a hand-written step's arrays")
struct ArrayStepCheckTests {
  typealias Quantity = ArrayStepCheck.Quantity

  /// Mazur's 2-2-2 example after one step of η = 0.5, as a person would save it: weights a row
  /// per neuron (out×in), the values of his post to nine digits.
  func mazur(_ changes: [String: NumPyArray] = [:]) throws -> [String: NumPyArray] {
    var arrays: [String: NumPyArray] = [
      "X": try NumPyArray(shape: [1, 2], values: [0.05, 0.10]),
      "Y": try NumPyArray(shape: [1, 2], values: [0.01, 0.99]),
      "W1": try NumPyArray(shape: [2, 2], values: [0.15, 0.20, 0.25, 0.30]),
      "b1": try NumPyArray(shape: [2], values: [0.35, 0.35]),
      "W2": try NumPyArray(shape: [2, 2], values: [0.40, 0.45, 0.50, 0.55]),
      "b2": try NumPyArray(shape: [2], values: [0.60, 0.60]),
      "h": try NumPyArray(shape: [1, 2], values: [0.593269992, 0.596884378]),
      "y_pred": try NumPyArray(shape: [1, 2], values: [0.75136507, 0.772928465]),
      "W2_new": try NumPyArray(
        shape: [2, 2], values: [0.35891648, 0.408666186, 0.511301270, 0.561370121]),
      "W1_new": try NumPyArray(
        shape: [2, 2], values: [0.149780716, 0.19956143, 0.24975114, 0.29950229]),
    ]
    arrays.merge(changes) { $1 }
    return arrays
  }

  func check(_ arrays: [String: NumPyArray]) throws -> ArrayStepCheck {
    try ArrayStepCheck(
      arrays: arrays, activations: ["sigmoid", "sigmoid"], loss: .halfSumOfSquares,
      learningRate: 0.5)
  }

  @Test func mazursPublishedStepAgreesInHisLayout() throws {
    let report = try check(try mazur())
    #expect(report.allAgree, "\(report)")
    #expect(report.findings.map(\.name) == ["h", "y_pred", "W1_new", "W2_new"])
    // Both weights are square: the numbers decide the layout.
    #expect(report.layouts.map(\.weight) == [.outputByInput, .outputByInput])
    #expect(report.layouts[0].reason.contains("square"))
    #expect(report.description.contains("all 4 arrays agree"))
  }

  @Test func anUphillUpdateIsNamedWithItsFix() throws {
    // w⁺ = w + η·∇ for the output layer: 0.4 + (0.4 − 0.35891648) and so on.
    let uphill = try NumPyArray(
      shape: [2, 2], values: [0.44108352, 0.491333814, 0.48869873, 0.538629879])
    let report = try check(try mazur(["W2_new": uphill]))
    let first = try #require(report.firstMismatch)
    #expect(first.name == "W2_new" && first.bug == .wrongSign)
    #expect(first.fix == "W2_new = W2 - lr * dW2")
    // The worst entry moved by η·∇ the wrong way: twice its distance from the weight before.
    let before = [0.40, 0.45, 0.50, 0.55][first.worstIndex[0] * 2 + first.worstIndex[1]]
    let (given, expected) = (try #require(first.given), try #require(first.expected))
    #expect(abs((given - before) + (expected - before)) < 1e-8)
  }

  @Test func aTransposedWeightInTheOtherLayoutIsNamed() throws {
    // The first layer's update saved in×out while its weights are out×in: square, so only
    // the numbers can tell.
    let transposed = try NumPyArray(
      shape: [2, 2], values: [0.149780716, 0.24975114, 0.19956143, 0.29950229])
    let report = try check(try mazur(["W1_new": transposed]))
    #expect(report.firstMismatch?.name == "W1_new")
    #expect(report.firstMismatch?.bug == .transposed)
  }

  @Test func namesFollowWhatPeopleWrite() {
    let expected: [String: Quantity?] = [
      "X": Quantity(.input, layer: 0), "inputs": Quantity(.input, layer: 0),
      "y_true": Quantity(.target, layer: 0), "T": Quantity(.target, layer: 0),
      "W1": Quantity(.weight, layer: 1), "w_2": Quantity(.weight, layer: 2),
      "b3": Quantity(.bias, layer: 3), "dW1": Quantity(.weightGradient, layer: 1),
      "W2_grad": Quantity(.weightGradient, layer: 2),
      "grad_W3": Quantity(.weightGradient, layer: 3),
      "db2": Quantity(.biasGradient, layer: 2), "b1_grad": Quantity(.biasGradient, layer: 1),
      "delta2": Quantity(.delta, layer: 2), "dz1": Quantity(.delta, layer: 1),
      "z1": Quantity(.preActivation, layer: 1), "a2": Quantity(.activation, layer: 2),
      "h1": Quantity(.activation, layer: 1), "dh1": Quantity(.activationGradient, layer: 1),
      "y_pred": Quantity(.activation, layer: 3), "out": Quantity(.activation, layer: 3),
      "W1_new": Quantity(.updatedWeight, layer: 1), "W2_after": Quantity(.updatedWeight, layer: 2),
      "new_b1": Quantity(.updatedBias, layer: 1), "dzo": Quantity(.delta, layer: 3),
      "loss": nil, "foo": nil, "W": nil, "delta_new1": nil,
    ]
    for (name, quantity) in expected {
      #expect(ArrayStepCheck.parse(name, layerCount: 3, base: 1) == quantity, "\(name)")
    }
    // Counting from zero, W0 is the first layer; names without a number mean the hidden layer
    // of a two-layer network.
    #expect(ArrayStepCheck.parse("W0", layerCount: 2, base: 0) == Quantity(.weight, layer: 1))
    #expect(ArrayStepCheck.parse("H", layerCount: 2, base: 1) == Quantity(.activation, layer: 1))
    #expect(
      ArrayStepCheck.parse("dh", layerCount: 2, base: 1) == Quantity(.activationGradient, layer: 1))
  }

  @Test func unrecognizedNamesAreListedNotGuessed() throws {
    let report = try check(try mazur(["loss": try NumPyArray(shape: [], values: [0.298371109])]))
    #expect(report.unrecognized == ["loss"])
    #expect(report.description.contains("not recognized, so not checked: loss"))
  }

  @Test func jsonOfNestedListsIsRead() throws {
    let json = Data(
      #"{"X": [[0.05, 0.1]], "b1": [0.35, 0.35], "eta": 0.5, "E": [[[1], [2]]]}"#.utf8)
    let arrays = try ArrayStepCheck.arrays(json: json, source: "step.json")
    #expect(arrays["X"]?.shape == [1, 2] && arrays["X"]?.values == [0.05, 0.1])
    #expect(arrays["b1"]?.shape == [2])
    #expect(arrays["eta"]?.shape == [] && arrays["eta"]?.values == [0.5])
    #expect(arrays["E"]?.shape == [1, 2, 1])
    expectError(containing: "step.json", "'W1'", "rows of equal length") {
      _ = try ArrayStepCheck.arrays(json: Data(#"{"W1": [[1, 2], [3]]}"#.utf8), source: "step.json")
    }
    expectError(containing: "step.json", "JSON object") {
      _ = try ArrayStepCheck.arrays(json: Data("[1, 2]".utf8), source: "step.json")
    }
  }

  @Test func missingOrMisfittingArraysAreRefusedByName() throws {
    var arrays = try mazur()
    arrays["X"] = nil
    expectError(containing: "no array named X") { _ = try check(arrays) }
    expectError(containing: "W2", "does not take the 2 values") {
      _ = try check(
        try mazur(["W2": try NumPyArray(shape: [3, 3], values: Array(repeating: 0, count: 9))]))
    }
    expectError(containing: "3 given for 2 layers") {
      _ = try ArrayStepCheck(
        arrays: try mazur(), activations: ["sigmoid", "sigmoid", "tanh"], loss: .halfSumOfSquares,
        learningRate: 0.5)
    }
    expectError(containing: "softmax", "last") {
      _ = try ArrayStepCheck(
        arrays: try mazur(), activations: ["softmax", "sigmoid"], loss: .crossEntropy,
        learningRate: 0.5)
    }
    expectError(containing: "W1_new", "--learning-rate") {
      _ = try ArrayStepCheck(
        arrays: try mazur(), activations: ["sigmoid", "sigmoid"], loss: .halfSumOfSquares,
        learningRate: nil)
    }
    expectError(containing: "'Y' and 'y'", "keep one") {
      _ = try check(try mazur(["y": try NumPyArray(shape: [1, 2], values: [0.01, 0.99])]))
    }
  }

  @Test func theJSONReportNamesTheFirstMismatchAndItsBug() throws {
    let uphill = try NumPyArray(
      shape: [2, 2], values: [0.44108352, 0.491333814, 0.48869873, 0.538629879])
    let data = try check(try mazur(["W2_new": uphill])).json()
    let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    let first = try #require(object["first_mismatch"] as? [String: Any])
    #expect(first["name"] as? String == "W2_new")
    #expect(first["bug"] as? String == "wrong-sign")
    #expect(object["all_agree"] as? Bool == false)
    #expect(Set(ArrayStepCheck.Bug.allCases.map(\.rawValue)).count == 12)
  }
}
