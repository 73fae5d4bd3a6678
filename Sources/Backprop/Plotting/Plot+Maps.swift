import Foundation

extension Plot {
  /// The rectangle of the input plane a 2-D map covers: the data's range plus 10% on each side,
  /// as decision regions draw it, so that maps of the same data line up.
  public struct MapDomain: Sendable, Equatable {
    /// The range of the first feature.
    public var x: ClosedRange<Double>
    /// The range of the second feature.
    public var y: ClosedRange<Double>

    /// The domain of a data set's two features.
    ///
    /// - Throws: ``BackpropError/invalidArgument(name:detail:)`` unless the data have two
    ///   features.
    public init<Scalar: TensorScalar>(covering data: DataSet<Scalar>) throws {
      guard data.featureCount == 2 else {
        throw BackpropError.invalidArgument(
          name: "map of the input plane",
          detail: "needs two features; the data have \(data.featureCount)")
      }
      let points = data.features.scalars.map(Double.init)
      x = Self.widened(stride(from: 0, to: points.count, by: 2).map { points[$0] })
      y = Self.widened(stride(from: 1, to: points.count, by: 2).map { points[$0] })
    }

    private static func widened(_ values: [Double]) -> ClosedRange<Double> {
      let low = values.min() ?? 0
      let high = values.max() ?? 1
      let margin = max((high - low) * 0.1, 1e-6)
      return (low - margin)...(high + margin)
    }

    /// The centres of a `resolution` × `resolution` grid of cells, row by row from the top, as
    /// `[resolution², 2]` features.
    public func centres<Scalar: TensorScalar>(resolution: Int, as type: Scalar.Type = Scalar.self)
      -> Tensor<Scalar>
    {
      var centres: [Scalar] = []
      centres.reserveCapacity(2 * resolution * resolution)
      for row in 0..<resolution {
        let y =
          y.upperBound - (y.upperBound - y.lowerBound) * (Double(row) + 0.5)
          / Double(resolution)
        for column in 0..<resolution {
          let x =
            x.lowerBound + (x.upperBound - x.lowerBound) * (Double(column) + 0.5)
            / Double(resolution)
          centres += [Scalar(x), Scalar(y)]
        }
      }
      // The count is resolution² rows of 2, by construction.
      return (try? Tensor(shape: [resolution * resolution, 2], scalars: centres)) ?? Tensor(0)
    }
  }

  /// A canvas with the axes of a map of `data`'s two features over their ``MapDomain``, with no
  /// grid (the map covers it), after checking `resolution`.
  static func mapCanvas<Scalar: TensorScalar>(
    data: DataSet<Scalar>, resolution: Int, title: String, width: Double, height: Double
  ) throws -> (SVGCanvas, PlotFrame, MapDomain) {
    guard (2...400).contains(resolution) else {
      throw BackpropError.invalidArgument(
        name: "resolution", detail: "\(resolution) must be in 2...400")
    }
    let domain = try MapDomain(covering: data)
    var canvas = SVGCanvas(width: width, height: height)
    let frame = PlotFrame(canvas: canvas, xRange: domain.x, yRange: domain.y, exact: true)
    frame.drawAxes(
      on: &canvas, title: title, xLabel: data.featureNames[0], yLabel: data.featureNames[1],
      grid: false)
    return (canvas, frame, domain)
  }

  /// The colour of a value on TensorFlow Playground's scale: orange at −1, white at 0, blue at
  /// +1 (the colours of negative and positive weights), clamped beyond, in `levels` steps each
  /// way: at most 2 · `levels` + 1 colours, so that a map is a small palette image.
  public static func divergingColor(_ value: Double, levels: Int = 64) -> PNGImage.Color {
    let value = value.isFinite ? min(max(value, -1), 1) : 0
    let levels = Double(max(levels, 1))
    return PNGImage.Color.white.mixed(
      with: value < 0 ? negativeColor : positiveColor,
      share: (abs(value) * levels).rounded() / levels)
  }

  private static let positiveColor = PNGImage.Color(hex: color(0))
  private static let negativeColor = PNGImage.Color(hex: color(1))

  /// A map of `values` (row by row from the top, `width` × `height`), each divided by `scale`
  /// and coloured by ``divergingColor(_:levels:)``.
  ///
  /// - Throws: ``BackpropError/invalidArgument(name:detail:)`` when `values` do not fill the
  ///   image or the size is outside 1...4096.
  public static func valueMap(
    _ values: [Double], width: Int, height: Int, scale: Double, levels: Int = 64
  ) throws -> PNGImage {
    guard values.count == width * height else {
      throw BackpropError.invalidArgument(
        name: "value map", detail: "\(values.count) values do not fill \(width)×\(height) pixels")
    }
    var image = try PNGImage(width: width, height: height)
    let scale = scale > 0 && scale.isFinite ? scale : 1
    for (index, value) in values.enumerated() {
      image[index % width, index / width] = divergingColor(value / scale, levels: levels)
    }
    return image
  }

  /// A small picture of a curve: `values` at evenly spaced points from left to right, scaled so
  /// that ±`scale` reaches the top and bottom edges, drawn in the colour of its sign over a
  /// white ground with the zero line in grey.
  ///
  /// - Throws: ``BackpropError/invalidArgument(name:detail:)`` for fewer than two values or a
  ///   size outside 1...4096.
  public static func curveImage(_ values: [Double], width: Int, height: Int, scale: Double) throws
    -> PNGImage
  {
    guard values.count >= 2 else {
      throw BackpropError.invalidArgument(
        name: "curve image", detail: "needs two values or more, got \(values.count)")
    }
    var image = try PNGImage(width: width, height: height)
    let scale = scale > 0 && scale.isFinite ? scale : 1
    func row(_ value: Double) -> Int {
      let clamped = value.isFinite ? min(max(value / scale, -1), 1) : 0
      return min(height - 1, max(0, Int(((1 - clamped) / 2 * Double(height - 1)).rounded())))
    }
    let zero = row(0)
    for column in 0..<width { image[column, zero] = PNGImage.Color(hex: "#bbbbbb") }
    func value(at column: Int) -> Double {
      let position = Double(column) / Double(max(width - 1, 1)) * Double(values.count - 1)
      let index = min(Int(position), values.count - 2)
      return values[index] + (values[index + 1] - values[index]) * (position - Double(index))
    }
    var previous = row(value(at: 0))
    for column in 0..<width {
      let current = value(at: column)
      let here = row(current)
      // Fill from the previous row to this one, so that steep parts stay connected.
      for line in min(previous, here)...max(previous, here) {
        image[column, line] = divergingColor(current >= 0 ? 1 : -1)
      }
      previous = here
    }
    return image
  }

  /// A regression over two features: the prediction as a smooth map over the input plane, with
  /// the data drawn over it as points on the same colour scale (``divergingColor(_:levels:)``, ±
  /// the largest magnitude of the targets and predictions).
  ///
  /// The root element carries `data-plot-area` and `data-domain` as decision regions do.
  ///
  /// - Throws: ``BackpropError/invalidArgument(name:detail:)`` unless the data have two features
  ///   and one numeric target; errors of `predict`.
  public static func regressionMap<Scalar: TensorScalar>(
    data: DataSet<Scalar>, resolution: Int = 100, title: String = "Regression",
    width: Double = 800, height: Double = 600, predict: (Tensor<Scalar>) throws -> Tensor<Scalar>
  ) throws -> SVGCanvas {
    guard data.featureCount == 2, data.targetKind.classNames == nil, data.targetKind.width == 1
    else {
      throw BackpropError.invalidArgument(
        name: "regression map",
        detail: "needs two features and one numeric target; the data have \(data.featureCount) "
          + "feature(s)" + (data.targetKind.classNames == nil ? "" : " and classes"))
    }
    var (canvas, frame, domain) = try mapCanvas(
      data: data, resolution: resolution, title: title, width: width, height: height)
    let predictions = try predict(domain.centres(resolution: resolution)).scalars.map(Double.init)
    let targets = data.targets.scalars.map(Double.init)
    let scale = max((predictions + targets).filter(\.isFinite).map(abs).max() ?? 1, 1e-12)
    try canvas.image(
      valueMap(predictions, width: resolution, height: resolution, scale: scale),
      x: frame.left, y: frame.top, width: frame.width, height: frame.height, className: "regions")
    let points = data.features.scalars.map(Double.init)
    // One group per colour of the quantized scale.
    var byColor: [String: [(Double, Double)]] = [:]
    for (index, target) in targets.enumerated().prefix(5000) {
      byColor[divergingColor(target / scale).hex, default: []].append(
        (frame.x(points[2 * index]), frame.y(points[2 * index + 1])))
    }
    for (fill, centres) in byColor.sorted(by: { $0.key < $1.key }) {
      canvas.points(centres, radius: 4, fill: fill, className: "point")
    }
    frame.drawFrame(on: &canvas)
    frame.drawLegend(
      [
        PlotFrame.LegendEntry(
          label: "−\(PlotFrame.label(scale))", color: color(1), isLine: false),
        PlotFrame.LegendEntry(label: "+\(PlotFrame.label(scale))", color: color(0), isLine: false),
      ], on: &canvas)
    return canvas
  }
}
