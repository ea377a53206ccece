/// Turns ids arriving one at a time (during generation) into text as soon as it is complete, so
/// that the pieces add up to `decode` of all the ids.
///
/// Each step decodes the new ids together with a few already handed-out ones and hands out what
/// they add, so decoders that look at neighbouring tokens (a leading space dropped from the first
/// token, Strip) behave as in a full decode. The context reaches back until it decodes to a
/// non-empty tail of the text already handed out, so start-of-text rules cannot touch the new text.
/// Held back: text ending in U+FFFD (the next ids may complete a UTF-8 sequence) and byte-fallback
/// runs until a token ends them (a later byte can turn the whole run into U+FFFDs).
public struct StreamingDecoder: Sendable {
    private let tokenizer: Tokenizer
    private let skipSpecialTokens: Bool
    private var ids: [Int] = []
    /// How many of `ids` have had their text handed out.
    private var emittedCount = 0
    private var emittedText = ""

    public init(tokenizer: Tokenizer, skipSpecialTokens: Bool = false) {
        self.tokenizer = tokenizer
        self.skipSpecialTokens = skipSpecialTokens
    }

    /// The text completed by `id`, possibly empty.
    public mutating func append(_ id: Int) -> String {
        ids.append(id)
        if tokenizer.continuesByteRun(id) { return "" }
        let text = pendingText()
        guard !text.isEmpty, text.unicodeScalars.last != "\u{FFFD}" else { return "" }
        emit(text)
        return text
    }

    /// Whatever is still held back (an incomplete UTF-8 sequence comes out as U+FFFD), for the end
    /// of the stream.
    public mutating func flush() -> String {
        let text = pendingText()
        emit(text)
        return text
    }

    private mutating func emit(_ text: String) {
        emittedText += text
        emittedCount = ids.count
    }

    private func pendingText() -> String {
        var start = max(emittedCount - 1, 0)
        var before = decode(ids[start..<emittedCount])
        while start > 0, before.isEmpty || !emittedText.utf8.reversed().starts(with: before.utf8.reversed()) {
            start -= 1
            before = decode(ids[start..<emittedCount])
        }
        let after = decode(ids[start...])
        guard after.utf8.starts(with: before.utf8) else {
            // The new ids changed how earlier text decodes; hand out what follows the common part.
            let common = zip(after.unicodeScalars, before.unicodeScalars).prefix { $0 == $1 }.count
            return String(String.UnicodeScalarView(after.unicodeScalars.dropFirst(common)))
        }
        return String(after.utf8.dropFirst(before.utf8.count)) ?? ""
    }

    private func decode(_ ids: ArraySlice<Int>) -> String {
        tokenizer.decode(Array(ids), skipSpecialTokens: skipSpecialTokens)
    }
}
