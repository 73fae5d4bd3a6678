import CZlib
import Foundation

/// An 8-bit RGB raster image, encoded as PNG (ISO/IEC 15948) by the system zlib, for maps that
/// SVG rectangles would draw as visible blocks: decision regions and neurons' activations.
///
/// An image of at most 256 colours is written with a palette, one byte a pixel; others as RGB,
/// each row filtered with whichever of PNG's five filters gives the smallest sum of absolute
/// residuals (the heuristic the PNG specification recommends). The maps Backprop draws use
/// quantized colour scales, so a 100 × 100 map takes a few kilobytes.
public struct PNGImage: Sendable, Equatable {
  /// Pixels across.
  public let width: Int
  /// Pixels down.
  public let height: Int
  /// Red, green and blue of each pixel, row by row from the top: `3 · width · height` bytes.
  public private(set) var pixels: [UInt8]

  /// A `width` × `height` image filled with white.
  ///
  /// - Throws: ``BackpropError/invalidArgument(name:detail:)`` unless both sides are in
  ///   1...4096.
  public init(width: Int, height: Int) throws {
    guard (1...4096).contains(width), (1...4096).contains(height) else {
      throw BackpropError.invalidArgument(
        name: "image size \(width)×\(height)", detail: "each side must be in 1...4096")
    }
    self.width = width
    self.height = height
    pixels = Array(repeating: 255, count: 3 * width * height)
  }

  /// The colour of the pixel in `column` and `row` (row 0 at the top).
  public subscript(column: Int, row: Int) -> Color {
    get {
      let start = 3 * (row * width + column)
      return Color(red: pixels[start], green: pixels[start + 1], blue: pixels[start + 2])
    }
    set {
      let start = 3 * (row * width + column)
      pixels[start] = newValue.red
      pixels[start + 1] = newValue.green
      pixels[start + 2] = newValue.blue
    }
  }

  /// An 8-bit RGB colour.
  public struct Color: Sendable, Equatable {
    /// The red channel.
    public var red: UInt8
    /// The green channel.
    public var green: UInt8
    /// The blue channel.
    public var blue: UInt8

    /// A colour from its channels.
    public init(red: UInt8, green: UInt8, blue: UInt8) {
      self.red = red
      self.green = green
      self.blue = blue
    }

    /// The colour of a `#rrggbb` string (black for anything else).
    public init(hex: String) {
      let value = Int(hex.dropFirst(), radix: 16) ?? 0
      self.init(
        red: UInt8(value >> 16 & 0xff), green: UInt8(value >> 8 & 0xff), blue: UInt8(value & 0xff))
    }

    /// The colour as `#rrggbb`.
    public var hex: String {
      "#" + [red, green, blue].map { String(format: "%02x", $0) }.joined()
    }

    /// This colour mixed with `other`: `share` 0 is this colour, 1 is `other`.
    public func mixed(with other: Color, share: Double) -> Color {
      let share = min(max(share.isFinite ? share : 0, 0), 1)
      func channel(_ a: UInt8, _ b: UInt8) -> UInt8 {
        UInt8((Double(a) + (Double(b) - Double(a)) * share).rounded())
      }
      return Color(
        red: channel(red, other.red), green: channel(green, other.green),
        blue: channel(blue, other.blue))
    }

    /// White.
    public static let white = Color(red: 255, green: 255, blue: 255)
  }

  // MARK: Encoding

  /// The PNG file: signature, `IHDR`, one `IDAT` of the zlib-compressed filtered rows, `IEND`.
  ///
  /// - Throws: ``BackpropError/invalidArgument(name:detail:)`` if zlib fails (out of memory).
  public func pngData() throws -> Data {
    var file = Data([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])
    var header = Data()
    header.appendBigEndian(UInt32(width))
    header.appendBigEndian(UInt32(height))
    let palette = palette()
    // 8 bits a sample, colour type 3 (palette) or 2 (RGB), deflate, adaptive filtering, no
    // interlace.
    header.append(contentsOf: [8, palette == nil ? 2 : 3, 0, 0, 0])
    Self.appendChunk("IHDR", header, to: &file)
    if let palette {
      Self.appendChunk("PLTE", Data(palette.colors), to: &file)
      // Palette indices are not magnitudes, so they are not filtered (the specification's
      // advice).
      var rows: [UInt8] = []
      rows.reserveCapacity((width + 1) * height)
      for row in 0..<height {
        rows.append(0)
        rows += palette.indices[(row * width)..<((row + 1) * width)]
      }
      Self.appendChunk("IDAT", try Self.compressed(rows), to: &file)
    } else {
      Self.appendChunk("IDAT", try Self.compressed(filteredRows()), to: &file)
    }
    Self.appendChunk("IEND", Data(), to: &file)
    return file
  }

  /// The image's colours (RGB triples, in order of first appearance) and each pixel's index
  /// among them, when there are at most 256.
  private func palette() -> (colors: [UInt8], indices: [UInt8])? {
    var index: [UInt32: UInt8] = [:]
    var colors: [UInt8] = []
    var indices: [UInt8] = []
    indices.reserveCapacity(width * height)
    for start in stride(from: 0, to: pixels.count, by: 3) {
      let key =
        UInt32(pixels[start]) << 16 | UInt32(pixels[start + 1]) << 8
        | UInt32(pixels[start + 2])
      if let known = index[key] {
        indices.append(known)
        continue
      }
      guard index.count < 256 else { return nil }
      let next = UInt8(index.count)
      index[key] = next
      colors += pixels[start..<(start + 3)]
      indices.append(next)
    }
    return (colors, indices)
  }

  /// The image as a `data:` URI, for an SVG `<image>` or an HTML `<img>`.
  ///
  /// - Throws: as ``pngData()``.
  public func dataURI() throws -> String {
    "data:image/png;base64," + (try pngData()).base64EncodedString()
  }

  /// Each row preceded by its filter type, filtered by the one with the smallest residuals.
  private func filteredRows() -> [UInt8] {
    let stride = 3 * width
    var output: [UInt8] = []
    output.reserveCapacity((stride + 1) * height)
    var candidate = [UInt8](repeating: 0, count: stride)
    var best = [UInt8](repeating: 0, count: stride)
    for row in 0..<height {
      let start = row * stride
      var bestType: UInt8 = 0
      var bestCost = Int.max
      for type: UInt8 in 0...4 {
        var cost = 0
        for index in 0..<stride {
          let value = pixels[start + index]
          let left = index >= 3 ? pixels[start + index - 3] : 0
          let up = row > 0 ? pixels[start - stride + index] : 0
          let upLeft = row > 0 && index >= 3 ? pixels[start - stride + index - 3] : 0
          let predicted: UInt8
          switch type {
          case 0: predicted = 0
          case 1: predicted = left
          case 2: predicted = up
          case 3: predicted = UInt8((Int(left) + Int(up)) / 2)
          default: predicted = Self.paeth(left, up, upLeft)
          }
          let residual = value &- predicted
          candidate[index] = residual
          cost += residual < 128 ? Int(residual) : 256 - Int(residual)
        }
        if cost < bestCost {
          bestCost = cost
          bestType = type
          swap(&best, &candidate)
        }
      }
      output.append(bestType)
      output += best
    }
    return output
  }

  /// PNG's Paeth predictor: whichever of left, up and up-left is closest to left + up − up-left.
  private static func paeth(_ left: UInt8, _ up: UInt8, _ upLeft: UInt8) -> UInt8 {
    let estimate = Int(left) + Int(up) - Int(upLeft)
    let distances = (
      abs(estimate - Int(left)), abs(estimate - Int(up)), abs(estimate - Int(upLeft))
    )
    if distances.0 <= distances.1 && distances.0 <= distances.2 { return left }
    return distances.1 <= distances.2 ? up : upLeft
  }

  /// `bytes` as a zlib stream (RFC 1950), at zlib's best compression.
  private static func compressed(_ bytes: [UInt8]) throws -> Data {
    var capacity = compressBound(uLong(bytes.count))
    var output = [UInt8](repeating: 0, count: Int(capacity))
    let status = compress2(&output, &capacity, bytes, uLong(bytes.count), Z_BEST_COMPRESSION)
    // compressBound guarantees the room, so only running out of memory fails.
    guard status == Z_OK else {
      throw BackpropError.invalidArgument(
        name: "PNG image", detail: "zlib could not compress it (status \(status))")
    }
    return Data(output.prefix(Int(capacity)))
  }

  /// Appends a chunk: length, type, data and the CRC-32 of type and data.
  private static func appendChunk(_ type: String, _ data: Data, to file: inout Data) {
    file.appendBigEndian(UInt32(data.count))
    var body = Data(type.utf8)
    body.append(data)
    let checksum = body.withUnsafeBytes { buffer in
      crc32(0, buffer.bindMemory(to: Bytef.self).baseAddress, uInt(buffer.count))
    }
    file.append(body)
    file.appendBigEndian(UInt32(checksum))
  }
}

extension Data {
  fileprivate mutating func appendBigEndian(_ value: UInt32) {
    append(contentsOf: [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: value >> $0) })
  }
}
