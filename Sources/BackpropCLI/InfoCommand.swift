import ArgumentParser
import Backprop
import Foundation

/// `backprop info`: what a model file or safetensors file holds.
struct InfoCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "info",
    abstract: "Describe a model file (architecture, features, classes, scaling, training) or a "
      + ".safetensors file (tensor names, types, shapes)."
  )

  @Argument(help: "The model (.json) or weights (.safetensors) file.")
  var file: String

  func run() throws {
    let url = URL(fileURLWithPath: file)
    guard url.pathExtension.lowercased() == "safetensors" else {
      print(try Model<Float>(contentsOf: url).summary)
      return
    }
    let tensors = try SafeTensors(contentsOf: url)
    print("\(file): \(tensors.names.count) tensors")
    for (name, entry) in tensors.entries {
      print("  \(name)  \(entry.dtype)  \(entry.shape)")
    }
    for key in tensors.metadata.keys.sorted() { print("\(key): \(tensors.metadata[key] ?? "")") }
  }
}
