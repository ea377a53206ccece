/// An entry of tokenizer.json's `added_tokens`: matched in the raw (or normalized) text before the
/// pipeline runs, so it is never split by the pre-tokenizer or the model.
struct AddedToken: Sendable {
    let id: Int
    let content: String
    let isSpecial: Bool
    /// Only matches when not glued to a word character on either side.
    let singleWord: Bool
    /// Swallows the whitespace on its left / right.
    let stripsLeft: Bool
    let stripsRight: Bool
    /// Matched in normalized text rather than raw text.
    let isNormalized: Bool

    init(_ json: JSON) throws {
        id = try json.requiredInt("id", in: "added_tokens")
        content = try json.requiredString("content", in: "added_tokens")
        isSpecial = json["special"]?.bool ?? false
        singleWord = json["single_word"]?.bool ?? false
        stripsLeft = json["lstrip"]?.bool ?? false
        stripsRight = json["rstrip"]?.bool ?? false
        isNormalized = json["normalized"]?.bool ?? !isSpecial
    }

    /// A special token that only tokenizer_config.json names (transformers adds those as added tokens).
    init(namedInConfig content: String, id: Int) {
        self.id = id
        self.content = content
        isSpecial = true
        singleWord = false
        stripsLeft = false
        stripsRight = false
        isNormalized = false
    }
}

/// A stretch of input: an added token, or text for the normalizer, pre-tokenizer and model.
enum Segment {
    case token(Int)
    case text(TextPiece)
}

/// Finds added tokens in text, leftmost first and longest among those starting at the same place,
/// with a byte trie.
struct AddedTokenMatcher: Sendable {
    private struct Node: Sendable {
        var children: [UInt8: Int32] = [:]
        var token: Int32 = -1
    }

    private let tokens: [AddedToken]
    private var nodes = [Node()]
    /// Bytes that can start a token, to skip the trie at most positions.
    private var startsToken = [Bool](repeating: false, count: 256)

    /// `normalizer` is applied to the tokens' contents, as they are looked for in normalized text.
    init(tokens: [AddedToken], normalizer: (any Normalizer)?) {
        self.tokens = tokens
        for (index, token) in tokens.enumerated() {
            let content = normalizer?.normalize(token.content) ?? token.content
            guard !content.isEmpty else { continue }
            var node = 0
            for byte in content.utf8 {
                if let child = nodes[node].children[byte] {
                    node = Int(child)
                } else {
                    nodes.append(Node())
                    nodes[node].children[byte] = Int32(nodes.count - 1)
                    node = nodes.count - 1
                }
            }
            startsToken[Int(content.utf8.first!)] = true
            if nodes[node].token < 0 { nodes[node].token = Int32(index) }
        }
    }

    /// Cuts `piece` into added tokens and the text between them (empty stretches dropped).
    func segments(of piece: TextPiece) -> [Segment] {
        if piece.text.isEmpty { return [] }
        if tokens.isEmpty { return [.text(piece)] }
        let bytes = Array(piece.text.utf8)
        var segments: [Segment] = []
        var textStart = 0
        var position = 0
        while position < bytes.count {
            guard startsToken[Int(bytes[position])], let (token, end) = longestMatch(in: bytes, at: position) else {
                position += 1
                continue
            }
            var start = position
            var stop = end
            position = end
            if token.singleWord,
               bytes.scalar(endingAt: start).map(\.isWordCharacter) == true
                || bytes.scalar(startingAt: stop).map(\.isWordCharacter) == true {
                continue
            }
            if token.stripsLeft {
                while start > textStart, let scalar = bytes.scalar(endingAt: start), scalar.properties.isWhitespace {
                    start -= scalar.utf8Length
                }
            }
            if token.stripsRight {
                while let scalar = bytes.scalar(startingAt: stop), scalar.properties.isWhitespace {
                    stop += scalar.utf8Length
                }
                position = stop
            }
            if start > textStart {
                segments.append(.text(TextPiece(text: String(decoding: bytes[textStart..<start], as: UTF8.self),
                                                isFirst: piece.isFirst && textStart == 0)))
            }
            segments.append(.token(token.id))
            textStart = stop
        }
        if textStart == 0 {
            segments.append(.text(piece))
        } else if textStart < bytes.count {
            segments.append(.text(TextPiece(text: String(decoding: bytes[textStart...], as: UTF8.self), isFirst: false)))
        }
        return segments
    }

    private func longestMatch(in bytes: [UInt8], at start: Int) -> (AddedToken, end: Int)? {
        var node = 0
        var best: (AddedToken, end: Int)?
        var position = start
        while position < bytes.count, let child = nodes[node].children[bytes[position]] {
            node = Int(child)
            position += 1
            if nodes[node].token >= 0 { best = (tokens[Int(nodes[node].token)], position) }
        }
        return best
    }
}

extension [UInt8] {
    /// The scalar whose UTF-8 encoding starts at byte `offset`, if any.
    fileprivate func scalar(startingAt offset: Int) -> Unicode.Scalar? {
        guard offset < count else { return nil }
        var iterator = self[offset...].makeIterator()
        var decoder = UTF8()
        if case .scalarValue(let scalar) = decoder.decode(&iterator) { return scalar }
        return nil
    }

    /// The scalar whose UTF-8 encoding ends just before byte `offset`, if any.
    fileprivate func scalar(endingAt offset: Int) -> Unicode.Scalar? {
        guard offset > 0 else { return nil }
        var start = offset - 1
        while start > 0, self[start] & 0xC0 == 0x80 { start -= 1 }
        return scalar(startingAt: start)
    }
}

extension Unicode.Scalar {
    /// What `single_word` tokens may not touch: a `\w` of the Rust regex crate (letters, marks,
    /// decimal digits, connector punctuation, joiners).
    fileprivate var isWordCharacter: Bool {
        switch properties.generalCategory {
        case .nonspacingMark, .spacingMark, .enclosingMark, .decimalNumber, .connectorPunctuation: true
        default: properties.isAlphabetic || properties.isJoinControl
        }
    }

    fileprivate var utf8Length: Int { UTF8.width(self) }
}
