import Foundation
import Synchronization

/// Every distinct word the pre-tokenizer makes of `texts`, with how often it occurs, sorted by bytes so that
/// training never depends on hashing order.
///
/// Special tokens are cut out of the text first, as encoding does, so their pieces are never learned. The text is
/// split into chunks that are pre-tokenized on all cores.
func countWords(in texts: [String], preTokenizer: any PreTokenizer, specialTokens: [String]) -> [(word: String, count: Int)] {
    let matcher = AddedTokenMatcher(tokens: specialTokens.enumerated().map { AddedToken(namedInConfig: $1, id: $0) },
                                    normalizer: nil)
    let chunks = texts.flatMap { text in
        matcher.segments(of: TextPiece(text: text, isFirst: true)).flatMap { segment -> [TextPiece] in
            if case .text(let piece) = segment { piece.chunks() } else { [] }
        }
    }
    let workers = min(chunks.count, ProcessInfo.processInfo.activeProcessorCount)
    let tallies = Mutex<[[ExactString: Int]]>([])
    DispatchQueue.concurrentPerform(iterations: workers) { worker in
        var counts: [ExactString: Int] = [:]
        for index in stride(from: worker, to: chunks.count, by: workers) {
            for word in preTokenizer.split(chunks[index]) { counts[ExactString(word.text), default: 0] += 1 }
        }
        tallies.withLock { $0.append(counts) }
    }
    let total = tallies.withLock { $0 }.reduce(into: [:]) { total, counts in total.merge(counts, uniquingKeysWith: +) }
    return total.map { (word: $0.key.string, count: $0.value) }
        .sorted { $0.word.utf8.lexicographicallyPrecedes($1.word.utf8) }
}

extension TextPiece {
    /// The piece cut into chunks of at least `size` bytes, each cut made between a visible ASCII character and a
    /// newline: no word of the GPT-2 regex spans such a spot, the word before it ends there whatever follows (only
    /// whitespace runs look ahead), and the regex starts afresh there, so the chunks pre-tokenize into exactly the
    /// words of the whole piece.
    fileprivate func chunks(ofAtLeast size: Int = 1 << 16) -> [TextPiece] {
        let utf8 = text.utf8
        var chunks: [TextPiece] = []
        var start = utf8.startIndex
        while start < utf8.endIndex {
            var cut = utf8.index(start, offsetBy: size, limitedBy: utf8.endIndex) ?? utf8.endIndex
            while cut < utf8.endIndex, !((0x21...0x7E).contains(utf8[utf8.index(before: cut)]) && utf8[cut] == UInt8(ascii: "\n")) {
                utf8.formIndex(after: &cut)
            }
            chunks.append(TextPiece(text: String(text[start..<cut]), isFirst: isFirst && start == utf8.startIndex))
            start = cut
        }
        return chunks
    }
}
