import Foundation

extension Plot {
  /// The cells per side of a decision-region map unless told: 80 for runs of rectangles, 160
  /// for an image, which stays a few tens of kilobytes at twice the detail.
  public static func mapResolution(raster: Bool) -> Int { raster ? 160 : 80 }

  /// The decision regions of a classifier over two features: each cell of a `resolution` ×
  /// `resolution` grid (``mapResolution(raster:)`` unless given) is coloured by its predicted
  /// class, paler where the model is less sure, with the data drawn over it as points coloured
  /// by their true class.
  ///
  /// With `raster`, the grid is one PNG image of `resolution`² pixels, shaded continuously by
  /// confidence and smoothed as the viewer scales it, instead of runs of rectangles in four
  /// shades; a 100 × 100 map takes a few kilobytes either way.
  ///
  /// `predict` maps `[n, 2]` features to `[n, classCount]` scores (probabilities or logits; the
  /// largest wins) or `[n, 1]` probabilities of class 1. The map covers the data's range plus 10%
  /// on each side. The root element carries `data-plot-area` and `data-domain` (pixel rectangle
  /// and x/y ranges), so tools can find where a point is drawn.
  ///
  /// - Throws: ``BackpropError/invalidArgument(name:detail:)`` unless the data are classes over
  ///   two features; errors of `predict`.
  public static func decisionRegions<Scalar: TensorScalar>(
    data: DataSet<Scalar>, resolution: Int? = nil, title: String = "Decision regions",
    width: Double = 800, height: Double = 600, raster: Bool = false,
    predict: (Tensor<Scalar>) throws -> Tensor<Scalar>
  ) throws -> SVGCanvas {
    guard data.featureCount == 2, let classNames = data.targetKind.classNames else {
      throw BackpropError.invalidArgument(
        name: "decision regions",
        detail: "need classes over two features; the data have \(data.featureCount) features"
          + (data.targetKind.classNames == nil ? " and numeric targets" : ""))
    }
    let resolution = resolution ?? mapResolution(raster: raster)
    let points = data.features.scalars.map(Double.init)
    var (canvas, frame, domain) = try mapCanvas(
      data: data, resolution: resolution, title: title, width: width, height: height)
    let cellWidth = frame.width / Double(resolution)
    let cellHeight = frame.height / Double(resolution)
    let centres: Tensor<Scalar> = domain.centres(resolution: resolution)
    let scores = try predict(centres)
    if let index = scores.firstNonFiniteIndex {
      let point = 2 * (index / max(scores.shape.last ?? 1, 1))
      throw BackpropError.invalidArgument(
        name: "decision regions",
        detail:
          "the model's score at (\(centres.scalars[point]), \(centres.scalars[point + 1])) is "
          + "\(scores.scalars[index]), not a finite number")
    }
    let cells = try classesAndConfidence(scores, classCount: classNames.count)
    if raster {
      var image = try PNGImage(width: resolution, height: resolution)
      let colors = classNames.indices.map { PNGImage.Color(hex: color($0)) }
      for (index, cell) in cells.enumerated() {
        // 17 shades of each class: a palette image for up to 10 classes.
        let shade = (cell.confidence * 16).rounded() / 16
        image[index % resolution, index / resolution] = PNGImage.Color.white.mixed(
          with: colors[cell.classIndex], share: 0.12 + 0.36 * shade)
      }
      try canvas.image(
        image, x: frame.left, y: frame.top, width: frame.width, height: frame.height,
        className: "regions")
    } else {
      // Four levels of confidence, so that neighbouring cells merge into runs.
      let levels = cells.map {
        Cell(classIndex: $0.classIndex, level: min(3, Int($0.confidence * 4)))
      }
      for row in 0..<resolution {
        var column = 0
        while column < resolution {
          let cell = levels[row * resolution + column]
          var end = column + 1
          while end < resolution, levels[row * resolution + end] == cell { end += 1 }
          canvas.rectangle(
            x: frame.left + cellWidth * Double(column), y: frame.top + cellHeight * Double(row),
            width: cellWidth * Double(end - column) + 0.3, height: cellHeight + 0.3,
            fill: tint(color(cell.classIndex), strength: 0.12 + 0.12 * Double(cell.level)),
            className: "region region-\(cell.classIndex)")
          column = end
        }
      }
    }
    let labels = Array((data.labels ?? []).prefix(5000))
    for classIndex in classNames.indices {
      canvas.points(
        labels.indices.filter { labels[$0] == classIndex }.map {
          (frame.x(points[2 * $0]), frame.y(points[2 * $0 + 1]))
        }, radius: 4, fill: color(classIndex), className: "point point-\(classIndex)")
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
    PNGImage.Color.white.mixed(with: PNGImage.Color(hex: hex), share: strength).hex
  }

  /// The predicted class of each row and how sure the prediction is: 0 at chance, 1 certain.
  private static func classesAndConfidence<Scalar: TensorScalar>(
    _ scores: Tensor<Scalar>, classCount: Int
  ) throws -> [(classIndex: Int, confidence: Double)] {
    guard scores.rank == 2, scores.shape[1] == classCount || scores.shape[1] == 1 else {
      throw BackpropError.shapeMismatch(
        operation: "decision regions", shapes: [scores.shape, [classCount]],
        detail: "the model must give one score per class (or one probability of class 1)")
    }
    let width = scores.shape[1]
    let values = scores.scalars.map(Double.init)
    var probabilities = Array(repeating: 0.0, count: max(width, 2))
    return (0..<scores.shape[0]).map { row in
      let slice = values[(row * width)..<((row + 1) * width)]
      if width == 1 {
        (probabilities[0], probabilities[1]) = (
          1 - slice[slice.startIndex], slice[slice.startIndex]
        )
      } else if slice.allSatisfy({ $0 >= 0 && $0 <= 1 }) && abs(slice.reduce(0, +) - 1) < 1e-3 {
        for (index, value) in slice.enumerated() { probabilities[index] = value }
      } else {
        let top = slice.max() ?? 0
        var total = 0.0
        for (index, value) in slice.enumerated() {
          probabilities[index] = Foundation.exp(value - top)
          total += probabilities[index]
        }
        for index in probabilities.indices { probabilities[index] /= total }
      }
      var best = 0
      for index in probabilities.indices where probabilities[index] > probabilities[best] {
        best = index
      }
      let chance = 1 / Double(probabilities.count)
      let confidence = (probabilities[best] - chance) / (1 - chance)
      return (best, min(max(confidence, 0), 1))
    }
  }

  private struct Cell: Equatable {
    var classIndex: Int
    var level: Int
  }
}

extension Model {
  /// The model's decision regions over unscaled data (the model scales them itself).
  public func decisionRegions(
    on data: DataSet<Scalar>, title: String = "Decision regions", raster: Bool = false
  ) throws -> SVGCanvas {
    try Plot.decisionRegions(data: data, title: title, raster: raster) { try predict($0) }
  }

  /// The model's 1-D regression curve over unscaled data.
  public func regressionFit(on data: DataSet<Scalar>, title: String = "Regression fit") throws
    -> SVGCanvas
  {
    try Plot.regressionFit(data: data, title: title) { try predict($0) }
  }
}
