import Foundation

extension Plot {
  /// The decision regions of a classifier over two features: each cell of a `resolution` ×
  /// `resolution` grid is coloured by its predicted class, paler where the model is less sure,
  /// with the data drawn over it as points coloured by their true class.
  ///
  /// `predict` maps `[n, 2]` features to `[n, classCount]` scores (probabilities or logits; the
  /// largest wins) or `[n, 1]` probabilities of class 1. The map covers the data's range plus 10%
  /// on each side. The root element carries `data-plot-area` and `data-domain` (pixel rectangle
  /// and x/y ranges), so tools can find where a point is drawn.
  ///
  /// - Throws: ``BackpropError/invalidArgument(name:detail:)`` unless the data are classes over
  ///   two features; errors of `predict`.
  public static func decisionRegions<Scalar: TensorScalar>(
    data: DataSet<Scalar>, resolution: Int = 80, title: String = "Decision regions",
    width: Double = 800, height: Double = 600, predict: (Tensor<Scalar>) throws -> Tensor<Scalar>
  ) throws -> SVGCanvas {
    guard data.featureCount == 2, let classNames = data.targetKind.classNames else {
      throw BackpropError.invalidArgument(
        name: "decision regions",
        detail: "need classes over two features; the data have \(data.featureCount) features"
          + (data.targetKind.classNames == nil ? " and numeric targets" : ""))
    }
    guard (2...400).contains(resolution) else {
      throw BackpropError.invalidArgument(
        name: "resolution", detail: "\(resolution) must be in 2...400")
    }
    let points = data.features.scalars.map(Double.init)
    let xs = stride(from: 0, to: points.count, by: 2).map { points[$0] }
    let ys = stride(from: 1, to: points.count, by: 2).map { points[$0] }
    func widened(_ values: [Double]) -> ClosedRange<Double> {
      let low = values.min() ?? 0
      let high = values.max() ?? 1
      let margin = max((high - low) * 0.1, 1e-6)
      return (low - margin)...(high + margin)
    }
    var canvas = SVGCanvas(width: width, height: height)
    let frame = PlotFrame(canvas: canvas, xRange: widened(xs), yRange: widened(ys), exact: true)
    frame.drawAxes(
      on: &canvas, title: title, xLabel: data.featureNames[0], yLabel: data.featureNames[1])

    // Cell centres, row by row from the top.
    let cellWidth = frame.width / Double(resolution)
    let cellHeight = frame.height / Double(resolution)
    let span = (
      x: frame.xRange.upperBound - frame.xRange.lowerBound,
      y: frame.yRange.upperBound - frame.yRange.lowerBound
    )
    var centres: [Scalar] = []
    for row in 0..<resolution {
      let y = frame.yRange.upperBound - span.y * (Double(row) + 0.5) / Double(resolution)
      for column in 0..<resolution {
        centres += [
          Scalar(frame.xRange.lowerBound + span.x * (Double(column) + 0.5) / Double(resolution)),
          Scalar(y),
        ]
      }
    }
    let scores = try predict(Tensor(shape: [resolution * resolution, 2], scalars: centres))
    if let index = scores.firstNonFiniteIndex {
      let point = 2 * (index / max(scores.shape.last ?? 1, 1))
      throw BackpropError.invalidArgument(
        name: "decision regions",
        detail: "the model's score at (\(centres[point]), \(centres[point + 1])) is "
          + "\(scores.scalars[index]), not a finite number")
    }
    let cells = try classesAndConfidence(scores, classCount: classNames.count)
    for row in 0..<resolution {
      var column = 0
      while column < resolution {
        let cell = cells[row * resolution + column]
        var end = column + 1
        while end < resolution, cells[row * resolution + end] == cell { end += 1 }
        canvas.rectangle(
          x: frame.left + cellWidth * Double(column), y: frame.top + cellHeight * Double(row),
          width: cellWidth * Double(end - column) + 0.3, height: cellHeight + 0.3,
          fill: tint(color(cell.classIndex), strength: 0.12 + 0.12 * Double(cell.level)),
          className: "region region-\(cell.classIndex)")
        column = end
      }
    }
    for (index, label) in (data.labels ?? []).enumerated().prefix(5000) {
      canvas.circle(
        center: (frame.x(xs[index]), frame.y(ys[index])), radius: 4, fill: color(label),
        stroke: "#333333", className: "point point-\(label)")
    }
    frame.drawFrame(on: &canvas)
    frame.drawLegend(
      classNames.enumerated().map {
        PlotFrame.LegendEntry(label: $1, color: color($0), isLine: false)
      },
      on: &canvas)
    return canvas
  }

  /// `hex` mixed with white: `strength` 1 is the colour itself, 0 is white. Opaque cells, unlike
  /// translucent ones, show no seams where neighbours overlap.
  static func tint(_ hex: String, strength: Double) -> String {
    let value = Int(hex.dropFirst(), radix: 16) ?? 0
    let channels = [value >> 16 & 0xff, value >> 8 & 0xff, value & 0xff].map { channel in
      Int((255 - (255 - Double(channel)) * strength).rounded())
    }
    return "#" + channels.map { String(format: "%02x", $0) }.joined()
  }

  /// The predicted class of each row and how sure the prediction is, in four levels (0–3).
  private static func classesAndConfidence<Scalar: TensorScalar>(
    _ scores: Tensor<Scalar>, classCount: Int
  ) throws -> [Cell] {
    guard scores.rank == 2, scores.shape[1] == classCount || scores.shape[1] == 1 else {
      throw BackpropError.shapeMismatch(
        operation: "decision regions", shapes: [scores.shape, [classCount]],
        detail: "the model must give one score per class (or one probability of class 1)")
    }
    let width = scores.shape[1]
    let values = scores.scalars.map(Double.init)
    return (0..<scores.shape[0]).map { row in
      let slice = Array(values[(row * width)..<((row + 1) * width)])
      let probabilities: [Double]
      if width == 1 {
        probabilities = [1 - slice[0], slice[0]]
      } else if slice.allSatisfy({ $0 >= 0 && $0 <= 1 }) && abs(slice.reduce(0, +) - 1) < 1e-3 {
        probabilities = slice
      } else {
        let top = slice.max() ?? 0
        let exponentials = slice.map { Foundation.exp($0 - top) }
        let total = exponentials.reduce(0, +)
        probabilities = exponentials.map { $0 / total }
      }
      let best = probabilities.indices.max { probabilities[$0] < probabilities[$1] } ?? 0
      let chance = 1 / Double(probabilities.count)
      let confidence = (probabilities[best] - chance) / (1 - chance)
      return Cell(classIndex: best, level: min(3, Int((confidence * 4).rounded(.down))))
    }
  }

  private struct Cell: Equatable {
    var classIndex: Int
    var level: Int
  }
}

extension Model {
  /// The model's decision regions over unscaled data (the model scales them itself).
  public func decisionRegions(on data: DataSet<Scalar>, title: String = "Decision regions") throws
    -> SVGCanvas
  {
    try Plot.decisionRegions(data: data, title: title) { try predict($0) }
  }

  /// The model's 1-D regression curve over unscaled data.
  public func regressionFit(on data: DataSet<Scalar>, title: String = "Regression fit") throws
    -> SVGCanvas
  {
    try Plot.regressionFit(data: data, title: title) { try predict($0) }
  }
}
