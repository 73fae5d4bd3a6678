// swift-tools-version: 6.1
import PackageDescription

// MARK: - Package

let package = Package(
  name: "Backprop",
  platforms: [.macOS(.v13)],
  products: [
    .library(name: "Backprop", targets: ["Backprop"]),
    .executable(name: "backprop", targets: ["backprop"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2")
  ],
  targets: [
    // MARK: - Core library (no dependencies beyond the toolchain)

    .target(name: "Backprop"),

    // MARK: - Command-line tool

    .target(
      name: "BackpropCLI",
      dependencies: [
        "Backprop",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]
    ),
    .executableTarget(name: "backprop", dependencies: ["BackpropCLI"]),

    // MARK: - Examples (built with the package so that they never go stale)

    .executableTarget(name: "QuickStart", dependencies: ["Backprop"], path: "Examples/QuickStart"),

    // MARK: - Tests

    .testTarget(name: "BackpropTests", dependencies: ["Backprop"]),
    .testTarget(name: "BackpropCLITests", dependencies: ["BackpropCLI", "backprop"]),
  ]
)
