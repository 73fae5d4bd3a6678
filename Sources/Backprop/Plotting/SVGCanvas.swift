import Foundation

/// A picture being drawn as SVG: shapes and text appended in order, with every number written
/// to two decimals, so the same drawing always gives the same bytes.
public struct SVGCanvas: Sendable, Equatable {
  /// The width in pixels.
  public let width: Double
  /// The height in pixels.
  public let height: Double
  /// Extra attributes of the root element (`data-…` facts about the plot for tools and tests).
  public var attributes: [(name: String, value: String)] = []
  private var elements: [String] = []

  /// An empty canvas with a white background.
  public init(width: Double = 800, height: Double = 600) {
    self.width = width
    self.height = height
    rectangle(x: 0, y: 0, width: width, height: height, fill: "#ffffff")
  }

  /// Equal when the SVG text is equal.
  public static func == (lhs: SVGCanvas, rhs: SVGCanvas) -> Bool { lhs.svg == rhs.svg }

  /// A number as SVG writes it: at most two decimals, no trailing zeros, never `-0`.
  static func number(_ value: Double) -> String {
    guard value.isFinite else { return "0" }
    let rounded = (value * 100).rounded() / 100
    if rounded == rounded.rounded() { return String(Int(rounded)) }
    var text = String(format: "%.2f", rounded)
    while text.hasSuffix("0") { text.removeLast() }
    return text
  }

  /// Text with the XML special characters escaped.
  static func escaped(_ text: String) -> String {
    text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
      .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
  }

  /// Appends a rectangle.
  public mutating func rectangle(
    x: Double, y: Double, width: Double, height: Double, fill: String, stroke: String? = nil,
    opacity: Double? = nil, className: String? = nil
  ) {
    var attributes = [
      ("x", Self.number(x)), ("y", Self.number(y)), ("width", Self.number(width)),
      ("height", Self.number(height)), ("fill", fill),
    ]
    if let stroke { attributes.append(("stroke", stroke)) }
    if let opacity { attributes.append(("fill-opacity", Self.number(opacity))) }
    if let className { attributes.append(("class", className)) }
    append("rect", attributes)
  }

  /// Appends a straight line.
  public mutating func line(
    from start: (Double, Double), to end: (Double, Double), stroke: String, width: Double = 1,
    opacity: Double? = nil, className: String? = nil
  ) {
    var attributes = [
      ("x1", Self.number(start.0)), ("y1", Self.number(start.1)), ("x2", Self.number(end.0)),
      ("y2", Self.number(end.1)), ("stroke", stroke), ("stroke-width", Self.number(width)),
    ]
    if let opacity { attributes.append(("stroke-opacity", Self.number(opacity))) }
    if let className { attributes.append(("class", className)) }
    append("line", attributes)
  }

  /// Appends a polyline through `points`; `dashed` draws it dashed.
  public mutating func polyline(
    _ points: [(Double, Double)], stroke: String, width: Double = 2, dashed: Bool = false,
    className: String? = nil
  ) {
    let list = points.map { Self.number($0.0) + "," + Self.number($0.1) }.joined(separator: " ")
    var attributes = [
      ("points", list), ("fill", "none"), ("stroke", stroke), ("stroke-width", Self.number(width)),
    ]
    if dashed { attributes.append(("stroke-dasharray", "6,4")) }
    if let className { attributes.append(("class", className)) }
    append("polyline", attributes)
  }

  /// Appends a circle; each of `data` becomes a `data-KEY` attribute, for scripts to read.
  public mutating func circle(
    center: (Double, Double), radius: Double, fill: String, stroke: String = "#ffffff",
    strokeWidth: Double = 1, className: String? = nil, data: KeyValuePairs<String, String> = [:]
  ) {
    var attributes = [
      ("cx", Self.number(center.0)), ("cy", Self.number(center.1)), ("r", Self.number(radius)),
      ("fill", fill), ("stroke", stroke), ("stroke-width", Self.number(strokeWidth)),
    ]
    if let className { attributes.append(("class", className)) }
    attributes += data.map { ("data-" + $0.key, $0.value) }
    append("circle", attributes)
  }

  /// How text is placed relative to its point.
  public enum Anchor: String, Sendable {
    /// The point is the start of the text.
    case start
    /// The point is the middle of the text.
    case middle
    /// The point is the end of the text.
    case end
  }

  /// Appends text at a point (its baseline), optionally rotated about that point.
  public mutating func text(
    _ content: String, at point: (Double, Double), size: Double = 13, anchor: Anchor = .start,
    weight: String? = nil, rotation: Double? = nil, fill: String = "#222222",
    className: String? = nil
  ) {
    var attributes = [
      ("x", Self.number(point.0)), ("y", Self.number(point.1)),
      ("font-family", "DejaVu Sans, Helvetica, Arial, sans-serif"),
      ("font-size", Self.number(size)), ("text-anchor", anchor.rawValue), ("fill", fill),
    ]
    if let weight { attributes.append(("font-weight", weight)) }
    if let rotation {
      attributes.append(
        (
          "transform",
          "rotate(\(Self.number(rotation)) \(Self.number(point.0)) \(Self.number(point.1)))"
        ))
    }
    if let className { attributes.append(("class", className)) }
    append("text", attributes, content: Self.escaped(content))
  }

  /// Draws `other` scaled into the rectangle at (x, y) of the given size.
  public mutating func embed(
    _ other: SVGCanvas, x: Double, y: Double, width: Double, height: Double
  ) {
    elements.append(
      "<svg x=\"\(Self.number(x))\" y=\"\(Self.number(y))\" width=\"\(Self.number(width))\" "
        + "height=\"\(Self.number(height))\" viewBox=\"0 0 \(Self.number(other.width)) "
        + "\(Self.number(other.height))\">")
    elements += other.elements
    elements.append("</svg>")
  }

  private mutating func append(
    _ name: String, _ attributes: [(String, String)], content: String? = nil
  ) {
    let list = attributes.map { " \($0)=\"\(Self.escaped($1))\"" }.joined()
    elements.append(content.map { "<\(name)\(list)>\($0)</\(name)>" } ?? "<\(name)\(list)/>")
  }

  /// The SVG document.
  public var svg: String {
    let extra = attributes.map { " \($0.name)=\"\(Self.escaped($0.value))\"" }.joined()
    return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      + "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Self.number(width))\" "
      + "height=\"\(Self.number(height))\" viewBox=\"0 0 \(Self.number(width)) \(Self.number(height))\"\(extra)>\n"
      + elements.joined(separator: "\n") + "\n</svg>\n"
  }

  /// Writes the picture atomically as SVG.
  ///
  /// - Throws: as ``fileData(for:)``, and ``BackpropError/fileError(path:detail:)``.
  public func write(to url: URL) throws {
    try AtomicFile.write(try fileData(for: url), to: url)
  }

  /// The bytes of a picture file named `url`, which must end in `.svg`: the library draws SVG,
  /// and leaves rendering it to pixels to a program made for that (`backprop plot` writes PNG
  /// with rsvg-convert or Chromium).
  ///
  /// - Throws: ``BackpropError/invalidArgument(name:detail:)`` for another extension.
  public func fileData(for url: URL) throws -> Data {
    guard url.pathExtension.lowercased() == "svg" else {
      throw BackpropError.invalidArgument(
        name: "picture file '\(url.lastPathComponent)'",
        detail: "the name must end in .svg (`backprop plot` also writes .png)")
    }
    return Data(svg.utf8)
  }
}
