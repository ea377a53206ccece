import Foundation

/// A tokenizer.json `normalizer`: rewrites text before it is split into words.
protocol Normalizer: Sendable {
    func normalize(_ text: String) -> String
}

func makeNormalizer(_ json: JSON) throws -> any Normalizer {
    let context = "normalizer \(json.typeName ?? "")"
    switch json.typeName {
    case "NFC": return UnicodeNormalizer(form: .nfc)
    case "NFD": return UnicodeNormalizer(form: .nfd)
    case "NFKC": return UnicodeNormalizer(form: .nfkc)
    case "NFKD": return UnicodeNormalizer(form: .nfkd)
    case "Lowercase": return LowercaseNormalizer()
    case "StripAccents": return StripAccentsNormalizer()
    case "Strip":
        return StripNormalizer(left: json["strip_left"]?.bool ?? true, right: json["strip_right"]?.bool ?? true)
    case "Prepend":
        return PrependNormalizer(prefix: try json.requiredString("prepend", in: context))
    case "Replace":
        guard let pattern = json["pattern"] else { throw TokenizerError("\(context): missing \"pattern\"") }
        return ReplaceNormalizer(pattern: try TextPattern(json: pattern, in: context),
                                 content: try json.requiredString("content", in: context))
    case "BertNormalizer":
        return BertNormalizer(json)
    case "Precompiled":
        return try PrecompiledNormalizer(json)
    case "Sequence":
        return NormalizerSequence(normalizers: try json.requiredArray("normalizers", in: context).map(makeNormalizer))
    default:
        throw TokenizerError.unsupported("normalizer", json.typeName)
    }
}

struct UnicodeNormalizer: Normalizer {
    enum Form { case nfc, nfd, nfkc, nfkd }
    let form: Form

    func normalize(_ text: String) -> String {
        switch form {
        case .nfc: Self.composed(text)
        case .nfd: text.decomposedStringWithCanonicalMapping
        // Foundation's own NFKC leaves the conjoining jamo of halfwidth Hangul letters uncomposed;
        // composing the NFKD form is NFKC by definition.
        case .nfkc: Self.composed(text.decomposedStringWithCompatibilityMapping)
        case .nfkd: text.decomposedStringWithCompatibilityMapping
        }
    }

    /// NFC. Foundation's Hangul composition is off by one at both range ends: it composes U+1113
    /// with a following vowel and U+1176 with a preceding consonant. Neither composes in Unicode, so
    /// cutting the text after U+1113 and before U+1176 and normalizing the parts apart is exact.
    private static func composed(_ text: String) -> String {
        let unsafeStart: Unicode.Scalar = "\u{1113}"
        let unsafeEnd: Unicode.Scalar = "\u{1176}"
        guard text.unicodeScalars.contains(where: { $0 == unsafeStart || $0 == unsafeEnd }) else {
            return text.precomposedStringWithCanonicalMapping
        }
        var result = ""
        var part = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            if scalar == unsafeEnd {
                result += String(part).precomposedStringWithCanonicalMapping
                part = String.UnicodeScalarView()
            }
            part.append(scalar)
            if scalar == unsafeStart {
                result += String(part).precomposedStringWithCanonicalMapping
                part = String.UnicodeScalarView()
            }
        }
        return result + String(part).precomposedStringWithCanonicalMapping
    }
}

/// Lowercases scalar by scalar, without context rules (final sigma), as the Rust library does.
struct LowercaseNormalizer: Normalizer {
    func normalize(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            if scalar.isASCII {
                let isUpper = scalar.value >= 0x41 && scalar.value <= 0x5A
                result.unicodeScalars.append(isUpper ? Unicode.Scalar(UInt8(scalar.value) + 0x20) : scalar)
            } else {
                result += scalar.properties.lowercaseMapping
            }
        }
        return result
    }
}

/// Drops combining marks; meant to follow an NFD/NFKD normalizer.
struct StripAccentsNormalizer: Normalizer {
    func normalize(_ text: String) -> String {
        var result = String.UnicodeScalarView()
        result.append(contentsOf: text.unicodeScalars.filter { !$0.isCombiningMark })
        return String(result)
    }
}

struct StripNormalizer: Normalizer {
    let left: Bool
    let right: Bool

    func normalize(_ text: String) -> String {
        let scalars = text.unicodeScalars
        var start = scalars.startIndex
        var end = scalars.endIndex
        if left {
            while start < end, scalars[start].properties.isWhitespace { start = scalars.index(after: start) }
        }
        if right {
            while end > start, scalars[scalars.index(before: end)].properties.isWhitespace { end = scalars.index(before: end) }
        }
        return String(scalars[start..<end])
    }
}

struct PrependNormalizer: Normalizer {
    let prefix: String

    func normalize(_ text: String) -> String { text.isEmpty ? text : prefix + text }
}

struct ReplaceNormalizer: Normalizer {
    let pattern: TextPattern
    let content: String

    func normalize(_ text: String) -> String { pattern.replacingMatches(in: text, with: content) }
}

struct NormalizerSequence: Normalizer {
    let normalizers: [any Normalizer]

    func normalize(_ text: String) -> String { normalizers.reduce(text) { $1.normalize($0) } }
}
