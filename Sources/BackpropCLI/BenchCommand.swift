import ArgumentParser
import Backprop
import Foundation

extension OptimizerKind: ExpressibleByArgument {}

/// `backprop bench`: the training workloads of `shared/bench/peers.py`, timed the same way.
struct BenchCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "bench",
    abstract:
      "Time the xor, mlp and wide training workloads through fit, as peers.py times numpy, PyTorch and JAX.",
    discussion: """
      xor: 2-4-1 tanh/sigmoid, MSE, full batch of 4, 20000 epochs of plain GD with the history \
      recorded (steps/s). mlp: 784-128-10 tanh/softmax cross-entropy, batch 128, one epoch of \
      the 468 whole batches of 60000 (samples/s). wide: 784-1024-1024-10 ReLU/softmax \
      cross-entropy, batch 256, 16384 samples (samples/s). Data are seeded uniform features and \
      random labels, weights N(0, 1/fan_in), biases 0, Float, unshuffled; plain SGD (lr 0.1, \
      0.1, 0.05) or, with --optimizer adam (mlp and wide), PyTorch's Adam (lr 0.001). Training \
      runs through fit, as backprop train does. Prints one JSON line like peers.py, plus peak \
      resident memory and the bytes of data and parameters. Under mpirun, the run is \
      data-parallel (the global batch split across the ranks); rank 0 prints the global rate, \
      the ranks and its seconds in MPI_Allreduce.
      """
  )

  enum Workload: String, ExpressibleByArgument, CaseIterable {
    case xor, mlp, wide, read
  }

  @Argument(help: "xor, mlp or wide; or read, which times loading --data as train loads it.")
  var workload: Workload

  @Option(help: "For read: the data file (.csv, .npy or IDX).")
  var data: String?

  @Option(help: "For read: the targets of a .npy or IDX file.")
  var labels: String?

  @Option(help: "For read: the target column of a CSV file.")
  var target: String?

  @Option(help: "sgd, or adam for mlp and wide (PyTorch's Adam, lr 0.001).")
  var optimizer: OptimizerKind = .sgd

  @Option(help: "Threads for large products (default: all processors).")
  var threads: Int?

  @Option(help: "Use OpenBLAS when installed: on or off (default on, unless BACKPROP_BLAS=off).")
  var blas: String?

  @Option(help: "Limit the kernels' instruction set: generic, avx2 or avx512 (default: the best).")
  var kernel: String?

  func validate() throws {
    if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
    if let blas, !["on", "off"].contains(blas) {
      throw ValidationError("--blas takes on or off")
    }
    if let kernel, !["generic", "avx2", "avx512"].contains(kernel) {
      throw ValidationError("--kernel takes generic, avx2 or avx512")
    }
    if workload == .read && data == nil { throw ValidationError("read needs --data FILE") }
    if optimizer == .adam && workload == .xor {
      throw ValidationError("--optimizer adam is for mlp and wide; xor trains with plain SGD")
    }
  }

  func run() throws {
    if let threads { Kernels.threadCount = threads }
    if let blas { Kernels.usesBLAS = blas == "on" }
    if let kernel {
      Kernels.instructionSet =
        ["generic": .generic, "avx2": .avx2, "avx512": .avx512][kernel] ?? .generic
    }
    if workload == .read { return try read() }
    let parallel = try MPIReducer.launchedRanks().flatMap { $0 > 1 ? try MPIReducer() : nil }
    defer { parallel?.finish() }
    let (sizes, batch, samples, sgdRate): ([Int], Int, Int, Double) =
      switch workload {
      case .read, .xor: ([2, 4, 1], 4, 4, 0.1)
      case .mlp: ([784, 128, 10], 128, 60_000 / 128 * 128, 0.1)
      case .wide: ([784, 1024, 1024, 10], 256, 16_384, 0.05)
      }
    var generator = RandomGenerator(seed: 0)
    let (features, targets) = data(sizes: sizes, samples: samples, generator: &generator)
    var layers: [any Layer<Float>] = []
    for (index, (inputs, outputs)) in zip(sizes, sizes.dropFirst()).enumerated() {
      layers.append(
        try Linear<Float>(
          inputSize: inputs, outputSize: outputs,
          weightInitializer: .normal(mean: 0, standardDeviation: (1 / Double(inputs)).squareRoot()),
          generator: &generator))
      if index < sizes.count - 2 {
        layers.append(workload == .wide ? ReLU<Float>() : Tanh<Float>())
      } else if workload == .xor {
        layers.append(Sigmoid<Float>())
      }
    }
    let network = try Sequential<Float>(layers)
    let loss: LossFunction = workload == .xor ? .meanSquaredError : .crossEntropy
    let trainingData = try DataSet(
      features: Tensor(shape: [samples, sizes[0]], scalars: features),
      targets: Tensor(shape: [samples, sizes[sizes.count - 1]], scalars: targets))
    func makeOptimizer() throws -> any Optimizer<Float> {
      try optimizer.make(
        parameters: network.parameters,
        learningRate: optimizer == .adam ? optimizer.defaultLearningRate : sgdRate)
    }
    // One step outside the timed region, its result discarded, as peers.py compiles JAX's step
    // first: it loads BLAS, starts the worker threads and allocates the step's buffers.
    let initialWeights = network.parameters.map(\.value)
    try network.trainingStep(
      input: Tensor(shape: [batch, sizes[0]], scalars: Array(features[0..<(batch * sizes[0])])),
      target: Tensor(
        shape: [batch, sizes[sizes.count - 1]],
        scalars: Array(targets[0..<(batch * sizes[sizes.count - 1])])),
      loss: loss.loss, optimizer: try makeOptimizer())
    for (parameter, value) in zip(network.parameters, initialWeights) { parameter.value = value }
    let epochs = workload == .xor ? 20_000 : 1
    let configuration = FitConfiguration(epochs: epochs, batchSize: batch, shuffle: false)
    let timedOptimizer = try makeOptimizer()
    // The last batch's loss, which peers.py reports.
    var finalLoss = Double.nan
    let callbacks = TrainingCallbacks(afterBatch: { finalLoss = $0.loss })
    let clock = ContinuousClock()
    let start = clock.now
    let history = try network.fit(
      trainingData, loss: loss.loss, optimizer: timedOptimizer, configuration: configuration,
      callbacks: callbacks, reducer: parallel)
    let elapsed = clock.now - start
    guard (parallel?.rank ?? 0) == 0 else { return }
    let (steps, trained) = (epochs, epochs * samples)
    let seconds =
      Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    let parameterCount = zip(sizes, sizes.dropFirst()).reduce(0) { $0 + $1.0 * $1.1 + $1.1 }
    let dataBytes = (features.count + targets.count + parameterCount) * MemoryLayout<Float>.size
    let fields: [(String, String)] = [
      ("framework", "\"backprop\""), ("workload", "\"\(workload.rawValue)\""),
      ("threads", "\(Kernels.threadCount)"), ("seconds", String(format: "%.4f", seconds)),
      ("rate", String(format: "%.1f", Double(workload == .xor ? steps : trained) / seconds)),
      ("unit", workload == .xor ? "\"steps/s\"" : "\"samples/s\""),
      ("final_loss", "\(Float(finalLoss))"), ("optimizer", "\"\(optimizer.rawValue)\""),
      ("stop", "\"\(history.stopReason ?? .completed)\""),
      ("peak_rss_bytes", "\(Kernels.peakResidentBytes)"),
      ("data_and_parameter_bytes", "\(dataBytes)"),
      ("kernel", "\"\(Kernels.instructionSet)\""),
      (
        "blas",
        Kernels.usesBLAS && Kernels.isBLASAvailable
          ? "\"\(Kernels.blasCoreType ?? "on")\"" : "\"off\""
      ),
      ("ranks", "\(parallel?.rankCount ?? 1)"),
      ("allreduce_seconds", String(format: "%.4f", parallel?.communicationSeconds ?? 0)),
      ("parameters", "\(parameterCount)"),
    ]
    print("{" + fields.map { "\"\($0)\": \($1)" }.joined(separator: ", ") + "}")
  }

  /// Times reading `data` into a data set as `backprop train` reads it, and prints the bytes
  /// read per second and the peak memory against the size of the data set.
  private func read() throws {
    let path = data ?? ""
    let size = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
    let clock = ContinuousClock()
    let start = clock.now
    let set = try DataInput.load(
      path: path, target: target, labels: labels, encoding: .automatic)
    let elapsed = clock.now - start
    let seconds =
      Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    let dataBytes = (set.features.count + set.targets.count) * MemoryLayout<Float>.size
    let fields: [(String, String)] = [
      ("framework", "\"backprop\""), ("workload", "\"read\""),
      ("file", "\"\(URL(fileURLWithPath: path).lastPathComponent)\""),
      ("samples", "\(set.count)"), ("features", "\(set.featureCount)"),
      ("seconds", String(format: "%.4f", seconds)), ("file_bytes", "\(size)"),
      ("megabytes_per_second", String(format: "%.1f", Double(size) / seconds / 1e6)),
      ("peak_rss_bytes", "\(Kernels.peakResidentBytes)"), ("data_bytes", "\(dataBytes)"),
    ]
    print("{" + fields.map { "\"\($0)\": \($1)" }.joined(separator: ", ") + "}")
  }

  /// XOR's four points, or uniform features with one-hot random labels, as peers.py makes them.
  private func data(sizes: [Int], samples: Int, generator: inout RandomGenerator) -> (
    [Float], [Float]
  ) {
    if workload == .xor { return ([0, 0, 0, 1, 1, 0, 1, 1], [0, 1, 1, 0]) }
    let (inputs, classes) = (sizes[0], sizes[sizes.count - 1])
    let features = (0..<(samples * inputs)).map { _ in Float(generator.nextDouble()) }
    var targets = [Float](repeating: 0, count: samples * classes)
    for row in 0..<samples { targets[row * classes + generator.nextInt(below: classes)] = 1 }
    return (features, targets)
  }
}
