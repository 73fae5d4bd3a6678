import Foundation
import Testing

@testable import Backprop

/// PNG images as the maps use them, decoded by an independent reader written here: chunks and
/// their CRC-32, the zlib stream inflated, the five row filters undone.
@Suite("Raster maps")
struct RasterMapTests {
  /// The pixels of a PNG file as RGB triples, and its colour type.
  private func decode(_ png: Data) throws -> (width: Int, height: Int, type: UInt8, rgb: [UInt8]) {
    let bytes = [UInt8](png)
    #expect(Array(bytes.prefix(8)) == [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
    var offset = 8
    var chunks: [(String, [UInt8])] = []
    func integer(_ at: Int) -> Int {
      bytes[at..<(at + 4)].reduce(0) { $0 << 8 | Int($1) }
    }
    while offset < bytes.count {
      let length = integer(offset)
      let type = String(decoding: bytes[(offset + 4)..<(offset + 8)], as: UTF8.self)
      let body = Array(bytes[(offset + 8)..<(offset + 8 + length)])
      // CRC-32 (IEEE, reflected), bit by bit.
      var crc: UInt32 = 0xffff_ffff
      for byte in bytes[(offset + 4)..<(offset + 8 + length)] {
        crc ^= UInt32(byte)
        for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ 0xedb8_8320 : crc >> 1 }
      }
      #expect(UInt32(integer(offset + 8 + length)) == ~crc, "CRC of \(type)")
      chunks.append((type, body))
      offset += 12 + length
    }
    #expect(chunks.first?.0 == "IHDR" && chunks.last?.0 == "IEND")
    let header = try #require(chunks.first?.1)
    let width = header[0..<4].reduce(0) { $0 << 8 | Int($1) }
    let height = header[4..<8].reduce(0) { $0 << 8 | Int($1) }
    let type = header[9]
    #expect(header[8] == 8 && (type == 2 || type == 3) && header[12] == 0)
    let stream = chunks.filter { $0.0 == "IDAT" }.flatMap(\.1)
    // A zlib stream: two header bytes, raw DEFLATE, four bytes of Adler-32.
    #expect(stream[0] & 0x0f == 8 && (Int(stream[0]) << 8 | Int(stream[1])) % 31 == 0)
    let channels = type == 2 ? 3 : 1
    let stride = width * channels
    let inflated = try GzipReader(
      Data(stream[2..<(stream.count - 4)]), source: "IDAT", raw: true
    ).read((stride + 1) * height)
    var rows = [UInt8](inflated)
    var out: [UInt8] = []
    for row in 0..<height {
      let filter = rows[row * (stride + 1)]
      for index in 0..<stride {
        let at = row * (stride + 1) + 1 + index
        let left = index >= channels ? Int(rows[at - channels]) : 0
        let up = row > 0 ? Int(rows[at - stride - 1]) : 0
        let upLeft = row > 0 && index >= channels ? Int(rows[at - stride - 1 - channels]) : 0
        let predictor: Int
        switch filter {
        case 0: predictor = 0
        case 1: predictor = left
        case 2: predictor = up
        case 3: predictor = (left + up) / 2
        default:
          let p = left + up - upLeft
          let (a, b, c) = (abs(p - left), abs(p - up), abs(p - upLeft))
          predictor = a <= b && a <= c ? left : b <= c ? up : upLeft
        }
        rows[at] = UInt8((Int(rows[at]) + predictor) & 0xff)
        out.append(rows[at])
      }
    }
    if type == 3 {
      let palette = try #require(chunks.first { $0.0 == "PLTE" }?.1)
      out = out.flatMap { palette[(3 * Int($0))..<(3 * Int($0) + 3)] }
    }
    return (width, height, type, out)
  }

  @Test func imagesRoundTripThroughAnIndependentDecoder() throws {
    // A smooth gradient (a few colours: palette) and noise (many: RGB).
    var smooth = try PNGImage(width: 37, height: 40)
    var noisy = try PNGImage(width: 20, height: 20)
    var generator = RandomGenerator(seed: 9)
    for row in 0..<40 {
      for column in 0..<37 {
        smooth[column, row] = Plot.divergingColor(Double(column - row) / 40, levels: 8)
      }
    }
    // 400 pixels of random colours: more than a palette's 256.
    for row in 0..<20 {
      for column in 0..<20 {
        let value = { UInt8(generator.uniform(low: 0, high: 255.99)) }
        noisy[column, row] = PNGImage.Color(red: value(), green: value(), blue: value())
      }
    }
    for image in [smooth, noisy] {
      let decoded = try decode(try image.pngData())
      #expect(decoded.width == image.width && decoded.height == image.height)
      #expect(decoded.rgb == image.pixels)
    }
    #expect(try decode(try smooth.pngData()).type == 3 && decode(try noisy.pngData()).type == 2)
    #expect(try smooth.dataURI().hasPrefix("data:image/png;base64,iVBORw0KGgo"))
    expectError(containing: "each side must be in 1...4096") {
      _ = try PNGImage(width: 0, height: 3)
    }
  }

  @Test func theDivergingScaleRunsFromOrangeThroughWhiteToBlue() {
    #expect(Plot.divergingColor(0) == .white && Plot.divergingColor(.nan) == .white)
    #expect(Plot.divergingColor(1) == PNGImage.Color(hex: Plot.color(0)))
    #expect(Plot.divergingColor(-3) == PNGImage.Color(hex: Plot.color(1)))
    let shades = Set((-100...100).map { Plot.divergingColor(Double($0) / 100, levels: 16).hex })
    #expect(shades.count == 33)
  }

  @Test func rasterDecisionRegionsAreOneSmoothImage() throws {
    let data: DataSet<Double> = try ToyData.xor(count: 80, seed: 3)
    // Class 1 grows more certain with x: the raster shades it continuously.
    let predict = { (features: Tensor<Double>) throws -> Tensor<Double> in
      let scalars = features.scalars
      let probabilities: [Double] = (0..<features.shape[0]).map { row in
        1 / (1 + Foundation.exp(-4 * scalars[2 * row]))
      }
      return try Tensor(shape: [features.shape[0], 1], scalars: probabilities)
    }
    let raster = try Plot.decisionRegions(
      data: data, resolution: 100, raster: true, predict: predict)
    let svg = SVGElements(raster.svg)
    #expect(svg.count("image") == 1 && svg.count(class: "region") == 0)
    // 80 points and the legend's two.
    #expect(svg.count("circle") == 82 && svg.rootAttributes["data-plot-area"] == "80 50 690 480")
    let uri = try #require(
      raster.svg.components(separatedBy: "href='").dropFirst().first?.prefix { $0 != "'" })
    let png = try #require(
      Data(base64Encoded: String(uri.dropFirst("data:image/png;base64,".count))))
    let image = try decode(png)
    #expect(image.width == 100 && image.height == 100)
    // Along a row, the colour changes in many small steps, not four.
    let row = (0..<100).map { image.rgb[3 * (50 * 100 + $0)] }
    #expect(Set(row).count > 10, "\(Set(row).count) shades")
    // At default settings such a map is small.
    #expect(png.count < 4000, "\(png.count) bytes")
    let blocks = try Plot.decisionRegions(data: data, resolution: 100, predict: predict)
    #expect(SVGElements(blocks.svg).count(class: "region") > 0)
  }

  @Test func twoFeatureRegressionsAreDrawnAsAMap() throws {
    let data: DataSet<Double> = try ToyData.plane(count: 50, seed: 1)
    let map = try Plot.regressionMap(data: data, resolution: 40) { features in
      let scalars: [Double] = features.scalars
      var means: [Double] = []
      for row in 0..<features.shape[0] {
        let sum: Double = scalars[2 * row] + scalars[2 * row + 1]
        means.append(sum / 2)
      }
      return try Tensor(shape: [features.shape[0], 1], scalars: means)
    }
    let svg = SVGElements(map.svg)
    // 50 points and the legend's two.
    #expect(svg.count("image") == 1 && svg.count("circle") == 52 && svg.count(class: "point") > 1)
    let classes: DataSet<Double> = try ToyData.xor(count: 20, seed: 1)
    expectError(containing: "one numeric target") {
      _ = try Plot.regressionMap(data: classes) { $0 }
    }
  }

  @Test func curveImagesDrawTheCurveConnected() throws {
    let image = try Plot.curveImage([-1, 1], width: 10, height: 11, scale: 1)
    // From the bottom left to the top right, every column has a drawn pixel.
    #expect(image[0, 10] != .white && image[9, 0] != .white)
    for column in 0..<10 {
      #expect(
        (0..<11).contains {
          image[column, $0] != .white && image[column, $0] != PNGImage.Color(hex: "#bbbbbb")
        })
    }
    expectError(containing: "two values or more") {
      _ = try Plot.curveImage([1], width: 4, height: 4, scale: 1)
    }
  }
}
