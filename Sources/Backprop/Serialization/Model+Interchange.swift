import Foundation

/// What a model needs beyond its weights, as string metadata that travels with them in
/// safetensors (`__metadata__`) and ONNX (`metadata_props`) files, so that a program in another
/// language can use the weights as `backprop predict` does.
///
/// | key | value |
/// | --- | --- |
/// | `backprop.activations` | the activation after each Linear layer, in order: `tanh,identity` |
/// | `backprop.loss` | the training loss: `cross-entropy` (outputs are logits; apply softmax), `binary-cross-entropy`, `mse`, `half-sum-of-squares` |
/// | `backprop.features` | the feature names, in input order, as a JSON array |
/// | `backprop.classes` | a classifier's class names, one per output, as a JSON array |
/// | `backprop.target-column` | the column that held a classifier's classes |
/// | `backprop.targets` | a regressor's target columns, one per output, as a JSON array |
/// | `backprop.scaling` | `{"method", "offsets", "scales"}`: the network takes (x − offsets) / scales |
/// | `backprop.missing` | `{"strategy", "values"}`: a missing feature j (NaN) becomes values[j] |
///
/// The missing-value fill comes first, then the scaling, then the layers.
public enum InterchangeMetadata {
  /// The key of the activation list.
  public static let activations = "backprop.activations"
  /// The key of the loss.
  public static let loss = "backprop.loss"
  /// The key of the feature names.
  public static let features = "backprop.features"
  /// The key of a classifier's class names.
  public static let classes = "backprop.classes"
  /// The key of a classifier's target column.
  public static let targetColumn = "backprop.target-column"
  /// The key of a regressor's target columns.
  public static let targets = "backprop.targets"
  /// The key of the feature scaling.
  public static let scaling = "backprop.scaling"
  /// The key of the regression targets' standardization (outputs are y · scales + offsets).
  public static let targetScaling = "backprop.target-scaling"
  /// The key of the missing-value fill.
  public static let missing = "backprop.missing"
}

extension Model {
  /// The model's ``InterchangeMetadata`` (no activation list when the network is not a chain of
  /// Linear layers each followed by at most one element-wise activation).
  public var interchangeMetadata: [String: String] {
    func json(_ value: some Encodable) -> String {
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
      return (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }
    var metadata = [
      InterchangeMetadata.loss: loss.rawValue, InterchangeMetadata.features: json(featureNames),
    ]
    if let activations = Self.activationNames(of: network) {
      metadata[InterchangeMetadata.activations] = activations.joined(separator: ",")
    }
    switch targetKind {
    case .classification(let column, let names):
      metadata[InterchangeMetadata.classes] = json(names)
      metadata[InterchangeMetadata.targetColumn] = column
    case .regression(let columns):
      metadata[InterchangeMetadata.targets] = json(columns)
    }
    if let scaling { metadata[InterchangeMetadata.scaling] = json(scaling) }
    if let targetScaling { metadata[InterchangeMetadata.targetScaling] = json(targetScaling) }
    if let missingValues { metadata[InterchangeMetadata.missing] = json(missingValues) }
    return metadata
  }

  /// The activation after each Linear layer (dropout, an identity at inference, left out), or
  /// nil when the network has a layer before its first Linear or two activations in a row.
  static func activationNames(of network: Sequential<Scalar>) -> [String]? {
    var names: [String?] = []
    for layer in network.layers where !(layer is Dropout<Scalar>) {
      let specification = try? LayerSpecification(layer)
      if layer is Linear<Scalar> {
        names.append(nil)
      } else if let type = specification?.type, let last = names.indices.last, names[last] == nil {
        // The slope as the layer's own scalar type prints it: 0.01, not 0.009999999776.
        names[last] =
          type == "leaky-relu" ? "leaky-relu:\(Scalar(specification?.slope ?? 0.01))" : type
      } else {
        return nil
      }
    }
    return names.map { $0 ?? "identity" }
  }

  /// A model from the Linear layers of another framework's file (weights `[out, in]`, as PyTorch
  /// stores them), the activation after each, and what the file's ``InterchangeMetadata`` says,
  /// where `activations`, `loss`, `classNames`, `scaling` and `missingValues` do not say
  /// otherwise.
  ///
  /// A classifier trained with cross-entropy whose last activation is `softmax` keeps its logits
  /// (the softmax is where ``predict(_:)->Tensor<Scalar>`` puts it); without a loss, a softmax at the end makes a
  /// cross-entropy classifier and anything else a regressor (`mse`). Missing names become
  /// `x0`, `x1`, … for features, `0`, `1`, … for classes and `y`, `y0`, … for targets.
  ///
  /// - Throws: ``BackpropError/malformedData(source:location:detail:)`` naming `source` and the
  ///   layer or key that does not fit: activations that are not one per Linear layer, an unknown
  ///   activation, weights that do not chain or are not finite, metadata that cannot be read.
  public init(
    importing linears: [(name: String, weights: [[Double]], bias: [Double]?)],
    activations: [String]?, loss: LossFunction?, classNames: [String]?,
    scaling: FeatureScaling? = nil, targetScaling: FeatureScaling? = nil,
    missingValues: MissingValueFill? = nil, metadata: [String: String], source: String
  ) throws {
    func fail(_ location: String?, _ detail: String) -> BackpropError {
      .malformedData(source: source, location: location, detail: detail)
    }
    func decoded<Value: Decodable>(_ key: String, as type: Value.Type) throws -> Value? {
      guard let text = metadata[key] else { return nil }
      do {
        return try JSONDecoder().decode(Value.self, from: Data(text.utf8))
      } catch let error as BackpropError {
        throw fail("metadata \(key)", "\(error)")
      } catch {
        throw fail("metadata \(key)", "'\(text.prefix(80))' is not the JSON it should be")
      }
    }
    let activations =
      activations
      ?? metadata[InterchangeMetadata.activations].map { $0.split(separator: ",").map(String.init) }
    guard let activations else {
      throw fail(
        nil,
        "the file does not say which activation follows each of its \(linears.count) Linear "
          + "layers; give them (--activations tanh,identity)")
    }
    guard activations.count == linears.count else {
      throw fail(
        nil,
        "\(activations.count) activations (\(activations.joined(separator: ","))) for "
          + "\(linears.count) Linear layers (\(linears.map(\.name).joined(separator: ", "))): "
          + "give one per Linear layer")
    }
    let lossName = metadata[InterchangeMetadata.loss]
    let loss =
      try loss ?? lossName.map { name in
        do { return try LossFunction(named: name) } catch {
          throw fail("metadata \(InterchangeMetadata.loss)", "\(error)")
        }
      } ?? (activations.last == "softmax" ? .crossEntropy : .meanSquaredError)
    var layers: [any Layer<Scalar>] = []
    for (index, (linear, activation)) in zip(linears, activations).enumerated() {
      let specification = LayerSpecification(
        type: "linear", inputSize: linear.weights.first?.count, outputSize: linear.weights.count,
        weights: linear.weights, bias: linear.bias)
      layers.append(
        try specification.makeLayer(as: Scalar.self, source: source, location: linear.name))
      let isLast = index == linears.count - 1
      if isLast && activation == "softmax" && loss == .crossEntropy { continue }
      if activation == "softmax" && !isLast {
        throw fail(linear.name, "softmax can only follow the last Linear layer")
      }
      let (type, slope) = Self.activation(named: activation)
      guard ["sigmoid", "tanh", "relu", "leaky-relu", "softmax", "identity"].contains(type) else {
        throw fail(
          linear.name,
          "unknown activation '\(activation)'; known: sigmoid, tanh, relu, leaky-relu, softmax, "
            + "identity")
      }
      if type != "identity" {
        layers.append(
          try LayerSpecification(type: type, slope: slope).makeLayer(
            as: Scalar.self, source: source, location: linear.name))
      }
    }
    let network: Sequential<Scalar>
    do { network = try Sequential(layers) } catch { throw fail(nil, "\(error)") }
    let (inputs, outputs) = (network.inputSize ?? 0, network.outputSize ?? 0)
    let featureNames =
      try decoded(InterchangeMetadata.features, as: [String].self)
      ?? (0..<inputs).map { "x\($0)" }
    let targetKind: TargetKind
    if loss == .crossEntropy || loss == .binaryCrossEntropy {
      targetKind = .classification(
        column: metadata[InterchangeMetadata.targetColumn] ?? "class",
        classNames: try classNames ?? decoded(InterchangeMetadata.classes, as: [String].self)
          ?? (0..<outputs).map(String.init))
    } else {
      targetKind = .regression(
        columns: try decoded(InterchangeMetadata.targets, as: [String].self)
          ?? (outputs == 1 ? ["y"] : (0..<outputs).map { "y\($0)" }))
    }
    do {
      try self.init(
        network: network, featureNames: featureNames, targetKind: targetKind,
        scaling: scaling ?? decoded(InterchangeMetadata.scaling, as: FeatureScaling.self),
        targetScaling: targetScaling
          ?? decoded(InterchangeMetadata.targetScaling, as: FeatureScaling.self),
        missingValues: missingValues
          ?? decoded(InterchangeMetadata.missing, as: MissingValueFill.self),
        loss: loss, metadata: ["imported from": source])
    } catch let error as BackpropError {
      if case .malformedData = error { throw error }
      throw fail(nil, "\(error)")
    }
  }

  /// An activation name of ``interchangeMetadata`` split into its layer type and, for
  /// `leaky-relu:SLOPE`, its slope.
  static func activation(named name: String) -> (type: String, slope: Double?) {
    let parts = name.split(separator: ":", maxSplits: 1).map(String.init)
    return (parts.first ?? name, parts.count > 1 ? Double(parts[1]) : nil)
  }
}

extension Model {
  /// The network's parameters as ``Sequential/safeTensors(metadata:)`` names them, with the
  /// model's ``interchangeMetadata``, which is what `backprop train --weights` writes.
  public func safeTensors() -> SafeTensors {
    network.safeTensors(
      metadata: interchangeMetadata.merging(
        ["format": "pt", "backprop-model": "sequential"], uniquingKeysWith: { $1 }))
  }

  /// A model from a PyTorch `nn.Sequential` state dict saved as safetensors (`0.weight`,
  /// `0.bias`, `2.weight`, …; any prefix, such as `net.0.weight` or `fc1.weight`, is ordered by
  /// its numbers), with its ``InterchangeMetadata`` where `activations`, `loss` and
  /// `classNames` do not say otherwise; see ``init(importing:activations:loss:classNames:scaling:targetScaling:missingValues:metadata:source:)``.
  ///
  /// - Throws: ``BackpropError/malformedData(source:location:detail:)`` naming the tensor that
  ///   is neither a 2-D weight nor its layer's 1-D bias (a BatchNorm's running mean, a
  ///   convolution's kernel), and as that initializer.
  public init(
    safeTensors file: SafeTensors, activations: [String]?, loss: LossFunction?,
    classNames: [String]?, source: String
  ) throws {
    func fail(_ name: String, _ detail: String) -> BackpropError {
      .malformedData(source: source, location: "tensor '\(name)'", detail: detail)
    }
    var layers: [String: (weight: SafeTensors.Entry?, bias: SafeTensors.Entry?)] = [:]
    for name in file.names {
      guard let entry = file[name] else { continue }
      let (layer, part) =
        name.lastIndex(of: ".").map {
          (String(name[..<$0]), String(name[name.index(after: $0)...]))
        }
        ?? ("", name)
      switch part {
      case "weight" where entry.shape.count == 2:
        layers[layer, default: (nil, nil)].weight = entry
      case "bias" where entry.shape.count == 1:
        layers[layer, default: (nil, nil)].bias = entry
      default:
        throw fail(
          name,
          "of shape \(entry.shape) is not a Linear layer's 2-D weight or 1-D bias; only an MLP "
            + "(nn.Sequential of nn.Linear and activations) can be imported")
      }
    }
    guard !layers.isEmpty else {
      throw BackpropError.malformedData(
        source: source, location: nil, detail: "the file holds no tensors")
    }
    let linears = try layers.keys.sorted(by: Self.naturalOrder).map { name in
      guard let weight = layers[name]?.weight else {
        throw fail("\(name).bias", "has no '\(name).weight' beside it")
      }
      let (outputs, inputs) = (weight.shape[0], weight.shape[1])
      let bias = layers[name]?.bias
      if let bias, bias.shape != [outputs] {
        throw fail(
          "\(name).bias", "has shape \(bias.shape) but '\(name).weight' has \(outputs) outputs")
      }
      return (
        name: "\(name).weight",
        weights: (0..<outputs).map { Array(weight.values[($0 * inputs)..<(($0 + 1) * inputs)]) },
        bias: bias?.values
      )
    }
    try self.init(
      importing: linears, activations: activations, loss: loss, classNames: classNames,
      metadata: file.metadata, source: source)
  }

  /// Orders names as a person numbers layers: `2` before `10`, `fc2` before `fc10`.
  static func naturalOrder(_ lhs: String, _ rhs: String) -> Bool {
    func parts(_ name: String) -> [(text: String, number: Int?)] {
      var result: [(String, Int?)] = []
      var current = ""
      for character in name {
        if let last = current.last, last.isNumber != character.isNumber {
          result.append((current, Int(current)))
          current = ""
        }
        current.append(character)
      }
      if !current.isEmpty { result.append((current, Int(current))) }
      return result
    }
    for (left, right) in zip(parts(lhs), parts(rhs)) where left.text != right.text {
      if let a = left.number, let b = right.number { return a < b }
      return left.text < right.text
    }
    return parts(lhs).count < parts(rhs).count
  }
}
