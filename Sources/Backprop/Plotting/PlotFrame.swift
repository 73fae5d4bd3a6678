import Foundation

/// The pictures Backprop draws, each as an ``SVGCanvas``: metric curves, decision regions and
/// their snapshots, regression fits and network diagrams.
public enum Plot {
  /// The colours of classes and curves, in order (matplotlib's "tab10").
  public static let palette = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf",
  ]

  /// The colour of class or series `index`.
  public static func color(_ index: Int) -> String { palette[index % palette.count] }
}

/// A rectangle of the canvas with data ranges on its axes: maps data to pixels and draws the
/// frame, grid, ticks, labels, title and legend around it.
struct PlotFrame {
  let left: Double
  let top: Double
  let width: Double
  let height: Double
  let xRange: ClosedRange<Double>
  let yRange: ClosedRange<Double>
  let logY: Bool

  /// A frame filling `canvas` with room for labels; the ranges get a little padding unless
  /// `exact` (decision maps fill the frame exactly).
  init(
    canvas: SVGCanvas, xRange: ClosedRange<Double>, yRange: ClosedRange<Double>, logY: Bool = false,
    exact: Bool = false
  ) {
    left = 80
    top = 50
    width = canvas.width - left - 30
    height = canvas.height - top - 70
    func padded(_ range: ClosedRange<Double>, log: Bool) -> ClosedRange<Double> {
      var (low, high) = (range.lowerBound, range.upperBound)
      if log {
        (low, high) = (Foundation.log10(max(low, 1e-300)), Foundation.log10(max(high, 1e-300)))
      }
      if high - low < 1e-12 { (low, high) = (low - 0.5, high + 0.5) }
      if !exact {
        let margin = (high - low) * 0.04
        (low, high) = (low - margin, high + margin)
      }
      return low...high
    }
    self.xRange = padded(xRange, log: false)
    self.yRange = padded(yRange, log: logY)
    self.logY = logY
  }

  /// The pixel column of data value `value`.
  func x(_ value: Double) -> Double {
    left + (value - xRange.lowerBound) / (xRange.upperBound - xRange.lowerBound) * width
  }

  /// The pixel row of data value `value` (up is larger).
  func y(_ value: Double) -> Double {
    let scaled = logY ? Foundation.log10(max(value, 1e-300)) : value
    return top + height - (scaled - yRange.lowerBound) / (yRange.upperBound - yRange.lowerBound)
      * height
  }

  /// About `count` round values covering `range`: steps of 1, 2 or 5 times a power of ten.
  static func ticks(_ range: ClosedRange<Double>, count: Int = 6) -> [Double] {
    let span = range.upperBound - range.lowerBound
    guard span > 0, span.isFinite else { return [range.lowerBound] }
    let rough = span / Double(count)
    let magnitude = pow(10, (Foundation.log10(rough)).rounded(.down))
    let step = [1.0, 2, 5, 10].map { $0 * magnitude }.first { $0 >= rough } ?? 10 * magnitude
    let first = (range.lowerBound / step).rounded(.up)
    let last = (range.upperBound / step).rounded(.down)
    guard last >= first else { return [] }
    return stride(from: first, through: last, by: 1).map { $0 * step }
  }

  /// Ticks of a log axis whose range is given in decades: the powers of ten, with 2× and 5×
  /// between them when the range spans fewer than three decades.
  static func logTicks(_ range: ClosedRange<Double>) -> [Double] {
    let decades = Int(range.lowerBound.rounded(.down))...Int(range.upperBound.rounded(.up))
    let multiples: [Double] = decades.count <= 3 ? [1, 2, 5] : [1]
    return decades.flatMap { decade in multiples.map { $0 * pow(10, Double(decade)) } }
      .filter { range.contains(Foundation.log10($0)) }
  }

  /// A tick label: integers plainly, small and large values in exponent form.
  static func label(_ value: Double) -> String {
    if value == 0 { return "0" }
    if abs(value) >= 1e5 || abs(value) < 1e-3 { return String(format: "%.0e", value) }
    if value == value.rounded() { return String(Int(value)) }
    var text = String(format: "%.3f", value)
    while text.hasSuffix("0") { text.removeLast() }
    return text
  }

  /// Draws the grid, frame, ticks, tick labels, axis labels and title.
  /// Draws the ticks, labels and title, and the grid unless a map will cover it (`grid` false).
  func drawAxes(
    on canvas: inout SVGCanvas, title: String, xLabel: String, yLabel: String, grid: Bool = true
  ) {
    let xTicks = Self.ticks(xRange)
    let yTicks = logY ? Self.logTicks(yRange) : Self.ticks(yRange)
    for tick in xTicks {
      if grid {
        canvas.line(from: (x(tick), top), to: (x(tick), top + height), stroke: "#e5e5e5")
      }
      canvas.line(from: (x(tick), top + height), to: (x(tick), top + height + 5), stroke: "#444444")
      canvas.text(Self.label(tick), at: (x(tick), top + height + 20), size: 12, anchor: .middle)
    }
    for tick in yTicks {
      if grid {
        canvas.line(from: (left, y(tick)), to: (left + width, y(tick)), stroke: "#e5e5e5")
      }
      canvas.line(from: (left - 5, y(tick)), to: (left, y(tick)), stroke: "#444444")
      canvas.text(Self.label(tick), at: (left - 8, y(tick) + 4), size: 12, anchor: .end)
    }
    drawFrame(on: &canvas)
    canvas.text(
      title, at: (left + width / 2, 30), size: 18, anchor: .middle, weight: "bold",
      className: "title")
    canvas.text(
      xLabel, at: (left + width / 2, top + height + 45), size: 14, anchor: .middle,
      className: "x-label")
    canvas.text(
      yLabel, at: (22, top + height / 2), size: 14, anchor: .middle, rotation: -90,
      className: "y-label")
    canvas.attributes += [
      ("data-plot-area", [left, top, width, height].map(SVGCanvas.number).joined(separator: " ")),
      (
        "data-domain",
        [xRange.lowerBound, xRange.upperBound, yRange.lowerBound, yRange.upperBound]
          .map { String($0) }.joined(separator: " ")
      ),
    ]
  }

  /// Draws the frame alone (over a map that covers the grid).
  func drawFrame(on canvas: inout SVGCanvas) {
    canvas.rectangle(x: left, y: top, width: width, height: height, fill: "none", stroke: "#444444")
  }

  /// One entry of a legend.
  struct LegendEntry {
    var label: String
    var color: String
    var isLine: Bool
    var dashed = false
  }

  /// A legend box in the top-right corner of the frame.
  func drawLegend(_ entries: [LegendEntry], on canvas: inout SVGCanvas) {
    guard !entries.isEmpty else { return }
    let boxWidth = 30 + 7.5 * Double(entries.map(\.label.count).max() ?? 0) + 16
    let boxHeight = 10 + 20 * Double(entries.count)
    let x0 = left + width - boxWidth - 10
    let y0 = top + 10
    canvas.rectangle(
      x: x0, y: y0, width: boxWidth, height: boxHeight, fill: "#ffffff", stroke: "#bbbbbb",
      opacity: 0.9,
      className: "legend")
    for (index, entry) in entries.enumerated() {
      let rowY = y0 + 18 + 20 * Double(index)
      if entry.isLine {
        canvas.polyline(
          [(x0 + 8, rowY - 4), (x0 + 30, rowY - 4)], stroke: entry.color, width: 2.5,
          dashed: entry.dashed)
      } else {
        canvas.circle(center: (x0 + 19, rowY - 4), radius: 5, fill: entry.color)
      }
      canvas.text(entry.label, at: (x0 + 38, rowY), size: 12, className: "legend-label")
    }
  }
}
