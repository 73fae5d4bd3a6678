import Foundation

/// A hidden layer of a perceptron as `backprop train` and the playground take it: its size and,
/// when it differs from the run's activation, its own activation. Written `64` or `64:tanh`.
public struct HiddenLayer: Codable, Equatable, Sendable, CustomStringConvertible {
  /// The number of units.
  public var size: Int
  /// The activation after it; `nil` is the run's `--activation`.
  public var activation: ActivationFunction?

  /// A layer of `size` units, followed by `activation` (nil: the run's).
  public init(size: Int, activation: ActivationFunction? = nil) {
    self.size = size
    self.activation = activation
  }

  /// `64` or `64:tanh`; `nil` for anything else.
  public init?(parsing text: String) {
    let parts = text.split(separator: ":", omittingEmptySubsequences: false).map {
      $0.trimmingCharacters(in: .whitespaces)
    }
    guard (1...2).contains(parts.count), let size = Int(parts[0]), size > 0 else { return nil }
    self.size = size
    if parts.count == 2 {
      guard let activation = ActivationFunction(rawValue: parts[1].lowercased()) else { return nil }
      self.activation = activation
    }
  }

  /// A number, or text such as `64:tanh`, in a spec file.
  public init(from decoder: any Decoder) throws {
    let container = try decoder.singleValueContainer()
    if let size = try? container.decode(Int.self), size > 0 {
      self.init(size: size)
      return
    }
    let text = try container.decode(String.self)
    guard let layer = HiddenLayer(parsing: text) else {
      throw DecodingError.dataCorruptedError(
        in: container,
        debugDescription: "a layer is a positive size or SIZE:ACTIVATION, not '\(text)'")
    }
    self = layer
  }

  /// `64` or `64:tanh`, as ``init(parsing:)`` reads it.
  public var description: String { activation.map { "\(size):\($0.rawValue)" } ?? String(size) }

  /// The size alone, or `SIZE:ACTIVATION`.
  public func encode(to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    if activation != nil {
      try container.encode(description)
    } else {
      try container.encode(size)
    }
  }
}
