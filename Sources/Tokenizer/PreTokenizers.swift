import Foundation

/// A piece of normalized text on its way to the model.
struct TextPiece: Sendable {
    var text: String
    /// Whether the piece begins where the input text begins (Metaspace's `"first"` prepend scheme).
    var isFirst: Bool

    /// The non-empty pieces that `behavior` keeps of this one's `pattern` matches.
    func split(by pattern: TextPattern, behavior: SplitBehavior, invert: Bool = false) -> [TextPiece] {
        var matches = pattern.pieces(of: text)
        if invert { matches = matches.map { ($0.range, !$0.isMatch) } }
        return behavior.apply(to: matches).compactMap { range in
            range.isEmpty ? nil : TextPiece(text: String(text[range]), isFirst: isFirst && range.lowerBound == text.startIndex)
        }
    }
}

/// A tokenizer.json `pre_tokenizer`: cuts a piece of text into the words the model sees.
protocol PreTokenizer: Sendable {
    /// The non-empty pieces `piece` splits into.
    func split(_ piece: TextPiece) -> [TextPiece]
}

func makePreTokenizer(_ json: JSON) throws -> any PreTokenizer {
    let context = "pre_tokenizer \(json.typeName ?? "")"
    switch json.typeName {
    case "ByteLevel":
        return ByteLevelPreTokenizer(addPrefixSpace: json["add_prefix_space"]?.bool ?? true,
                                     useRegex: json["use_regex"]?.bool ?? true)
    case "Split":
        guard let pattern = json["pattern"] else { throw TokenizerError("\(context): missing \"pattern\"") }
        return PatternPreTokenizer(pattern: try TextPattern(json: pattern, in: context),
                                   behavior: try splitBehavior(json, default: nil, in: context),
                                   invert: json["invert"]?.bool ?? false)
    case "Metaspace":
        return try MetaspacePreTokenizer(json, in: context)
    case "Digits":
        let individually = json["individual_digits"]?.bool ?? false
        return PatternPreTokenizer(pattern: .scalar(\.isNumeric), behavior: individually ? .isolated : .contiguous)
    case "Punctuation":
        return PatternPreTokenizer(pattern: .scalar(\.isPunctuation),
                                   behavior: try splitBehavior(json, default: .isolated, in: context))
    case "Whitespace":
        // Words and runs of other non-space characters: `\w+|[^\w\s]+` kept, the rest dropped.
        return PatternPreTokenizer(pattern: .regex(wordsOrSymbols), behavior: .removed, invert: true)
    case "WhitespaceSplit":
        return PatternPreTokenizer(pattern: .scalar(\.properties.isWhitespace), behavior: .removed)
    case "BertPreTokenizer":
        // Words split at whitespace (dropped), then every punctuation character a word of its own.
        return PreTokenizerSequence(preTokenizers: [
            PatternPreTokenizer(pattern: .scalar(\.properties.isWhitespace), behavior: .removed),
            PatternPreTokenizer(pattern: .scalar(\.isPunctuation), behavior: .isolated),
        ])
    case "Sequence":
        return PreTokenizerSequence(
            preTokenizers: try json.requiredArray("pretokenizers", in: context).map(makePreTokenizer))
    default:
        throw TokenizerError.unsupported("pre_tokenizer", json.typeName)
    }
}

private func splitBehavior(_ json: JSON, default fallback: SplitBehavior?, in context: String) throws -> SplitBehavior {
    guard let name = json["behavior"]?.string else {
        if let fallback { return fallback }
        throw TokenizerError("\(context): missing \"behavior\"")
    }
    guard let behavior = SplitBehavior(rawValue: name) else {
        throw TokenizerError("\(context): unsupported split behavior \"\(name)\"")
    }
    return behavior
}

private let wordsOrSymbols = try! NSRegularExpression(pattern: #"\w+|[^\w\s]+"#)

/// Splits on a pattern: Split, Digits, Punctuation, Whitespace and WhitespaceSplit.
struct PatternPreTokenizer: PreTokenizer {
    let pattern: TextPattern
    let behavior: SplitBehavior
    var invert = false

    func split(_ piece: TextPiece) -> [TextPiece] { piece.split(by: pattern, behavior: behavior, invert: invert) }
}

/// GPT-2's pre-tokenizer: optional split with GPT-2's regex, then every byte spelled as a character.
struct ByteLevelPreTokenizer: PreTokenizer {
    /// GPT-2's word regex: contractions, letters, digits, other symbols, and whitespace runs that
    /// leave their last space to the next word.
    static let gpt2Words = TextPattern.regex(
        try! NSRegularExpression(pattern: #"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"#))

    let addPrefixSpace: Bool
    let useRegex: Bool

    func split(_ piece: TextPiece) -> [TextPiece] {
        var piece = piece
        if addPrefixSpace, piece.text.utf8.first != UInt8(ascii: " ") { piece.text = " " + piece.text }
        let words = useRegex ? piece.split(by: Self.gpt2Words, behavior: .isolated) : [piece]
        return words.map { TextPiece(text: ByteLevel.encode($0.text), isFirst: $0.isFirst) }
    }
}

/// SentencePiece-style spaces: each space becomes the replacement character ("▁"), which may also
/// be prepended, and words start at each replacement character.
struct MetaspacePreTokenizer: PreTokenizer {
    enum PrependScheme: String, Sendable { case always, first, never }

    let replacement: Unicode.Scalar
    let prependScheme: PrependScheme
    let splitsWords: Bool

    init(replacement: Unicode.Scalar, prependScheme: PrependScheme, splitsWords: Bool) {
        self.replacement = replacement
        self.prependScheme = prependScheme
        self.splitsWords = splitsWords
    }

    /// Reads the fields shared with the Metaspace decoder; files older than `prepend_scheme` say
    /// `add_prefix_space` instead.
    init(_ json: JSON, in context: String) throws {
        let replacement = try json.requiredString("replacement", in: context).unicodeScalars
        guard replacement.count == 1, let scalar = replacement.first else {
            throw TokenizerError("\(context): \"replacement\" must be one character")
        }
        let scheme: PrependScheme
        if let name = json["prepend_scheme"]?.string {
            guard let parsed = PrependScheme(rawValue: name) else {
                throw TokenizerError("\(context): unsupported prepend_scheme \"\(name)\"")
            }
            scheme = parsed
        } else {
            scheme = json["add_prefix_space"]?.bool ?? true ? .always : .never
        }
        self.init(replacement: scalar, prependScheme: scheme, splitsWords: json["split"]?.bool ?? true)
    }

    func split(_ piece: TextPiece) -> [TextPiece] {
        var scalars = String.UnicodeScalarView()
        let prepends = prependScheme == .always || (prependScheme == .first && piece.isFirst)
        if prepends, piece.text.unicodeScalars.first.map({ $0 != " " && $0 != replacement }) ?? true {
            scalars.append(replacement)
        }
        for scalar in piece.text.unicodeScalars { scalars.append(scalar == " " ? replacement : scalar) }
        let replaced = TextPiece(text: String(scalars), isFirst: piece.isFirst)
        guard splitsWords else { return [replaced] }
        let marker = replacement
        return replaced.split(by: .scalar { $0 == marker }, behavior: .mergedWithNext)
    }
}

struct PreTokenizerSequence: PreTokenizer {
    let preTokenizers: [any PreTokenizer]

    func split(_ piece: TextPiece) -> [TextPiece] {
        preTokenizers.reduce([piece]) { pieces, preTokenizer in pieces.flatMap(preTokenizer.split) }
    }
}

extension Unicode.Scalar {
    /// Rust's `char::is_numeric`: general categories Nd, Nl and No.
    var isNumeric: Bool {
        switch properties.generalCategory {
        case .decimalNumber, .letterNumber, .otherNumber: true
        default: false
        }
    }

    /// ASCII punctuation (which includes symbols such as `$` and `+`) or a Unicode P* category
    /// (in the tables of the Rust library, see UnicodeCategories.swift).
    var isPunctuation: Bool {
        if isASCII { return (0x21...0x2F).contains(value) || (0x3A...0x40).contains(value)
            || (0x5B...0x60).contains(value) || (0x7B...0x7E).contains(value) }
        return isUnicodePunctuation
    }
}
