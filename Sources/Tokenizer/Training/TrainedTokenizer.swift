import Foundation

/// What `BPETrainer` learned, as the two files of a Hugging Face tokenizer directory.
public struct TrainedTokenizer: Sendable {
    /// tokenizer.json, laid out as `tokenizers` saves it.
    public let tokenizerJSON: String
    /// tokenizer_config.json: special tokens and chat template, keys sorted as `transformers` writes them.
    public let tokenizerConfigJSON: String
    /// Ids in all; less than asked when the corpus ran out of pairs occurring `minFrequency` times.
    public let vocabularySize: Int
    public let mergeCount: Int

    init(vocabulary: [String], merges: [PairKey], specialTokenCount: Int, style: BPETrainer.Style) {
        let specials = Array(vocabulary.prefix(specialTokenCount))
        tokenizerJSON = Self.tokenizerDocument(vocabulary: vocabulary, merges: merges, specialTokenCount: specialTokenCount,
                                               style: style).prettyPrinted()
        tokenizerConfigJSON = Self.configDocument(specialTokens: specials).prettyPrinted() + "\n"
        vocabularySize = vocabulary.count
        mergeCount = merges.count
    }

    /// Writes tokenizer.json and tokenizer_config.json into `directory` (made if missing) and loads them.
    @discardableResult
    public func save(to directory: URL) throws -> Tokenizer {
        do {
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            try Data(tokenizerJSON.utf8).write(to: directory.appendingPathComponent("tokenizer.json"), options: .atomic)
            try Data(tokenizerConfigJSON.utf8).write(to: directory.appendingPathComponent("tokenizer_config.json"),
                                                    options: .atomic)
        } catch {
            throw TokenizerError("cannot write the tokenizer: \(error.localizedDescription)", file: directory.path)
        }
        return try Tokenizer(directory: directory)
    }

    private static func tokenizerDocument(vocabulary: [String], merges: [PairKey], specialTokenCount: Int,
                                          style: BPETrainer.Style) -> JSON {
        let addedTokens = vocabulary.prefix(specialTokenCount).enumerated().map { id, content in
            JSON.object([("id", .int(id)), ("content", .string(content)), ("single_word", .bool(false)),
                         ("lstrip", .bool(false)), ("rstrip", .bool(false)), ("normalized", .bool(false)),
                         ("special", .bool(true))])
        }
        let model = JSON.object([
            ("type", .string("BPE")), ("dropout", .null), ("unk_token", .null), ("continuing_subword_prefix", .null),
            ("end_of_word_suffix", .null), ("fuse_unk", .bool(false)), ("byte_fallback", .bool(false)),
            ("ignore_merges", .bool(false)),
            ("vocab", .object(vocabulary.enumerated().map { ($1, .int($0)) })),
            ("merges", .array(merges.map { .array([.string(vocabulary[$0.left]), .string(vocabulary[$0.right])]) })),
        ])
        return .object([
            ("version", .string("1.0")), ("truncation", .null), ("padding", .null), ("added_tokens", .array(addedTokens)),
            ("normalizer", .null), ("pre_tokenizer", style.preTokenizer), ("post_processor", style.postProcessor),
            ("decoder", style.decoder), ("model", model),
        ])
    }

    /// The roles `BPETrainer.specialTokens` documents: the first token is BOS and padding, EOS is `<|im_end|>`
    /// when there is one, and `<|im_start|>` with `<|im_end|>` bring the ChatML template.
    private static func configDocument(specialTokens: [String]) -> JSON {
        let has = { (token: String) in specialTokens.contains { ExactString($0) == ExactString(token) } }
        let document = specialTokens.first
        let eos = has("<|im_end|>") ? "<|im_end|>" : document
        let chatTemplate = has("<|im_start|>") && has("<|im_end|>") ? ChatTemplate.Family.chatML.source : nil
        let fields: [(key: String, value: JSON?)] = [
            ("bos_token", document.map(JSON.string)),
            ("chat_template", chatTemplate.map(JSON.string)),
            ("clean_up_tokenization_spaces", .bool(false)),
            ("eos_token", eos.map(JSON.string)),
            ("pad_token", document.map(JSON.string)),
            ("tokenizer_class", .string("PreTrainedTokenizerFast")),
        ]
        return .object(fields.compactMap { field in field.value.map { (field.key, $0) } })
    }
}
