// swift-tools-version: 6.1
import PackageDescription

// MARK: - Package

let package = Package(
  name: "Backprop",
  platforms: [.macOS(.v13)],
  products: [
    .library(name: "Backprop", targets: ["Backprop"]),
    .library(name: "BackpropCSV", targets: ["BackpropCSV"]),
    .library(name: "BackpropONNX", targets: ["BackpropONNX"]),
    // The commands and the playground server as libraries, for tools built on them (Fuzz/).
    .library(name: "BackpropCLI", targets: ["BackpropCLI"]),
    .library(name: "BackpropPlayground", targets: ["BackpropPlayground"]),
    .executable(name: "backprop", targets: ["backprop"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    .package(url: "https://github.com/yaslab/CSV.swift", from: "2.5.2"),
    .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
    .package(url: "https://github.com/hummingbird-project/hummingbird-websocket", from: "2.8.1"),
    .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
    .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
    .package(url: "https://github.com/apple/swift-protobuf", from: "1.39.0"),
  ],
  targets: [
    // MARK: - Core library (no dependencies beyond the toolchain and the system zlib)

    .target(name: "Backprop", dependencies: ["CBackpropKernels", "CZlib", "CBackpropMPI"]),

    // MARK: - The system zlib (gzip files), through a module map and a shim for its init macros

    .systemLibrary(
      name: "CZlib", path: "Sources/CZlib", pkgConfig: "zlib",
      providers: [.apt(["zlib1g-dev"]), .brew(["zlib"])]),

    // MARK: - Compute kernels in C: SIMD micro-kernels chosen at run time, OpenBLAS by dlopen

    .target(name: "CBackpropKernels"),

    // MARK: - MPI for data-parallel training, loaded by dlopen (no build dependency)

    .target(name: "CBackpropMPI"),

    // MARK: - CSV files (the core stays free of dependencies; CSV parsing is CSV.swift's)

    .target(
      name: "BackpropCSV",
      dependencies: ["Backprop", .product(name: "CSV", package: "CSV.swift")]
    ),

    // MARK: - ONNX export and import (protobuf through swift-protobuf; the messages' code is
    // generated once by Scripts/generate-onnx and committed)

    .target(
      name: "BackpropONNX",
      dependencies: ["Backprop", .product(name: "SwiftProtobuf", package: "swift-protobuf")]
    ),

    // MARK: - Web playground (its own target: the core never imports a server)

    .target(
      name: "BackpropPlayground",
      dependencies: [
        "Backprop", "BackpropCSV",
        .product(name: "Hummingbird", package: "hummingbird"),
        .product(name: "HummingbirdCore", package: "hummingbird"),
        .product(name: "HTTPTypes", package: "swift-http-types"),
        .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOHTTP1", package: "swift-nio"),
      ]
    ),

    // MARK: - Command-line tool

    .target(
      name: "BackpropCLI",
      dependencies: [
        "Backprop",
        "BackpropCSV",
        "BackpropONNX",
        "BackpropPlayground",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "Yams", package: "Yams"),
      ]
    ),
    .executableTarget(name: "backprop", dependencies: ["BackpropCLI"]),

    // MARK: - Examples (built with the package so that they never go stale)

    .executableTarget(name: "QuickStart", dependencies: ["Backprop"], path: "Examples/QuickStart"),
    .executableTarget(
      name: "IrisClassifier", dependencies: ["Backprop", "BackpropCSV"],
      path: "Examples/IrisClassifier", exclude: ["iris.csv"]),

    // MARK: - Tests

    .testTarget(name: "BackpropTests", dependencies: ["Backprop"]),
    .testTarget(name: "BackpropCSVTests", dependencies: ["BackpropCSV"]),
    .testTarget(name: "BackpropONNXTests", dependencies: ["BackpropONNX"]),
    .testTarget(name: "BackpropPlaygroundTests", dependencies: ["BackpropPlayground"]),
    .testTarget(name: "BackpropCLITests", dependencies: ["BackpropCLI", "backprop"]),
  ]
)

// MARK: - Documentation (Scripts/docs sets BACKPROP_DOCS, so that users' builds never fetch the
// DocC plugin)

if Context.environment["BACKPROP_DOCS"] != nil {
  package.dependencies.append(
    .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"))
}
