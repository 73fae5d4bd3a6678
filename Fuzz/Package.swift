// swift-tools-version:5.3
import PackageDescription

// MARK: - Fuzz targets: a package of its own, so that no user's build of Backprop compiles them

// Each target is one libFuzzer entry point (main.swift, built as a library so that libFuzzer's
// main runs it) over one parser. Scripts/fuzz builds them with -sanitize=fuzzer,address and
// -parse-as-library; tools version 5.3 keeps SwiftPM from renaming an executable's main. Debug
// builds enable testing, so a target may reach a parser's internals with @testable.
let targets: [(name: String, products: [String])] = [
  ("FuzzCSV", ["Backprop", "BackpropCSV"]),
  ("FuzzNPY", ["Backprop"]),
  ("FuzzNPZ", ["Backprop"]),
  ("FuzzIDX", ["Backprop"]),
  ("FuzzGzip", ["Backprop"]),
  ("FuzzSafeTensors", ["Backprop"]),
  ("FuzzModel", ["Backprop"]),
  ("FuzzONNX", ["Backprop", "BackpropONNX"]),
  ("FuzzSpec", ["BackpropCLI"]),
  ("FuzzCheck", ["Backprop", "BackpropCLI"]),
  ("FuzzHistory", ["Backprop", "BackpropCSV"]),
  ("FuzzPlaygroundQuery", ["BackpropPlayground"]),
  ("FuzzPlaygroundCommand", ["BackpropPlayground"]),
  ("FuzzPlaygroundUpload", ["BackpropPlayground"]),
  ("FuzzWebSocketFrames", ["BackpropPlayground"]),
]

let package = Package(
  name: "BackpropFuzz",
  dependencies: [.package(name: "Backprop", path: "..")],
  targets: [.target(name: "FuzzSupport")]
    + targets.map { target in
      .target(
        name: target.name,
        dependencies: ["FuzzSupport"]
          + target.products.map { .product(name: $0, package: "Backprop") })
    }
)
