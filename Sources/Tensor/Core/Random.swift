import Foundation

/// A small, fast, seedable generator (SplitMix64) so runs are reproducible across platforms.
public struct SeededGenerator: RandomNumberGenerator, Sendable {
    private var state: UInt64

    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension SeededGenerator {
    /// A standard normal sample.
    public mutating func nextGaussian() -> Double { nextGaussianPair().0 }

    /// Two independent standard normal samples (Box–Muller uses both halves).
    public mutating func nextGaussianPair() -> (Double, Double) {
        let u1 = Double.random(in: Double.ulpOfOne..<1, using: &self)
        let u2 = Double.random(in: 0..<1, using: &self)
        let radius = (-2 * log(u1)).squareRoot()
        return (radius * cos(2 * Double.pi * u2), radius * sin(2 * Double.pi * u2))
    }
}
