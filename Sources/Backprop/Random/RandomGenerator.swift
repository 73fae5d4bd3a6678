/// The project's seeded random number generator: xoshiro256** (Blackman and Vigna, 2018), its
/// 256-bit state filled from the seed by SplitMix64.
///
/// Every random number in Backprop (weight initialization, shuffling, toy data) comes from this
/// generator, and each derived distribution below is computed with IEEE arithmetic only, so a seed
/// gives bit-identical numbers on every run, machine and platform:
///
/// - ``nextDouble()``: the top 53 bits of ``next()`` times 2⁻⁵³, uniform in [0, 1).
/// - ``uniform(low:high:)``: `low + (high − low) · nextDouble()`.
/// - ``normal(mean:standardDeviation:)``: Marsaglia's polar method on two uniforms in (−1, 1),
///   with the project's own logarithm (``DeterministicMath``) instead of the C library's, whose last
///   bit differs between platforms. One value is returned per accepted pair; the other is dropped.
/// - ``nextInt(below:)``: Lemire's multiply-and-reject method, without bias.
/// - ``shuffle(_:)``: Fisher–Yates from the last element down.
public struct RandomGenerator: RandomNumberGenerator, Sendable, Equatable {
  private var s0: UInt64
  private var s1: UInt64
  private var s2: UInt64
  private var s3: UInt64

  /// A generator whose whole sequence is determined by `seed`.
  public init(seed: UInt64) {
    var splitMix = seed
    func nextSplitMix() -> UInt64 {
      splitMix &+= 0x9E37_79B9_7F4A_7C15
      var z = splitMix
      z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
      z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
      return z ^ (z >> 31)
    }
    s0 = nextSplitMix()
    s1 = nextSplitMix()
    s2 = nextSplitMix()
    s3 = nextSplitMix()
  }

  /// The next 64 random bits.
  public mutating func next() -> UInt64 {
    let result = rotateLeft(s1 &* 5, by: 7) &* 9
    let t = s1 << 17
    s2 ^= s0
    s3 ^= s1
    s1 ^= s2
    s0 ^= s3
    s2 ^= t
    s3 = rotateLeft(s3, by: 45)
    return result
  }

  private func rotateLeft(_ x: UInt64, by k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

  /// A uniform number in [0, 1) with 53 random bits.
  public mutating func nextDouble() -> Double {
    Double(next() >> 11) * 0x1.0p-53
  }

  /// A uniform number in [low, high).
  public mutating func uniform(low: Double, high: Double) -> Double {
    let value = low + (high - low) * nextDouble()
    return value < high ? value : low
  }

  /// A normally distributed number.
  public mutating func normal(mean: Double = 0, standardDeviation: Double = 1) -> Double {
    while true {
      let u = 2 * nextDouble() - 1
      let v = 2 * nextDouble() - 1
      let s = u * u + v * v
      if s > 0 && s < 1 {
        let factor = (-2 * DeterministicMath.log(s) / s).squareRoot()
        return mean + standardDeviation * u * factor
      }
    }
  }

  /// A uniform integer in `0..<upperBound`, or 0 when `upperBound` is not positive.
  public mutating func nextInt(below upperBound: Int) -> Int {
    guard upperBound > 1 else { return 0 }
    let bound = UInt64(upperBound)
    let threshold = (0 &- bound) % bound
    while true {
      let (high, low) = next().multipliedFullWidth(by: bound)
      if low >= threshold { return Int(high) }
    }
  }

  /// Shuffles `elements` in place.
  public mutating func shuffle<Element>(_ elements: inout [Element]) {
    guard elements.count > 1 else { return }
    for index in stride(from: elements.count - 1, to: 0, by: -1) {
      elements.swapAt(index, nextInt(below: index + 1))
    }
  }

  /// The indices `0..<count` in random order.
  public mutating func permutation(count: Int) -> [Int] {
    var indices = Array(0..<Swift.max(count, 0))
    shuffle(&indices)
    return indices
  }
}

extension RandomGenerator: Codable {
  /// Reads a generator's state as ``encode(to:)`` writes it.
  ///
  /// - Throws: `DecodingError.dataCorrupted` unless the text is four 16-digit hexadecimal words
  ///   that are not all zero (xoshiro's one forbidden state).
  public init(from decoder: any Decoder) throws {
    let container = try decoder.singleValueContainer()
    let text = try container.decode(String.self)
    let words = text.split(separator: ":").compactMap { word in
      word.count == 16 ? UInt64(word, radix: 16) : nil
    }
    guard words.count == 4, words.contains(where: { $0 != 0 }) else {
      throw DecodingError.dataCorruptedError(
        in: container, debugDescription: "a generator state is four 16-digit hex words, not all 0")
    }
    (s0, s1, s2, s3) = (words[0], words[1], words[2], words[3])
  }

  /// Writes the 256-bit state as four 16-digit hexadecimal words joined by colons, so that a
  /// saved run resumes the same stream (JSON numbers cannot hold 64 bits).
  public func encode(to encoder: any Encoder) throws {
    var container = encoder.singleValueContainer()
    let words = [s0, s1, s2, s3].map { word in
      let digits = String(word, radix: 16)
      return String(repeating: "0", count: 16 - digits.count) + digits
    }
    try container.encode(words.joined(separator: ":"))
  }
}
