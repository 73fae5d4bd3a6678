import ArgumentParser
import Backprop
import BackpropCSV
import Foundation

extension Plot.EdgeValue: ExpressibleByArgument {}

/// `backprop plot`: pictures of a history, a model and its data, as SVG or PNG.
struct PlotCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "plot",
    abstract: "Draw loss curves, decision regions, regression fits and network diagrams.",
    discussion: """
      Every picture is SVG or PNG, chosen by the --output extension. SVG needs nothing; PNG \
      renders the SVG with librsvg's rsvg-convert (apt install librsvg2-bin) or, without it, a \
      headless Chromium (BACKPROP_PNG_RENDERER=rsvg-convert|chromium picks one).
      """,
    subcommands: [Loss.self, Boundary.self, Fit.self, Network.self]
  )

  /// The file the picture goes to.
  struct Output: ParsableArguments {
    @Option(help: "The picture file: .svg or .png.")
    var output: String

    func write(_ picture: SVGCanvas) throws {
      let url = URL(fileURLWithPath: output)
      try AtomicFile.write(try PNGRenderer.fileData(of: picture, for: url), to: url)
      print("wrote \(output)")
    }
  }

  struct Loss: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract:
        "Curves of a training history (--history from `backprop train`), train solid, validation dashed."
    )

    @Option(help: "The history file (.csv or .json).")
    var history: String

    @Option(help: "The metrics to draw, comma-separated (default: the losses).")
    var metrics: String?

    @Flag(help: "A logarithmic y axis.")
    var logScale = false

    @OptionGroup var output: Output

    func run() throws {
      let history = try History(contentsOf: URL(fileURLWithPath: history))
      try output.write(
        try Plot.metricCurves(
          history, metrics: metrics.map(RunSpecification.parseNames), logScale: logScale))
    }
  }

  struct Boundary: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract:
        "The decision regions of a two-feature classifier, or the prediction map of a two-feature regression, with the data over them."
    )

    @OptionGroup var source: ModelAndData

    @Option(help: "Cells per side of the prediction grid (default 80, or 160 with --raster).")
    var resolution: Int?

    @Flag(
      help:
        "Draw the map as one smooth PNG image inside the SVG instead of rectangles (a regression map is always raster)."
    )
    var raster = false

    @OptionGroup var output: Output

    func run() throws {
      let (model, data) = try source.load()
      let cells = resolution ?? Plot.mapResolution(raster: raster)
      if data.targetKind.classNames == nil, data.featureCount == 2 {
        try output.write(
          try Plot.regressionMap(data: data, resolution: cells) { try model.predict($0) })
      } else {
        try output.write(
          try Plot.decisionRegions(data: data, resolution: cells, raster: raster) {
            try model.predict($0)
          })
      }
    }
  }

  struct Fit: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "A one-feature regression: the data and the model's curve.")

    @OptionGroup var source: ModelAndData

    @OptionGroup var output: Output

    func run() throws {
      let (model, data) = try source.load()
      try output.write(try model.regressionFit(on: data))
    }
  }

  struct Network: ParsableCommand {
    static let configuration = CommandConfiguration(
      abstract: "The network: neurons with their activations and biases, edges by weight.",
      discussion: "--edges gradients draws the gradients of the loss on --data instead.")

    @Option(help: "The model file written by `backprop train`.")
    var model: String

    @Option(help: "What the edges show: weights or gradients.")
    var edges: Plot.EdgeValue = .weights

    @Option(help: "Data whose loss gives the gradients (with --edges gradients).")
    var data: String?

    @Option(help: "The target column of --data (default: the model's).")
    var target: String?

    @OptionGroup var output: Output

    func run() throws {
      let model = try Model<Float>(contentsOf: URL(fileURLWithPath: model))
      if edges == .gradients {
        guard let data else { throw CLIError("--edges gradients needs --data to take the loss on") }
        let prepared = try model.prepared(
          try DataInput.load(for: model, path: data, target: target, labels: nil))
        try model.loss.loss(model.network(Variable(prepared.features)), prepared.targets).backward()
      }
      try output.write(
        try Plot.network(
          model.network, edges: edges, inputNames: model.featureNames,
          outputNames: model.targetKind.classNames ?? model.targetKind.columnNames))
    }
  }
}
