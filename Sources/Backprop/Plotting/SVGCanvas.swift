import Foundation

/// A picture being drawn as SVG: shapes and text appended in order, with every number written
/// to one decimal, so the same drawing always gives the same bytes.
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

  /// A number as SVG writes it: at most one decimal (a tenth of a pixel is below what any
  /// screen shows, and a playground frame holds thousands of numbers), never `-0`.
  static func number(_ value: Double) -> String {
    guard value.isFinite else { return "0" }
    let rounded = (value * 10).rounded() / 10
    if rounded == rounded.rounded() { return String(Int(rounded)) }
    return String(format: "%.1f", rounded)
  }

  /// Text with the XML special characters escaped, quotes of both kinds included.
  static func escaped(_ text: String) -> String {
    text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
      .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
      .replacingOccurrences(of: "'", with: "&#39;")
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

  /// Appends a straight line; each of `data` becomes a `data-KEY` attribute.
  public mutating func line(
    from start: (Double, Double), to end: (Double, Double), stroke: String, width: Double = 1,
    opacity: Double? = nil, className: String? = nil, data: KeyValuePairs<String, String> = [:]
  ) {
    var attributes = [
      ("x1", Self.number(start.0)), ("y1", Self.number(start.1)), ("x2", Self.number(end.0)),
      ("y2", Self.number(end.1)), ("stroke", stroke), ("stroke-width", Self.number(width)),
    ]
    if let opacity { attributes.append(("stroke-opacity", Self.number(opacity))) }
    if let className { attributes.append(("class", className)) }
    append("line", attributes, data: data)
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
    append("circle", attributes, data: data)
  }

  /// Appends points of one style as circles in a group that carries the style once, which keeps
  /// a scatter of thousands of points small.
  public mutating func points(
    _ centres: [(Double, Double)], radius: Double, fill: String, stroke: String = "#333333",
    className: String? = nil
  ) {
    guard !centres.isEmpty else { return }
    var attributes = [("fill", fill), ("stroke", stroke)]
    if let className { attributes.append(("class", className)) }
    let r = Self.number(radius)
    elements.append(
      "<g\(Self.attributeList(attributes))>"
        + centres.map { "<circle cx='\(Self.number($0.0))' cy='\(Self.number($0.1))' r='\(r)'/>" }
        .joined() + "</g>")
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
      ("font-size", Self.number(size)),
    ]
    // The root's fill is the text colour.
    if fill != "#222222" { attributes.append(("fill", fill)) }
    // `start` is SVG's default.
    if anchor != .start { attributes.append(("text-anchor", anchor.rawValue)) }
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

  /// Appends a raster image stretched over the rectangle at (x, y); the viewer smooths it as it
  /// scales it. Each of `data` becomes a `data-KEY` attribute.
  ///
  /// - Throws: as ``PNGImage/pngData()``.
  public mutating func image(
    _ image: PNGImage, x: Double, y: Double, width: Double, height: Double,
    className: String? = nil, data: KeyValuePairs<String, String> = [:]
  ) throws {
    var attributes = [
      ("x", Self.number(x)), ("y", Self.number(y)), ("width", Self.number(width)),
      ("height", Self.number(height)), ("preserveAspectRatio", "none"),
      ("href", try image.dataURI()),
    ]
    if let className { attributes.append(("class", className)) }
    append("image", attributes, data: data)
  }

  /// Draws `other` scaled into the rectangle at (x, y) of the given size.
  public mutating func embed(
    _ other: SVGCanvas, x: Double, y: Double, width: Double, height: Double
  ) {
    elements.append(
      "<svg x='\(Self.number(x))' y='\(Self.number(y))' width='\(Self.number(width))' "
        + "height='\(Self.number(height))' viewBox='0 0 \(Self.number(other.width)) "
        + "\(Self.number(other.height))'>")
    elements += other.elements
    elements.append("</svg>")
  }

  /// Appends an element; each of `data` becomes a `data-KEY` attribute after `attributes`.
  private mutating func append(
    _ name: String, _ attributes: [(String, String)], data: KeyValuePairs<String, String> = [:],
    content: String? = nil
  ) {
    let list = Self.attributeList(attributes + data.map { ("data-" + $0.key, $0.value) })
    elements.append(content.map { "<\(name)\(list)>\($0)</\(name)>" } ?? "<\(name)\(list)/>")
  }

  /// Attributes as ` name='value'`: single quotes, which JSON (the playground's frames) carries
  /// without escaping, where double quotes would each cost a backslash.
  private static func attributeList(_ attributes: [(String, String)]) -> String {
    attributes.map { " \($0)='\(escaped($1))'" }.joined()
  }

  /// The SVG document.
  public var svg: String {
    let extra = attributes.map { " \($0.name)=\"\(Self.escaped($0.value))\"" }.joined()
    return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      + "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"\(Self.number(width))\" "
      + "height=\"\(Self.number(height))\" viewBox=\"0 0 \(Self.number(width)) \(Self.number(height))\" "
      // Set once for every text, which inherits them (every shape sets its own fill).
      + "font-family=\"DejaVu Sans, Helvetica, Arial, sans-serif\" fill=\"#222222\"\(extra)>\n"
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
