import Foundation

/// The one error type of the library: every case names the operation and the values that caused it.
///
/// Backprop never traps on bad input. Shapes that do not fit, arguments out of range and
/// non-finite losses are reported through this error, with a message meant for the person who
/// wrote the model, not for the library's author.
public enum BackpropError: Error, Equatable, CustomStringConvertible, LocalizedError {
  /// Two or more shapes cannot be combined by `operation`; `detail` says why.
  case shapeMismatch(operation: String, shapes: [[Int]], detail: String)
  /// A shape is not valid on its own (a negative dimension, too many elements, a wrong rank).
  case invalidShape(shape: [Int], detail: String)
  /// An argument (a hyper-parameter, an axis, a value list) is out of range.
  case invalidArgument(name: String, detail: String)
  /// The loss became NaN or infinite; training stopped before the update, so the weights are the
  /// last good ones. `epoch` counts from 1 where the caller knows it.
  case nonFiniteLoss(value: Double, epoch: Int?)
  /// Differentiation was asked for something it cannot do (such as `backward()` from a tensor
  /// with more than one element).
  case notDifferentiable(detail: String)
  /// A file or data source cannot be read as what it claims to be. `source` names the file,
  /// `location` the line, column or byte offset where the problem is (when there is one), and
  /// `detail` the problem.
  case malformedData(source: String, location: String?, detail: String)
  /// A file cannot be read or written; `detail` gives the system's reason.
  case fileError(path: String, detail: String)

  /// A sentence that names the problem and the values involved.
  public var description: String {
    switch self {
    case .shapeMismatch(let operation, let shapes, let detail):
      let list = shapes.map(Self.format).joined(separator: " and ")
      return "\(operation): shapes \(list) do not fit: \(detail)"
    case .invalidShape(let shape, let detail):
      return "invalid shape \(Self.format(shape)): \(detail)"
    case .invalidArgument(let name, let detail):
      return "invalid \(name): \(detail)"
    case .nonFiniteLoss(let value, let epoch):
      let place = epoch.map { " in epoch \($0)" } ?? ""
      return "the loss became \(value)\(place); training stopped before the update, so the "
        + "weights are the last good ones (lower the learning rate, or scale the inputs)"
    case .notDifferentiable(let detail):
      return "cannot differentiate: \(detail)"
    case .fileError(let path, let detail):
      return "\(path): \(detail)"
    case .malformedData(let source, let location, let detail):
      return "\(source)\(location.map { ", \($0)" } ?? ""): \(detail)"
    }
  }

  /// The same text as ``description``, for `LocalizedError` consumers.
  public var errorDescription: String? { description }

  static func format(_ shape: [Int]) -> String {
    "[" + shape.map(String.init).joined(separator: ", ") + "]"
  }
}
