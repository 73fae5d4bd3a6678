import ArgumentParser
import Backprop
import Foundation

/// `backprop bench`: the training workloads of `shared/bench/peers.py`, timed the same way.
struct BenchCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "bench",
    abstract:
      "Time the xor, mlp and wide training workloads, as peers.py times numpy, PyTorch and JAX.",
    discussion: """
      xor: 2-4-1 tanh/sigmoid, MSE, full batch of 4, 20000 plain GD steps (steps/s). mlp: \
      784-128-10 tanh/softmax cross-entropy, batch 128, one epoch of 60000 (samples/s). wide: \
      784-1024-1024-10 ReLU/softmax cross-entropy, batch 256, 16384 samples (samples/s). Data \
      are seeded uniform features and random labels, weights N(0, 1/fan_in), biases 0, plain \
      SGD (lr 0.1, 0.1, 0.05), Float, the fused trainer. Prints one JSON line like peers.py, \
      plus peak resident memory and the bytes of data and parameters.
      """
  )

  enum Workload: String, ExpressibleByArgument, CaseIterable {
    case xor, mlp, wide
  }

  @Argument(help: "xor, mlp or wide.")
  var workload: Workload

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
  }

  func run() throws {
    if let threads { Kernels.threadCount = threads }
    if let blas { Kernels.usesBLAS = blas == "on" }
    if let kernel {
      Kernels.instructionSet =
        ["generic": .generic, "avx2": .avx2, "avx512": .avx512][kernel] ?? .generic
    }
    let (sizes, batch, samples, rate): ([Int], Int, Int, Float) =
      switch workload {
      case .xor: ([2, 4, 1], 4, 4, 0.1)
      case .mlp: ([784, 128, 10], 128, 60_000, 0.1)
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
    let trainer = try FusedNetwork(
      network, loss: workload == .xor ? .meanSquaredError : .crossEntropy)
    let inputs = sizes[0]
    let outputs = sizes[sizes.count - 1]
    // One step outside the timed region, its result discarded, as peers.py compiles JAX's step
    // first: it loads BLAS, starts the worker threads and allocates the trainer's buffers.
    let initialWeights = network.parameters.map(\.value)
    features.withUnsafeBufferPointer { features in
      targets.withUnsafeBufferPointer { targets in
        _ = trainer.step(features: features, targets: targets, batch: batch, learningRate: rate)
      }
    }
    for (parameter, value) in zip(network.parameters, initialWeights) { parameter.value = value }
    let clock = ContinuousClock()
    var loss: Float = 0
    var steps = 0
    var trained = 0
    let start = clock.now
    features.withUnsafeBufferPointer { features in
      targets.withUnsafeBufferPointer { targets in
        if workload == .xor {
          for _ in 0..<20_000 {
            loss = trainer.step(features: features, targets: targets, batch: 4, learningRate: rate)
          }
          steps = 20_000
        } else {
          func rows(_ offset: Int) -> Range<Int> { (offset * inputs)..<((offset + batch) * inputs) }
          for offset in stride(from: 0, through: samples - batch, by: batch) {
            let next = offset + batch
            loss = trainer.step(
              features: UnsafeBufferPointer(rebasing: features[rows(offset)]),
              targets: UnsafeBufferPointer(
                rebasing: targets[(offset * outputs)..<((offset + batch) * outputs)]),
              batch: batch, learningRate: rate,
              upcomingFeatures: next + batch <= samples
                ? UnsafeBufferPointer(rebasing: features[rows(next)]) : nil)
            trained += batch
          }
        }
      }
    }
    let elapsed = clock.now - start
    let seconds =
      Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    let parameterCount = zip(sizes, sizes.dropFirst()).reduce(0) { $0 + $1.0 * $1.1 + $1.1 }
    let dataBytes = (features.count + targets.count + parameterCount) * MemoryLayout<Float>.size
    let fields: [(String, String)] = [
      ("framework", "\"backprop\""), ("workload", "\"\(workload.rawValue)\""),
      ("threads", "\(Kernels.threadCount)"), ("seconds", String(format: "%.4f", seconds)),
      ("rate", String(format: "%.1f", Double(workload == .xor ? steps : trained) / seconds)),
      ("unit", workload == .xor ? "\"steps/s\"" : "\"samples/s\""), ("final_loss", "\(loss)"),
      ("peak_rss_bytes", "\(Kernels.peakResidentBytes)"),
      ("data_and_parameter_bytes", "\(dataBytes)"),
      ("kernel", "\"\(Kernels.instructionSet)\""),
      (
        "blas",
        Kernels.usesBLAS && Kernels.isBLASAvailable
          ? "\"\(Kernels.blasCoreType ?? "on")\"" : "\"off\""
      ),
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
