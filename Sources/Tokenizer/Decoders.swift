/// A tokenizer.json `decoder`: turns the tokens of an id sequence back into text pieces, which are
/// then concatenated.
protocol Decoder: Sendable {
    func decode(_ tokens: [String]) -> [String]
    /// Whether runs of `<0xXX>` tokens decode as a whole, so a later byte can change earlier text.
    var joinsByteRuns: Bool { get }
}

extension Decoder {
    var joinsByteRuns: Bool { false }
}

func makeDecoder(_ json: JSON) throws -> any Decoder {
    let context = "decoder \(json.typeName ?? "")"
    switch json.typeName {
    case "ByteLevel": return ByteLevelDecoder()
    case "Metaspace": return MetaspaceDecoder(try MetaspacePreTokenizer(json, in: context))
    case "ByteFallback": return ByteFallbackDecoder()
    case "Fuse": return FuseDecoder()
    case "Strip":
        let content = try json.requiredString("content", in: context).unicodeScalars
        guard content.count == 1, let scalar = content.first else { throw TokenizerError("\(context): \"content\" must be one character") }
        return StripDecoder(content: scalar, start: json["start"]?.int ?? 0, stop: json["stop"]?.int ?? 0)
    case "Replace":
        guard let pattern = json["pattern"] else { throw TokenizerError("\(context): missing \"pattern\"") }
        return ReplaceDecoder(pattern: try TextPattern(json: pattern, in: context),
                              content: try json.requiredString("content", in: context))
    case "WordPiece":
        return WordPieceDecoder(prefix: json["prefix"]?.string ?? "##", cleansUp: json["cleanup"]?.bool ?? true)
    case "Sequence":
        return DecoderSequence(decoders: try json.requiredArray("decoders", in: context).map(makeDecoder))
    default:
        throw TokenizerError.unsupported("decoder", json.typeName)
    }
}

/// Joins the tokens' bytes and reads them as UTF-8, invalid sequences becoming U+FFFD.
struct ByteLevelDecoder: Decoder {
    func decode(_ tokens: [String]) -> [String] {
        var bytes: [UInt8] = []
        for token in tokens { bytes += ByteLevel.bytes(of: token) ?? Array(token.utf8) }
        return [String(decoding: bytes, as: UTF8.self)]
    }
}

/// Replacement characters back to spaces; the first token loses them all when the pre-tokenizer
/// prepends one (what the Rust library does).
struct MetaspaceDecoder: Decoder {
    let replacement: Unicode.Scalar
    let dropsFromFirstToken: Bool

    init(_ settings: MetaspacePreTokenizer) {
        replacement = settings.replacement
        dropsFromFirstToken = settings.prependScheme != .never
    }

    func decode(_ tokens: [String]) -> [String] {
        tokens.enumerated().map { index, token in
            var scalars = String.UnicodeScalarView()
            for scalar in token.unicodeScalars {
                if scalar != replacement {
                    scalars.append(scalar)
                } else if index > 0 || !dropsFromFirstToken {
                    scalars.append(" ")
                }
            }
            return String(scalars)
        }
    }
}

/// Runs of `<0xXX>` tokens become the text their bytes spell, or one U+FFFD per byte when the run
/// is not valid UTF-8.
struct ByteFallbackDecoder: Decoder {
    var joinsByteRuns: Bool { true }

    func decode(_ tokens: [String]) -> [String] {
        var result: [String] = []
        var pendingBytes: [UInt8] = []
        func flush() {
            guard !pendingBytes.isEmpty else { return }
            if let text = String(validating: pendingBytes, as: UTF8.self) {
                result.append(text)
            } else {
                result += Array(repeating: "\u{FFFD}", count: pendingBytes.count)
            }
            pendingBytes.removeAll()
        }
        for token in tokens {
            if let byte = Self.byte(of: token) {
                pendingBytes.append(byte)
            } else {
                flush()
                result.append(token)
            }
        }
        flush()
        return result
    }

    static func byte(of token: String) -> UInt8? {
        let utf8 = Array(token.utf8)
        guard utf8.count == 6, utf8.starts(with: Array("<0x".utf8)), utf8[5] == UInt8(ascii: ">") else { return nil }
        return UInt8(String(decoding: utf8[3..<5], as: UTF8.self), radix: 16)
    }
}

struct FuseDecoder: Decoder {
    func decode(_ tokens: [String]) -> [String] { [tokens.joined()] }
}

/// Removes up to `start` leading and `stop` trailing `content` characters from each token.
struct StripDecoder: Decoder {
    let content: Unicode.Scalar
    let start: Int
    let stop: Int

    func decode(_ tokens: [String]) -> [String] {
        tokens.map { token in
            let scalars = Array(token.unicodeScalars)
            var lower = 0
            while lower < min(start, scalars.count), scalars[lower] == content { lower += 1 }
            var upper = scalars.count
            while scalars.count - upper < stop, upper > lower, scalars[upper - 1] == content { upper -= 1 }
            var view = String.UnicodeScalarView()
            view.append(contentsOf: scalars[lower..<upper])
            return String(view)
        }
    }
}

struct ReplaceDecoder: Decoder {
    let pattern: TextPattern
    let content: String

    func decode(_ tokens: [String]) -> [String] { tokens.map { pattern.replacingMatches(in: $0, with: content) } }
}

/// Tokens after the first become " token", or lose their "##" prefix to continue the word before;
/// `cleanup` then glues punctuation and English contractions back on, token by token.
struct WordPieceDecoder: Decoder {
    let prefix: String
    let cleansUp: Bool

    private static let cleanups = [(" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"),
                                   (" 'm", "'m"), (" do not", " don't"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re")]
        .map { (TextPattern.literal($0.0), $0.1) }

    func decode(_ tokens: [String]) -> [String] {
        tokens.enumerated().map { index, token in
            var text = token
            if index > 0 {
                if text.utf8.starts(with: prefix.utf8) {
                    text = String(decoding: text.utf8.dropFirst(prefix.utf8.count), as: UTF8.self)
                } else {
                    text = " " + text
                }
            }
            guard cleansUp else { return text }
            return Self.cleanups.reduce(text) { $1.0.replacingMatches(in: $0, with: $1.1) }
        }
    }
}

struct DecoderSequence: Decoder {
    let decoders: [any Decoder]

    var joinsByteRuns: Bool { decoders.contains { $0.joinsByteRuns } }

    func decode(_ tokens: [String]) -> [String] { decoders.reduce(tokens) { $1.decode($0) } }
}
