import Foundation

/// What a Split pre-tokenizer or a Replace normalizer/decoder looks for: tokenizer.json's
/// `{"String": ...}` or `{"Regex": ...}`, or the character class of a built-in pre-tokenizer.
enum TextPattern: Sendable {
    case literal(String)
    case regex(NSRegularExpression)
    /// Every scalar that satisfies the predicate is a match of its own.
    case scalar(@Sendable (Unicode.Scalar) -> Bool)

    init(json: JSON, in context: String) throws {
        if let literal = json["String"]?.string {
            self = .literal(literal)
        } else if let pattern = json["Regex"]?.string {
            self = .regex(try compileRegex(pattern, in: context))
        } else {
            throw TokenizerError("\(context): pattern must be {\"String\": ...} or {\"Regex\": ...}")
        }
    }

    /// Pieces covering all of `text`, in order, each flagged as a match or as the text between two
    /// matches (the `find_matches` of the tokenizers library). Empty matches are ignored.
    func pieces(of text: String) -> [(range: Range<String.Index>, isMatch: Bool)] {
        var pieces: [(range: Range<String.Index>, isMatch: Bool)] = []
        var previousEnd = text.startIndex
        func addMatch(_ match: Range<String.Index>) {
            if previousEnd < match.lowerBound { pieces.append((previousEnd..<match.lowerBound, false)) }
            pieces.append((match, true))
            previousEnd = match.upperBound
        }
        switch self {
        case .literal(let needle):
            text.forEachOccurrence(of: needle, addMatch)
        case .regex(let regex):
            regex.forEachMatch(in: text, addMatch)
        case .scalar(let predicate):
            let scalars = text.unicodeScalars
            var index = scalars.startIndex
            while index < scalars.endIndex {
                let next = scalars.index(after: index)
                if predicate(scalars[index]) { addMatch(index..<next) }
                index = next
            }
        }
        if previousEnd < text.endIndex { pieces.append((previousEnd..<text.endIndex, false)) }
        return pieces
    }

    func replacingMatches(in text: String, with content: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count)
        for piece in pieces(of: text) {
            if piece.isMatch { result += content } else { result += text[piece.range] }
        }
        return result
    }
}

func compileRegex(_ pattern: String, in context: String) throws -> NSRegularExpression {
    do {
        return try NSRegularExpression(pattern: pattern)
    } catch {
        throw TokenizerError("\(context): cannot compile regex \(pattern.debugDescription)")
    }
}

extension String {
    /// Calls `body` with each non-overlapping occurrence of `needle`, comparing UTF-8 bytes exactly
    /// (Foundation's search would treat canonically equivalent spellings as equal).
    fileprivate func forEachOccurrence(of needle: String, _ body: (Range<String.Index>) -> Void) {
        let needleBytes = Array(needle.utf8)
        guard !needleBytes.isEmpty else { return }
        let haystack = Array(utf8)
        var offset = 0
        while offset + needleBytes.count <= haystack.count {
            if haystack[offset] == needleBytes[0],
               haystack[offset..<offset + needleBytes.count].elementsEqual(needleBytes) {
                let start = utf8.index(startIndex, offsetBy: offset)
                let end = utf8.index(start, offsetBy: needleBytes.count)
                body(start..<end)
                offset += needleBytes.count
            } else {
                offset += 1
            }
        }
    }
}

extension NSRegularExpression {
    /// Calls `body` with each non-empty match, converting ICU's UTF-16 offsets to string indices in
    /// one forward walk.
    func forEachMatch(in text: String, _ body: (Range<String.Index>) -> Void) {
        let utf16 = text.utf16
        var cursor = text.startIndex
        var cursorOffset = 0
        func index(atUTF16Offset offset: Int) -> String.Index {
            cursor = utf16.index(cursor, offsetBy: offset - cursorOffset)
            cursorOffset = offset
            return cursor
        }
        // The block is escaping on Linux only in its signature; it runs before enumerateMatches returns.
        withoutActuallyEscaping(body) { body in
            enumerateMatches(in: text, range: NSRange(location: 0, length: utf16.count)) { match, _, _ in
                guard let range = match?.range, range.length > 0 else { return }
                let start = index(atUTF16Offset: range.location)
                let end = index(atUTF16Offset: range.location + range.length)
                body(start..<end)
            }
        }
    }
}

/// How the matches of a pattern become pre-tokenizer pieces (tokenizers' `SplitDelimiterBehavior`).
enum SplitBehavior: String, Sendable {
    case removed = "Removed"
    case isolated = "Isolated"
    case mergedWithPrevious = "MergedWithPrevious"
    case mergedWithNext = "MergedWithNext"
    case contiguous = "Contiguous"

    /// The ranges to keep, given pieces from `TextPattern.pieces(of:)`.
    func apply(to pieces: [(range: Range<String.Index>, isMatch: Bool)]) -> [Range<String.Index>] {
        switch self {
        case .removed:
            return pieces.filter { !$0.isMatch }.map(\.range)
        case .isolated:
            return pieces.map(\.range)
        case .contiguous:
            var ranges: [Range<String.Index>] = []
            var previousWasMatch: Bool?
            for piece in pieces {
                if piece.isMatch == previousWasMatch, let last = ranges.popLast() {
                    ranges.append(last.lowerBound..<piece.range.upperBound)
                } else {
                    ranges.append(piece.range)
                }
                previousWasMatch = piece.isMatch
            }
            return ranges
        case .mergedWithPrevious:
            var ranges: [Range<String.Index>] = []
            var previousWasMatch = false
            for piece in pieces {
                if piece.isMatch, !previousWasMatch, let last = ranges.popLast() {
                    ranges.append(last.lowerBound..<piece.range.upperBound)
                } else {
                    ranges.append(piece.range)
                }
                previousWasMatch = piece.isMatch
            }
            return ranges
        case .mergedWithNext:
            var ranges: [Range<String.Index>] = []
            var nextWasMatch = false
            for piece in pieces.reversed() {
                if piece.isMatch, !nextWasMatch, let last = ranges.popLast() {
                    ranges.append(piece.range.lowerBound..<last.upperBound)
                } else {
                    ranges.append(piece.range)
                }
                nextWasMatch = piece.isMatch
            }
            return ranges.reversed()
        }
    }
}
