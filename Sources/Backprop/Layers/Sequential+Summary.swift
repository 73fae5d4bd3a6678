extension Sequential {
  /// A table of the layers as Keras' `model.summary()` prints it: each layer with its output
  /// shape (`None` for the batch), its number of parameters and how many of them train, then
  /// the totals.
  ///
  /// ```
  /// Layer                                                 Output shape   Parameters   Trainable
  /// (0) Linear(inputSize: 4, outputSize: 32, bias: true)  (None, 32)            160         160
  /// (1) ReLU                                              (None, 32)              0           0
  /// ...
  /// Total: 259 parameters (259 trainable, 0 frozen)
  /// ```
  public var summaryTable: String {
    var width = inputSize.map(String.init) ?? "?"
    var rows: [[String]] = [["Layer", "Output shape", "Parameters", "Trainable"]]
    var (total, trainable) = (0, 0)
    for (index, layer) in layers.enumerated() {
      if let size = layer.outputSize { width = String(size) }
      let parameters = layer.namedParameters.map(\.parameter)
      let count = parameters.reduce(0) { $0 + $1.value.count }
      let training = parameters.filter(\.requiresGradient).reduce(0) { $0 + $1.value.count }
      (total, trainable) = (total + count, trainable + training)
      rows.append(["(\(index)) \(layer)", "(None, \(width))", String(count), String(training)])
    }
    let widths = (0..<4).map { column in rows.map { $0[column].count }.max() ?? 0 }
    let lines = rows.map { row in
      row.enumerated().map { column, cell in
        let padding = String(repeating: " ", count: widths[column] - cell.count)
        return column < 2 ? cell + padding : padding + cell
      }.joined(separator: "   ")
    }
    return
      (lines + ["Total: \(total) parameters (\(trainable) trainable, \(total - trainable) frozen)"])
      .joined(separator: "\n")
  }

  /// The network's outputs for `input` (`[count, inputs]`) in inference mode, without recording
  /// gradients: logits or values, as the last layer gives them.
  ///
  /// - Throws: ``BackpropError`` when the input does not fit the first layer.
  public func predict(_ input: Tensor<Scalar>) throws -> Tensor<Scalar> {
    try GradientRecording.withoutRecording { try self(Variable(input)).value }
  }

  /// ``predict(_:)->Tensor<Scalar>`` of rows of inputs, row by row.
  ///
  /// - Throws: ``BackpropError`` when the rows differ in length or do not fit the first layer.
  public func predict(_ rows: [[Scalar]]) throws -> [[Scalar]] {
    let output = try predict(try Tensor(rows))
    let width = output.rank == 2 ? output.shape[1] : 1
    let values = output.scalars
    return stride(from: 0, to: values.count, by: width).map { Array(values[$0..<($0 + width)]) }
  }
}
