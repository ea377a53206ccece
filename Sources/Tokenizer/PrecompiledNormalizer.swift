import Foundation

/// SentencePiece's own normalization (`nmt_nfkc` and the like), carried in tokenizer.json as the
/// model's `precompiled_charsmap`: a Darts double-array trie from UTF-8 strings to offsets into a
/// blob of NUL-terminated replacement strings.
///
/// The text is rewritten grapheme cluster by grapheme cluster, as the `tokenizers` library does: a
/// cluster shorter than 6 bytes that has a match is replaced whole by the replacement of its
/// shortest matching prefix; otherwise each of its characters is looked up alone.
struct PrecompiledNormalizer: Normalizer {
    private let units: [UInt32]
    /// The replacement strings, each ended by a NUL byte.
    private let normalized: [UInt8]

    init(_ json: JSON) throws {
        let context = "normalizer Precompiled"
        let encoded = try json.requiredString("precompiled_charsmap", in: context)
        guard let data = Data(base64Encoded: encoded) else {
            throw TokenizerError("\(context): precompiled_charsmap is not base64")
        }
        try self.init(charsmap: [UInt8](data), in: context)
    }

    /// `charsmap`: a little-endian UInt32 byte size of the trie, the trie's UInt32 units, then the
    /// replacement strings.
    init(charsmap bytes: [UInt8], in context: String = "normalizer Precompiled") throws {
        func uint32(at offset: Int) -> UInt32 {
            (0..<4).reduce(0) { $0 | UInt32(bytes[offset + $1]) << (8 * $1) }
        }
        guard bytes.count >= 4 else { throw TokenizerError("\(context): precompiled_charsmap is too short") }
        let trieSize = Int(uint32(at: 0))
        guard trieSize > 0, trieSize % 4 == 0, bytes.count >= 4 + trieSize else {
            throw TokenizerError("\(context): precompiled_charsmap has an invalid trie size \(trieSize)")
        }
        units = stride(from: 4, to: 4 + trieSize, by: 4).map(uint32(at:))
        normalized = Array(bytes[(4 + trieSize)...])
        guard String(validating: normalized, as: UTF8.self) != nil else {
            throw TokenizerError("\(context): the normalized strings of precompiled_charsmap are not UTF-8")
        }
    }

    func normalize(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for cluster in text {
            let bytes = Array(cluster.utf8)
            if bytes.count < 6, let replacement = transform(bytes[...]) {
                result += replacement
                continue
            }
            var offset = 0
            for scalar in cluster.unicodeScalars {
                let width = UTF8.width(scalar)
                if let replacement = transform(bytes[offset..<offset + width]) {
                    result += replacement
                } else {
                    result.unicodeScalars.append(scalar)
                }
                offset += width
            }
        }
        return result
    }

    /// The replacement for the shortest prefix of `key` in the trie, if any.
    func transform(_ key: ArraySlice<UInt8>) -> String? {
        guard let value = shortestPrefixValue(key) else { return nil }
        let start = Int(value)
        guard start <= normalized.count else { return nil }
        let end = normalized[start...].firstIndex(of: 0) ?? normalized.count
        return String(decoding: normalized[start..<end], as: UTF8.self)
    }

    /// Darts' common-prefix search, stopped at the first (shortest) match; a NUL byte ends the key.
    private func shortestPrefixValue(_ key: ArraySlice<UInt8>) -> UInt32? {
        guard let root = units.first else { return nil }
        var position = Self.offset(root)
        for byte in key {
            if byte == 0 { return nil }
            position ^= Int(byte)
            guard position < units.count else { return nil }
            let unit = units[position]
            guard Self.label(unit) == UInt32(byte) else { return nil }
            position ^= Self.offset(unit)
            if Self.hasLeaf(unit) {
                guard position < units.count else { return nil }
                return units[position] & 0x7FFF_FFFF
            }
        }
        return nil
    }

    private static func hasLeaf(_ unit: UInt32) -> Bool { (unit >> 8) & 1 == 1 }
    private static func label(_ unit: UInt32) -> UInt32 { unit & (1 << 31 | 0xFF) }
    private static func offset(_ unit: UInt32) -> Int { Int((unit >> 10) << ((unit & (1 << 9)) >> 6)) }
}
