import Foundation

extension Plot {
  /// Metric curves of a training history: one colour per metric, training solid and validation
  /// (`val_…`) dashed, epochs along x; `logScale` puts y on a logarithmic axis.
  ///
  /// `metrics` names the history columns to draw (training names pull in their `val_` partners);
  /// by default the losses.
  ///
  /// - Throws: ``BackpropError/invalidArgument(name:detail:)`` for a metric the history lacks, an
  ///   empty history, or a log scale over values that are not positive.
  public static func metricCurves(
    _ history: History, metrics: [String]? = nil, logScale: Bool = false,
    title: String = "Training history", width: Double = 800, height: Double = 600
  ) throws -> SVGCanvas {
    guard history.epochCount > 0 else {
      throw BackpropError.invalidArgument(name: "history", detail: "it has no epochs to draw")
    }
    let wanted = metrics ?? history.columns.filter { !$0.hasPrefix("val_") && $0.hasSuffix("loss") }
    for name in wanted where !history.columns.contains(name) {
      throw BackpropError.invalidArgument(
        name: "metric '\(name)'",
        detail: "the history has \(history.columns.joined(separator: ", "))")
    }
    let bases = wanted.map { $0.hasPrefix("val_") ? String($0.dropFirst(4)) : $0 }
      .reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
    var series: [Curve] = []
    let epochs = (1...max(history.epochCount, 1)).map(Double.init)
    for (index, base) in bases.enumerated() {
      for name in [base, "val_" + base] where history.columns.contains(name) {
        series.append(
          Curve(
            name: name, colorIndex: index, dashed: name.hasPrefix("val_"), x: epochs,
            y: history.values(of: name) ?? []))
      }
    }
    return try curves(
      series, xLabel: "epoch", logScale: logScale, title: title, width: width, height: height)
  }

  /// One line of ``curves(_:xLabel:logScale:title:width:height:)``.
  public struct Curve: Sendable {
    /// The legend's label.
    public var name: String
    /// Which colour of the palette (curves that belong together share one).
    public var colorIndex: Int
    /// Whether the line is dashed.
    public var dashed: Bool
    /// The x coordinates.
    public var x: [Double]
    /// The y coordinates; non-finite values leave a point out.
    public var y: [Double]

    /// Creates a curve.
    public init(name: String, colorIndex: Int, dashed: Bool = false, x: [Double], y: [Double]) {
      self.name = name
      self.colorIndex = colorIndex
      self.dashed = dashed
      self.x = x
      self.y = y
    }
  }

  /// Lines over a shared x axis, with a legend; `logScale` puts y on a logarithmic axis.
  ///
  /// - Throws: ``BackpropError/invalidArgument(name:detail:)`` for a log scale over values that
  ///   are not positive.
  public static func curves(
    _ series: [Curve], xLabel: String, logScale: Bool = false, title: String,
    width: Double = 800, height: Double = 600
  ) throws -> SVGCanvas {
    let finite = series.flatMap(\.y).filter(\.isFinite)
    if logScale, finite.contains(where: { $0 <= 0 }) {
      throw BackpropError.invalidArgument(
        name: "log scale", detail: "the curves hold values ≤ 0, which a log axis cannot show")
    }
    let xs = series.flatMap(\.x).filter(\.isFinite)
    let low = xs.min() ?? 1
    var canvas = SVGCanvas(width: width, height: height)
    let frame = PlotFrame(
      canvas: canvas, xRange: low...max(xs.max() ?? 2, low + 1),
      yRange: (finite.min() ?? 0)...(finite.max() ?? 1), logY: logScale)
    frame.drawAxes(
      on: &canvas, title: title, xLabel: xLabel, yLabel: logScale ? "value (log scale)" : "value")
    for curve in series {
      let points = zip(curve.x, curve.y).filter { $0.0.isFinite && $0.1.isFinite }
        .map { (frame.x($0.0), frame.y($0.1)) }
      canvas.polyline(
        points, stroke: color(curve.colorIndex), width: 2.5, dashed: curve.dashed,
        className: "curve curve-\(curve.name)")
    }
    frame.drawLegend(
      series.map {
        PlotFrame.LegendEntry(
          label: $0.name, color: color($0.colorIndex), isLine: true, dashed: $0.dashed)
      }, on: &canvas)
    return canvas
  }

  /// A 1-D regression: the data as points and the model's prediction as a curve over the range
  /// of the inputs (and beyond by 5%).
  ///
  /// - Throws: ``BackpropError/invalidArgument(name:detail:)`` unless the data have one feature and
  ///   one target; errors of `predict`.
  public static func regressionFit<Scalar: TensorScalar>(
    data: DataSet<Scalar>, title: String = "Regression fit", width: Double = 800,
    height: Double = 600, predict: (Tensor<Scalar>) throws -> Tensor<Scalar>
  ) throws -> SVGCanvas {
    guard data.featureCount == 1, data.targetKind.width == 1, data.targetKind.classNames == nil
    else {
      throw BackpropError.invalidArgument(
        name: "regression fit",
        detail:
          "needs one feature and one numeric target; the data have \(data.featureCount) features")
    }
    let xs = data.features.scalars.map(Double.init)
    let ys = data.targets.scalars.map(Double.init)
    let (curveXs, range) = curvePoints(over: xs, count: 201)
    let curveYs = try predict(
      Tensor(shape: [curveXs.count, 1], scalars: curveXs.map { Scalar($0) })
    )
    .scalars.map(Double.init)
    var canvas = SVGCanvas(width: width, height: height)
    let allY = (ys + curveYs).filter(\.isFinite)
    let frame = PlotFrame(
      canvas: canvas, xRange: range,
      yRange: (allY.min() ?? 0)...(allY.max() ?? 1))
    frame.drawAxes(
      on: &canvas, title: title, xLabel: data.featureNames[0],
      yLabel: data.targetKind.columnNames[0])
    for (x, y) in zip(xs, ys) {
      canvas.circle(
        center: (frame.x(x), frame.y(y)), radius: 3.5, fill: color(0), className: "point")
    }
    canvas.polyline(
      zip(curveXs, curveYs).filter { $0.1.isFinite }.map { (frame.x($0.0), frame.y($0.1)) },
      stroke: color(1), width: 3, className: "curve curve-prediction")
    frame.drawLegend(
      [
        PlotFrame.LegendEntry(label: "data", color: color(0), isLine: false),
        PlotFrame.LegendEntry(label: "prediction", color: color(1), isLine: true),
      ], on: &canvas)
    return canvas
  }

  /// `count` evenly spaced points over the range of `values` and 5% beyond each end, where a
  /// 1-D model's curve is drawn, and that range.
  public static func curvePoints(over values: [Double], count: Int) -> (
    points: [Double], range: ClosedRange<Double>
  ) {
    let low = values.min() ?? 0
    let high = values.max() ?? 1
    let margin = (high - low) * 0.05
    let last = Double(max(count - 1, 1))
    let points = (0..<count).map { low - margin + (high - low + 2 * margin) * Double($0) / last }
    return (points, (low - margin)...(high + margin))
  }

  /// Pictures side by side in a grid of `columns`, each under its own title, as the snapshots
  /// every few epochs of seed 003.
  public static func grid(
    _ panels: [(title: String, picture: SVGCanvas)], columns: Int = 3, title: String,
    panelWidth: Double = 400, panelHeight: Double = 300
  ) -> SVGCanvas {
    let columns = max(1, min(columns, panels.count))
    let rows = (panels.count + columns - 1) / columns
    var canvas = SVGCanvas(
      width: panelWidth * Double(columns), height: 50 + (panelHeight + 25) * Double(rows))
    canvas.text(
      title, at: (canvas.width / 2, 30), size: 18, anchor: .middle, weight: "bold",
      className: "title")
    for (index, panel) in panels.enumerated() {
      let x = panelWidth * Double(index % columns)
      let y = 50 + (panelHeight + 25) * Double(index / columns)
      canvas.text(
        panel.title, at: (x + panelWidth / 2, y + 15), size: 14, anchor: .middle,
        className: "panel-title")
      canvas.embed(panel.picture, x: x, y: y + 22, width: panelWidth, height: panelHeight)
    }
    return canvas
  }
}
