/// Printing tensors as nested, aligned rows, as NumPy and PyTorch do.
extension Tensor: CustomStringConvertible, CustomDebugStringConvertible {
  /// The elements as nested brackets, one row per line, e.g. `[[1.0, 2.0], [3.0, 4.0]]`.
  public var description: String {
    let texts = scalars.map { "\($0)" }
    let width = texts.map(\.count).max() ?? 0
    let padded = texts.map { String(repeating: " ", count: width - $0.count) + $0 }
    if rank == 0 { return texts.first ?? "" }
    var position = 0
    func render(_ axis: Int) -> String {
      if axis == rank - 1 {
        let row = padded[position..<(position + shape[axis])]
        position += shape[axis]
        return "[" + row.joined(separator: ", ") + "]"
      }
      let separator =
        "," + String(repeating: "\n", count: rank - 1 - axis)
        + String(repeating: " ", count: axis + 1)
      return "[" + (0..<shape[axis]).map { _ in render(axis + 1) }.joined(separator: separator)
        + "]"
    }
    return render(0)
  }

  /// The scalar type and shape, then the elements.
  public var debugDescription: String {
    "Tensor<\(Scalar.self)>(shape: \(BackpropError.format(shape)))\n\(description)"
  }
}
