import Foundation

extension DemoReport {
  /// The pictures of the demo's run, by file name without extension: `loss` (the loss per epoch,
  /// on a log scale), `network` (the trained weights), and `boundary` for the demos that
  /// classify points of the plane (xor, xor-nobias, sine-boundary) or `fit` for sine regression.
  ///
  /// - Throws: ``BackpropError`` when the recorded network cannot be rebuilt.
  public func pictures() throws -> [(name: String, picture: SVGCanvas)] {
    var history = History()
    for record in lossHistory { history.append(["loss": record.loss]) }
    let positive = lossHistory.allSatisfy { $0.loss > 0 }
    var pictures: [(String, SVGCanvas)] = [
      (
        "loss",
        try Plot.metricCurves(
          history, logScale: positive,
          title: "\(name.rawValue): loss per \(name == .mazur ? "step" : "epoch")")
      )
    ]
    let model = try Sequential<Double>(network.map { try $0.makeLayer(as: Double.self) })
    pictures.append(
      ("network", try Plot.network(model, title: "\(name.rawValue): trained network")))
    let features = try Tensor(inputs)
    switch name {
    case .xor, .xorNoBias, .sineBoundary:
      // One output is the probability of class 1; two are one-hot rows.
      let labels = targets.map {
        $0.count == 1 ? ($0[0] >= 0.5 ? 1 : 0) : ($0.firstIndex(of: $0.max() ?? 0) ?? 0)
      }
      let classNames = name == .sineBoundary ? ["above", "below"] : ["0", "1"]
      let data = try DataSet(
        features: features, labels: labels, classNames: classNames, featureNames: ["x1", "x2"])
      pictures.append(
        (
          "boundary",
          try Plot.decisionRegions(data: data, title: "\(name.rawValue): decision regions") {
            try model($0)
          }
        ))
    case .sine:
      let data = try DataSet(
        features: features, targets: Tensor(targets), featureNames: ["(x − π)/π"],
        targetKind: .regression(columns: ["sin x"]))
      pictures.append(
        ("fit", try Plot.regressionFit(data: data, title: "sine: fit") { try model($0) }))
    case .mazur, .softmax:
      break
    }
    return pictures
  }
}
