import Tensor

/// A hash of texts that is the same on every run and machine (Swift's `Hasher` is seeded per process): FNV-1a over
/// the bytes, then SplitMix64's finaliser, so every bit of the result depends on the seed and on every byte.
enum StableHash {
    static func of(_ texts: [String], seed: UInt64) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for text in texts {
            for byte in text.utf8 + [0] {
                hash ^= UInt64(byte)
                hash = hash &* 0x100_0000_01b3
            }
        }
        var generator = SeededGenerator(seed: hash ^ seed)
        return generator.next()
    }
}
