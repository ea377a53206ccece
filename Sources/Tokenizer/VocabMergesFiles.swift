import Foundation

/// A byte-level BPE tokenizer saved the older way, as `vocab.json` and `merges.txt` without a tokenizer.json
/// (GPT-2, RoBERTa and many classifiers fine-tuned from them, e.g. facebook/roberta-hate-speech-dynabench-r4-target):
/// turned into the pipeline transformers' GPT2Converter / RobertaConverter build from the same files.
enum VocabMergesFiles {
    /// The tokenizer.json equivalent of `directory`'s vocab.json and merges.txt, or nil when it has not both.
    /// `tokenizer_class` (or config.json's `model_type`) picks RoBERTa's `<s> … </s>` or GPT-2's bare ids.
    static func tokenizerJSON(directory: URL, config: JSON?) throws -> JSON? {
        let mergesURL = directory.appendingPathComponent("merges.txt")
        guard let vocab = try readJSON(directory.appendingPathComponent("vocab.json")),
              FileManager.default.fileExists(atPath: mergesURL.path) else { return nil }
        guard let pairs = vocab.object else { throw TokenizerError("not an object of token ids", file: directory.appendingPathComponent("vocab.json").path) }
        let text: String
        do { text = try String(contentsOf: mergesURL, encoding: .utf8) } catch {
            throw TokenizerError("cannot read: \(error.localizedDescription)", file: mergesURL.path)
        }
        // As the slow tokenizers read it: one "left right" pair a line after the "#version" header.
        let merges = text.split(separator: "\n").filter { !$0.hasPrefix("#version") && !$0.allSatisfy(\.isWhitespace) }
            .map { JSON.string(String($0).trimmingCharacters(in: .newlines)) }
        // Tokens added after the vocabulary was trained (e.g. a new pad token) are kept apart in added_tokens.json.
        let extra = try readJSON(directory.appendingPathComponent("added_tokens.json"))?.object ?? []
        let idOf = Dictionary((pairs + extra).compactMap { pair in pair.value.int.map { (pair.key, $0) } }, uniquingKeysWith: { first, _ in first })

        let family = config?["tokenizer_class"]?.string ?? ""
        let modelType = try readJSON(directory.appendingPathComponent("config.json"))?["model_type"]?.string ?? ""
        let isRoberta = family.hasPrefix("Roberta") || (family.isEmpty && modelType == "roberta")
        let prefixSpace = JSON.bool(config?["add_prefix_space"]?.bool ?? false)
        func name(_ key: String, _ fallback: String) -> String {
            config?[key]?.string ?? config?[key]?["content"]?.string ?? fallback
        }
        var special: [(content: String, stripsLeft: Bool)] = []
        for (key, fallback) in [("bos_token", "<|endoftext|>"), ("eos_token", "<|endoftext|>"), ("unk_token", "<|endoftext|>"),
                                ("pad_token", ""), ("cls_token", ""), ("sep_token", ""), ("mask_token", "")] {
            let content = name(key, isRoberta ? "" : fallback)
            if !content.isEmpty, idOf[content] != nil, !special.contains(where: { $0.content == content }) {
                special.append((content, key == "mask_token" && isRoberta))  // RobertaTokenizer's <mask> eats the space before it
            }
        }
        let plain = extra.map(\.key).filter { content in !special.contains { $0.content == content } }
        let addedTokens = (special.map { ($0.content, $0.stripsLeft, true) } + plain.map { ($0, false, false) }).map { content, stripsLeft, isSpecial in
            JSON.object([("id", .int(idOf[content]!)), ("content", .string(content)), ("single_word", .bool(false)),
                         ("lstrip", .bool(stripsLeft)), ("rstrip", .bool(false)), ("normalized", .bool(!isSpecial)), ("special", .bool(isSpecial))])
        }
        let postProcessor: JSON
        if isRoberta {
            let (cls, sep) = (name("cls_token", "<s>"), name("sep_token", "</s>"))
            guard let clsID = idOf[cls], let sepID = idOf[sep] else {
                throw TokenizerError("the vocabulary lacks RoBERTa's \(cls) or \(sep)", file: directory.appendingPathComponent("vocab.json").path)
            }
            postProcessor = .object([("type", .string("RobertaProcessing")), ("sep", .array([.string(sep), .int(sepID)])),
                                     ("cls", .array([.string(cls), .int(clsID)])), ("trim_offsets", .bool(true)), ("add_prefix_space", prefixSpace)])
        } else {
            postProcessor = .object([("type", .string("ByteLevel")), ("trim_offsets", .bool(false))])
        }
        let byteLevel = JSON.object([("type", .string("ByteLevel")), ("add_prefix_space", prefixSpace), ("trim_offsets", .bool(true)),
                                     ("use_regex", .bool(true))])
        return .object([
            ("added_tokens", .array(addedTokens)),
            ("pre_tokenizer", byteLevel),
            ("post_processor", postProcessor),
            ("decoder", .object([("type", .string("ByteLevel"))])),
            ("model", .object([("type", .string("BPE")), ("vocab", vocab), ("merges", .array(merges)),
                               ("continuing_subword_prefix", .string("")), ("end_of_word_suffix", .string("")), ("fuse_unk", .bool(false))])),
        ])
    }
}
