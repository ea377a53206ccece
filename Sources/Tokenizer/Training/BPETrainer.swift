import Foundation

/// Learns a byte-level BPE tokenizer from text with the algorithm of `tokenizers`' `BpeTrainer`, as a Hugging Face
/// tokenizer directory that this library, `tokenizers` and `transformers` load. Given the same documents
/// (`train_from_iterator`, one sequence per document) and settings, both learn the same merges and write the same
/// tokenizer.json.
///
/// Ids: the special tokens first (0, 1, ...), then the 256 byte characters in code point order, all of them so
/// that any text encodes, then one token per merge in the order learned.
///
/// ```swift
/// let trained = try BPETrainer(vocabularySize: 8000).train(files: [corpus]) { done, total in ... }
/// let tokenizer = try trained.save(to: directory)
/// ```
public struct BPETrainer: Sendable {
    /// The pipeline around the BPE model.
    public enum Style: String, Sendable {
        /// GPT-2's: ByteLevel pre-tokenizer (GPT-2's regex, no prefix space), ByteLevel decoder and
        /// post-processor (which adds no tokens).
        case gpt2
    }

    /// `<|endoftext|>` ends documents and pads; `<|im_start|>` and `<|im_end|>` frame ChatML turns.
    public static let chatMLSpecialTokens = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]

    /// Ids in all: the special tokens, the 256 byte tokens and the merges.
    public var vocabularySize: Int
    /// The fewest occurrences a pair needs to be merged (`min_frequency`); training stops early when no pair
    /// has that many.
    public var minFrequency: Int
    /// Added tokens (special: never split, skippable when decoding), at ids 0, 1, ... in this order.
    ///
    /// The first is the document token: BOS and padding, and what to put between documents of pretraining text.
    /// EOS is `<|im_end|>` when listed (as in ChatML models such as Qwen2-Instruct): `transformers` and this
    /// library stop generating at the EOS token, and a chat turn ends with `<|im_end|>`; completion fine-tuning
    /// also ends each completion with it. Without `<|im_end|>`, EOS is the document token. The tokenizer gets a
    /// ChatML chat template when both `<|im_start|>` and `<|im_end|>` are listed.
    public var specialTokens: [String]
    /// The pre-tokenizer, post-processor and decoder written to tokenizer.json.
    public var style: Style

    public init(vocabularySize: Int, minFrequency: Int = 2, specialTokens: [String] = chatMLSpecialTokens,
                style: Style = .gpt2) {
        self.vocabularySize = vocabularySize
        self.minFrequency = minFrequency
        self.specialTokens = specialTokens
        self.style = style
    }

    /// Called with the merges done so far and the merges a full vocabulary needs: (0, total) when merging starts
    /// (after the words are counted), then after each merge.
    public typealias Progress = (_ mergesDone: Int, _ mergesTotal: Int) -> Void

    /// Trains on `texts`, each a document, pre-tokenized whole (so runs of newlines can become tokens). Special
    /// tokens written in the text are left out, as encoding matches them before pre-tokenizing.
    public func train(texts: [String], progress: Progress? = nil) throws -> TrainedTokenizer {
        let (initialVocabulary, specialCount) = try self.initialVocabulary()
        let idForToken = Dictionary(initialVocabulary.enumerated().map { (ExactString($1), Int32($0)) },
                                    uniquingKeysWith: { first, _ in first })
        let idForByte = ByteLevel.scalarForByte.map { idForToken[ExactString(String($0))]! }

        let words = countWords(in: texts, preTokenizer: try makePreTokenizer(style.preTokenizer),
                               specialTokens: specialTokens)
        // The ByteLevel pre-tokenizer spells every word with byte characters only.
        let symbols = words.map { ByteLevel.bytes(of: $0.word)!.map { idForByte[Int($0)] } }
        var learner = MergeLearner(vocabulary: initialVocabulary, words: symbols, counts: words.map(\.count))
        let totalMerges = vocabularySize - initialVocabulary.count
        progress?(0, totalMerges)
        learner.learn(vocabularySize: vocabularySize, minFrequency: minFrequency) { progress?($0, totalMerges) }
        return TrainedTokenizer(vocabulary: learner.vocabulary, merges: learner.merges,
                                specialTokenCount: specialCount, style: style)
    }

    /// Trains on UTF-8 text files, each a document.
    public func train(files: [URL], progress: Progress? = nil) throws -> TrainedTokenizer {
        let texts = try files.map { file in
            guard let data = FileManager.default.contents(atPath: file.path) else {
                throw TokenizerError("cannot read the file", file: file.path)
            }
            guard let text = String(data: data, encoding: .utf8) else { throw TokenizerError("not UTF-8 text", file: file.path) }
            return text
        }
        return try train(texts: texts, progress: progress)
    }

    /// The special tokens (each once), then the byte characters in code point order, as tokenizers orders them.
    private func initialVocabulary() throws -> (tokens: [String], specialCount: Int) {
        guard !specialTokens.contains(where: \.isEmpty) else { throw TokenizerError("a special token is empty") }
        var seen = Set<ExactString>()
        let specials = specialTokens.filter { seen.insert(ExactString($0)).inserted }
        let alphabet = ByteLevel.scalarForByte.sorted { $0.value < $1.value }.map(String.init)
        let tokens = specials + alphabet.filter { seen.insert(ExactString($0)).inserted }
        guard vocabularySize >= tokens.count else {
            throw TokenizerError("vocabulary size \(vocabularySize) is smaller than the 256 byte tokens plus "
                                 + "\(specials.count) special tokens (\(tokens.count))")
        }
        return (tokens, specials.count)
    }
}

extension BPETrainer.Style {
    /// tokenizer.json's stages around the model, spelled as `tokenizers` writes them.
    var preTokenizer: JSON {
        switch self {
        case .gpt2: Self.byteLevel(addPrefixSpace: false, trimOffsets: true)
        }
    }

    var postProcessor: JSON {
        switch self {
        case .gpt2: Self.byteLevel(addPrefixSpace: true, trimOffsets: false)
        }
    }

    var decoder: JSON {
        switch self {
        case .gpt2: Self.byteLevel(addPrefixSpace: true, trimOffsets: true)
        }
    }

    /// Besides the pre-tokenizer's `add_prefix_space`, the options only change offsets, never ids or decoded text;
    /// these are the values of the gpt2-bytelevel fixture (tokenizers' Python defaults).
    private static func byteLevel(addPrefixSpace: Bool, trimOffsets: Bool) -> JSON {
        .object([("type", .string("ByteLevel")), ("add_prefix_space", .bool(addPrefixSpace)),
                 ("trim_offsets", .bool(trimOffsets)), ("use_regex", .bool(true))])
    }
}
