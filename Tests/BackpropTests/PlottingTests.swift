import Foundation
import Testing

@testable import Backprop

#if canImport(FoundationXML)
  import FoundationXML
#endif

/// The elements of an SVG document, as an XML parser sees them.
final class SVGElements: NSObject, XMLParserDelegate {
  var names: [String] = []
  var classes: [String] = []
  var texts: [String] = []
  var rootAttributes: [String: String] = [:]
  private var inText = false

  /// Parses `svg`, recording an issue if it is not well-formed XML.
  init(_ svg: String, sourceLocation: SourceLocation = #_sourceLocation) {
    super.init()
    let parser = XMLParser(data: Data(svg.utf8))
    parser.delegate = self
    #expect(
      parser.parse(), "not well-formed: \(String(describing: parser.parserError))",
      sourceLocation: sourceLocation)
  }

  func parser(
    _ parser: XMLParser, didStartElement name: String, namespaceURI: String?,
    qualifiedName: String?,
    attributes: [String: String] = [:]
  ) {
    if names.isEmpty { rootAttributes = attributes }
    names.append(name)
    classes += (attributes["class"] ?? "").split(separator: " ").map(String.init)
    inText = name == "text"
    if inText { texts.append("") }
  }

  // The parser may deliver one text in pieces (around an entity such as &amp;).
  func parser(_ parser: XMLParser, foundCharacters string: String) {
    if inText { texts[texts.count - 1] += string }
  }

  func parser(
    _ parser: XMLParser, didEndElement name: String, namespaceURI: String?, qualifiedName: String?
  ) {
    inText = false
  }

  func count(_ name: String) -> Int { names.filter { $0 == name }.count }
  func count(class name: String) -> Int { classes.filter { $0 == name }.count }
}

@Suite("Plots")
struct PlottingTests {
  func history() -> History {
    var history = History()
    for epoch in 1...12 {
      let loss = 1 / Double(epoch)
      history.append([
        "loss": loss, "accuracy": 1 - loss / 2, "val_loss": loss * 1.2, "learning_rate": 0.1,
      ])
    }
    return history
  }

  @Test func metricCurvesDrawTrainingAndValidationWithAxesAndLegend() throws {
    let canvas = try Plot.metricCurves(history(), logScale: true, title: "Loss & friends")
    let svg = SVGElements(canvas.svg)
    #expect(svg.names.first == "svg" && svg.rootAttributes["width"] == "800")
    #expect(svg.count(class: "curve-loss") == 1 && svg.count(class: "curve-val_loss") == 1)
    #expect(svg.count(class: "legend") == 1 && svg.count(class: "legend-label") == 2)
    #expect(svg.texts.contains("Loss & friends") && svg.texts.contains("epoch"))
    #expect(svg.texts.contains("0.1") && svg.texts.contains("1"))
    #expect(canvas.svg.contains("stroke-dasharray"))
    // The same input gives the same bytes.
    #expect(
      try Plot.metricCurves(history(), logScale: true, title: "Loss & friends").svg == canvas.svg)
    let accuracy = SVGElements(try Plot.metricCurves(history(), metrics: ["accuracy"]).svg)
    #expect(accuracy.count(class: "curve-accuracy") == 1 && accuracy.count(class: "curve") == 1)
    expectError(containing: "metric 'f1'", "loss, accuracy") {
      _ = try Plot.metricCurves(history(), metrics: ["f1"])
    }
    var negative = History()
    negative.append(["loss": -1])
    expectError(containing: "log scale") { _ = try Plot.metricCurves(negative, logScale: true) }
    expectError(containing: "no epochs") { _ = try Plot.metricCurves(History()) }
  }

  @Test func decisionRegionsColourTheMapByThePredictedClass() throws {
    let data: DataSet<Double> = try ToyData.blobs(count: 60, noise: 0.5, classes: 3, seed: 2)
    // A "model" that predicts class 0 left of x = 0, class 1 right of it when y > 0, else 2.
    let canvas = try Plot.decisionRegions(data: data, resolution: 20) { features in
      let rows = features.scalars
      return try Tensor(
        shape: [features.shape[0], 3],
        scalars: (0..<features.shape[0]).flatMap { row -> [Double] in
          let (x, y) = (rows[2 * row], rows[2 * row + 1])
          return x < 0 ? [0.9, 0.05, 0.05] : y > 0 ? [0.05, 0.9, 0.05] : [0.05, 0.05, 0.9]
        })
    }
    let svg = SVGElements(canvas.svg)
    // The points are circles in one group per class (and the legend has one circle a class).
    #expect(svg.count(class: "point") == 3 && svg.count("circle") == 60 + 3)
    #expect(
      svg.count(class: "region-0") > 0 && svg.count(class: "region-1") > 0
        && svg.count(class: "region-2") > 0)
    // Runs of equal cells are merged: far fewer rectangles than the 400 cells.
    #expect(svg.count(class: "region") < 80)
    #expect(svg.rootAttributes["data-plot-area"] == "80 50 690 480")
    #expect(svg.rootAttributes["data-domain"]?.split(separator: " ").count == 4)
    #expect(svg.texts.contains("0") && svg.texts.contains("2"))
    expectError(containing: "decision regions", "1 features") {
      let sine: DataSet<Double> = try ToyData.sine(count: 10, seed: 1)
      _ = try Plot.decisionRegions(data: sine) { $0 }
    }
    expectError(containing: "one score per class") {
      _ = try Plot.decisionRegions(data: data) { _ in try Tensor(zeros: [400 * 16, 2]) }
    }
  }

  @Test func regressionFitDrawsPointsAndACurve() throws {
    let data: DataSet<Float> = try ToyData.sine(count: 40, noise: 0.1, seed: 1)
    let svg = SVGElements(try Plot.regressionFit(data: data) { $0 }.svg)
    #expect(svg.count(class: "point") == 40 && svg.count(class: "curve-prediction") == 1)
    #expect(svg.texts.contains("x") && svg.texts.contains("y"))
  }

  @Test func networkDiagramShowsNeuronsEdgesAndActivations() throws {
    let network = try Sequential<Double>.perceptron(sizes: [2, 3, 2], activation: .tanh, seed: 1)
    let svg = SVGElements(
      try Plot.network(network, inputNames: ["a", "b"], outputNames: ["no", "yes"]).svg)
    #expect(svg.count(class: "node") == 7 && svg.count(class: "input") == 2)
    #expect(svg.count(class: "edge") == 2 * 3 + 3 * 2)
    #expect(svg.texts.filter { $0 == "tanh" }.count == 3)
    #expect(svg.count(class: "bias") == 5)
    #expect(svg.texts.contains("yes") && svg.texts.contains("a"))
    let wide = try Sequential<Double>.perceptron(sizes: [30, 20, 2], activation: .relu, seed: 1)
    let large = SVGElements(try Plot.network(wide).svg)
    #expect(large.texts.contains("+19 more") && large.texts.contains("+9 more"))
    #expect(large.count(class: "edge") == 11 * 11 + 11 * 2)
    // Gradients: zero until a backward pass, then the loss's.
    let gradients = try Plot.network(network, edges: .gradients)
    #expect(gradients.svg.contains("edges: gradients"))
  }

  @Test func gridsEmbedPanelsAndDemosDrawTheirRuns() throws {
    let panel = try Plot.metricCurves(history())
    let grid = SVGElements(
      Plot.grid(
        [("a", panel), ("b", panel), ("c", panel), ("d", panel)], columns: 3, title: "Snapshots"
      ).svg)
    #expect(grid.count("svg") == 5 && grid.count(class: "panel-title") == 4)
    #expect(grid.rootAttributes["width"] == "1200")

    let report = try Demo.run(.sineBoundary, options: Demo.Options(epochs: 3))
    let pictures = try report.pictures()
    #expect(pictures.map(\.name) == ["loss", "network", "boundary"])
    for picture in pictures { _ = SVGElements(picture.picture.svg) }
    let sine = try Demo.run(.sine, options: Demo.Options(epochs: 2)).pictures()
    #expect(sine.map(\.name) == ["loss", "network", "fit"])
  }

  /// The library writes SVG only; rendering to pixels is the command's.
  @Test func picturesAreSVGFiles() throws {
    expectError(containing: "picture file 'plot.png'", "must end in .svg") {
      try SVGCanvas().write(to: URL(fileURLWithPath: "/tmp/plot.png"))
    }
    #expect(
      try SVGCanvas().fileData(for: URL(fileURLWithPath: "a.SVG")) == Data(SVGCanvas().svg.utf8))
  }

  /// Mazur's network, drawn as the graph of one step, shows the numbers of his post under the
  /// names the step trace gives them.
  @Test func mazursStepGraphShowsHisNumbers() throws {
    let example = try Demo.mazurExample()
    let picture = try Plot.stepGraph(
      network: example.network, input: example.input, target: example.target, loss: example.loss)
    let svg = SVGElements(picture.svg)
    let texts = svg.texts.joined(separator: "\n")
    for expected in [
      "net_h = ", "value 0.3775, 0.3925", "out_h = ", "value 0.593269992, 0.596884378",
      "net_o = ", "value 1.10590597, 1.2249214", "value 0.75136507, 0.772928465",
      "E_total = ", "value 0.298371109", "W_o", "W_h",
      "grad 0.0821670406, -0.0226025405, 0.0826676278, -0.0227402422",
      "grad 0.000438567734, 0.000497712735, 0.000877135469, 0.000995425471",
    ] {
      #expect(texts.contains(expected), "missing \(expected)")
    }
    // The frozen biases have no gradient.
    #expect(texts.contains("grad none"))
    #expect(svg.count(class: "node") == svg.count(class: "label"))
    #expect(svg.count(class: "edge") >= svg.count(class: "node") - 1)
  }

  /// A graph of any variables: leaves first, each box's numbers summarized past four elements.
  @Test func anyGraphIsDrawnWithItsValuesAndGradients() throws {
    let x = Variable(try Tensor<Double>(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6]), name: "x")
    let w = Variable(try Tensor<Double>([[1], [0], [-1]]), requiresGradient: true, name: "w")
    let y = try x.matmul(w).sum()
    try y.backward()
    let texts = SVGElements(Plot.computationGraph(y).svg).texts
    #expect(texts.contains("x") && texts.contains("w") && texts.contains("value -4"))
    #expect(texts.contains("value 6 in [1, 6], ‖·‖ 9.53939201"))
    #expect(texts.contains("grad 5, 7, 9"))
  }

  @Test func numbersAreWrittenTheSameWayEveryTime() {
    #expect(SVGCanvas.number(2) == "2" && SVGCanvas.number(0.123) == "0.1")
    #expect(SVGCanvas.number(-0.001) == "0" && SVGCanvas.number(12.5) == "12.5")
    #expect(SVGCanvas.number(-0.04) == "0" && SVGCanvas.number(-2.46) == "-2.5")
    #expect(
      SVGCanvas.number(.nan) == "0"
        && SVGCanvas.escaped("a<b & \"c\"") == "a&lt;b &amp; &quot;c&quot;")
    #expect(PlotFrame.ticks(0...1).map { ($0 * 10).rounded() / 10 } == [0, 0.2, 0.4, 0.6, 0.8, 1])
    #expect(PlotFrame.ticks(3...47) == [10, 20, 30, 40])
    #expect(PlotFrame.logTicks(-2...0) == [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1])
  }
}
