import Backprop
import Foundation
import FuzzSupport

/// safetensors weights, loaded into a small network as `--weights` files are, and imported as
/// `backprop import --weights` does (by their metadata, and with two activations given).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ bytes: UnsafePointer<UInt8>, _ count: Int) -> CInt {
  guard let file = try? SafeTensors(data: fuzzData(bytes, count), source: "fuzz.safetensors"),
    let network = try? Sequential<Float>.perceptron(sizes: [2, 4, 3], activation: .relu, seed: 1)
  else { return 0 }
  try? network.loadWeights(from: file)
  for activations in [nil, ["relu", "identity"]] {
    _ = try? Model<Float>(
      safeTensors: file, activations: activations, loss: nil, classNames: nil,
      source: "fuzz.safetensors")
  }
  return 0
}
