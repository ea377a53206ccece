import Foundation

/// A Hugging Face tokenizer read from a model directory's `tokenizer.json` (the pipeline) and
/// `tokenizer_config.json` (special tokens, chat template), giving the same ids as the `tokenizers`
/// library and `transformers`.
///
/// Encoding: added tokens are cut out of the text first; each stretch between them is normalized,
/// split into words by the pre-tokenizer and tokenized word by word by the model; the
/// post-processor then adds special tokens such as BOS.
public final class Tokenizer: Sendable {
    public let bosToken: String?
    public let eosToken: String?
    public let padToken: String?
    public let unknownToken: String?
    public let bosTokenID: Int?
    public let eosTokenID: Int?
    public let padTokenID: Int?
    public let unknownTokenID: Int?
    /// Every id that ends generation: the EOS token plus the `eos_token_id`s of
    /// `generation_config.json` and `config.json` (chat models often list several).
    public let eosTokenIDs: Set<Int>
    /// `model_max_length` from tokenizer_config.json, when it is a real limit.
    public let modelMaxLength: Int?
    /// The number of distinct ids: the model's vocabulary plus added tokens.
    public let vocabularySize: Int

    let chatTemplate: ChatTemplate?
    private let normalizer: (any Normalizer)?
    private let preTokenizer: (any PreTokenizer)?
    private let model: any TokenizerModel
    let postProcessor: any PostProcessor
    private let decoder: (any Decoder)?
    /// Added tokens matched in the raw text, then those matched in normalized text.
    private let rawTokenMatcher: AddedTokenMatcher
    private let normalizedTokenMatcher: AddedTokenMatcher
    private let addedTokenForID: [Int: AddedToken]
    private let addedTokenIDForContent: [ExactString: Int]
    private let specialTokenIDs: Set<Int>

    /// Loads `tokenizer.json` (or, without one, a byte-level BPE's `vocab.json` and `merges.txt`) and, when present,
    /// `tokenizer_config.json`, `chat_template.jinja`, `generation_config.json` and `config.json` from `directory`.
    public convenience init(directory: URL) throws {
        let configFile = directory.appendingPathComponent("tokenizer_config.json")
        let config = try readJSON(configFile)
        var tokenizerFile = directory.appendingPathComponent("tokenizer.json")
        var tokenizerJSON = try readJSON(tokenizerFile)
        if tokenizerJSON == nil {
            tokenizerJSON = try VocabMergesFiles.tokenizerJSON(directory: directory, config: config)
            tokenizerFile = directory.appendingPathComponent("merges.txt")
        }
        guard let tokenizerJSON else {
            throw TokenizerError("no tokenizer.json (nor a byte-level BPE's vocab.json and merges.txt) in this directory", file: directory.path)
        }
        let templateFile = directory.appendingPathComponent("chat_template.jinja")
        let templateSource = try? String(contentsOf: templateFile, encoding: .utf8)
        var eosIDs: [Int] = []
        for name in ["generation_config.json", "config.json"] {
            let value = try readJSON(directory.appendingPathComponent(name))?["eos_token_id"]
            eosIDs += value?.array?.compactMap(\.int) ?? value?.int.map { [$0] } ?? []
        }
        do {
            try self.init(tokenizerJSON: tokenizerJSON, config: config ?? .object([]),
                          chatTemplateSource: templateSource, extraEOSTokenIDs: eosIDs)
        } catch let error as TokenizerError {
            throw error.located(in: tokenizerFile.path)
        }
    }

    init(tokenizerJSON json: JSON, config: JSON, chatTemplateSource: String?, extraEOSTokenIDs: [Int]) throws {
        normalizer = try json["normalizer"].map(makeNormalizer)
        preTokenizer = try json["pre_tokenizer"].map(makePreTokenizer)
        guard let modelJSON = json["model"] else { throw TokenizerError("missing \"model\"") }
        let model = try makeModel(modelJSON)
        self.model = model
        decoder = try json["decoder"].map(makeDecoder)

        var addedTokens = try (json["added_tokens"]?.array ?? []).map(AddedToken.init)
        let names = SpecialTokenNames(config)
        // transformers registers the special tokens named in tokenizer_config.json as added tokens.
        for content in names.all where !addedTokens.contains(where: { ExactString($0.content) == ExactString(content) }) {
            if let id = model.id(of: content) { addedTokens.append(AddedToken(namedInConfig: content, id: id)) }
        }
        addedTokenForID = Dictionary(addedTokens.map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        let addedTokenIDForContent = Dictionary(addedTokens.map { (ExactString($0.content), $0.id) },
                                                uniquingKeysWith: { first, _ in first })
        self.addedTokenIDForContent = addedTokenIDForContent
        specialTokenIDs = Set(addedTokens.filter(\.isSpecial).map(\.id))
        rawTokenMatcher = AddedTokenMatcher(tokens: addedTokens.filter { !$0.isNormalized }, normalizer: nil)
        normalizedTokenMatcher = AddedTokenMatcher(tokens: addedTokens.filter(\.isNormalized), normalizer: normalizer)
        vocabularySize = model.vocabularySize + addedTokenForID.keys.filter { model.token(of: $0) == nil }.count

        let idOf = { (token: String?) -> Int? in
            token.flatMap { addedTokenIDForContent[ExactString($0)] ?? model.id(of: $0) }
        }
        (bosToken, eosToken, padToken, unknownToken) = (names.bos, names.eos, names.pad, names.unknown)
        (bosTokenID, eosTokenID, padTokenID, unknownTokenID) = (idOf(names.bos), idOf(names.eos), idOf(names.pad), idOf(names.unknown))
        eosTokenIDs = Set(extraEOSTokenIDs + [eosTokenID].compactMap { $0 })
        modelMaxLength = config["model_max_length"]?.int.flatMap { $0 < 1 << 40 ? $0 : nil }

        // tokenizer.json's post-processor alone decides the special tokens: transformers 5 ignores
        // tokenizer_config.json's add_bos_token/add_eos_token for tokenizers loaded from tokenizer.json.
        postProcessor = try json["post_processor"].map(makePostProcessor) ?? PostProcessorSequence(processors: [])

        chatTemplate = (chatTemplateSource ?? Self.chatTemplateSource(config)).map(ChatTemplate.init)
    }

    /// `chat_template` is a string, or a list of `{"name", "template"}` where "default" is the one used.
    private static func chatTemplateSource(_ config: JSON) -> String? {
        if let source = config["chat_template"]?.string { return source }
        let named = config["chat_template"]?.array ?? []
        return named.first { $0["name"]?.string == "default" }?["template"]?.string
    }

    // MARK: - Encoding

    /// The ids of `text`; with `addSpecialTokens`, the post-processor's special tokens (e.g. BOS)
    /// are added. Special tokens written in the text are always recognised.
    public func encode(_ text: String, addSpecialTokens: Bool = true) -> [Int] {
        var ids: [Int] = []
        ids.reserveCapacity(text.utf8.count / 3)
        for segment in rawTokenMatcher.segments(of: TextPiece(text: text, isFirst: true)) {
            switch segment {
            case .token(let id):
                ids.append(id)
            case .text(let raw):
                let normalized = TextPiece(text: normalizer?.normalize(raw.text) ?? raw.text, isFirst: raw.isFirst)
                for inner in normalizedTokenMatcher.segments(of: normalized) {
                    switch inner {
                    case .token(let id): ids.append(id)
                    case .text(let piece): tokenize(piece, into: &ids)
                    }
                }
            }
        }
        return addSpecialTokens ? postProcessor.addSpecialTokens(to: ids) : ids
    }

    private func tokenize(_ piece: TextPiece, into ids: inout [Int]) {
        for word in preTokenizer?.split(piece) ?? [piece] { model.tokenize(word.text, into: &ids) }
    }

    // MARK: - Decoding

    /// The text of `ids`; unknown ids are skipped, as are special tokens with `skipSpecialTokens`.
    public func decode(_ ids: [Int], skipSpecialTokens: Bool = false) -> String {
        let tokens = ids.compactMap { id -> String? in
            skipSpecialTokens && specialTokenIDs.contains(id) ? nil : token(for: id)
        }
        guard let decoder else { return tokens.joined(separator: " ") }
        return decoder.decode(tokens).joined()
    }

    // MARK: - Vocabulary

    public func token(for id: Int) -> String? { addedTokenForID[id]?.content ?? model.token(of: id) }

    /// The token of each id ("" for an id outside the vocabulary).
    public func tokens(for ids: [Int]) -> [String] { ids.map { token(for: $0) ?? "" } }

    public func id(of token: String) -> Int? { addedTokenIDForContent[ExactString(token)] ?? model.id(of: token) }

    /// Whether `id` is a `<0xXX>` token that the decoder joins with its neighbours into one run.
    func continuesByteRun(_ id: Int) -> Bool {
        guard decoder?.joinsByteRuns == true, let token = token(for: id) else { return false }
        return ByteFallbackDecoder.byte(of: token) != nil
    }

    /// Whether `id` is a special added token (BOS, EOS, chat markers, ...), which
    /// `decode(_:skipSpecialTokens:)` can leave out.
    public func isSpecial(_ id: Int) -> Bool { specialTokenIDs.contains(id) }
}

/// The special tokens a tokenizer_config.json names; each is a string or `{"content": ...}`.
private struct SpecialTokenNames {
    let bos, eos, pad, unknown: String?
    let additional: [String]

    init(_ config: JSON) {
        func name(_ value: JSON?) -> String? { value?.string ?? value?["content"]?.string }
        bos = name(config["bos_token"])
        eos = name(config["eos_token"])
        pad = name(config["pad_token"])
        unknown = name(config["unk_token"])
        // A list of tokens, or (transformers 5's extra_special_tokens) an object of named tokens.
        let lists = ["additional_special_tokens", "extra_special_tokens"].compactMap { key in
            config[key]?.array ?? config[key]?.object?.map(\.value)
        }
        additional = lists.joined().compactMap(name)
    }

    var all: [String] { [bos, eos, pad, unknown].compactMap { $0 } + additional }
}

/// The parsed file, or nil when it does not exist; parse errors name the file.
func readJSON(_ url: URL) throws -> JSON? {
    guard FileManager.default.fileExists(atPath: url.path) else { return nil }
    do {
        let data = try Data(contentsOf: url)
        return try JSON.parse([UInt8](data))
    } catch let error as TokenizerError {
        throw error.located(in: url.path)
    } catch {
        throw TokenizerError("cannot read: \(error.localizedDescription)", file: url.path)
    }
}

extension Tokenizer {
    /// The id every batch is padded with: the pad token, else EOS (as TRL falls back), else 0. Padding is masked
    /// out of attention and losses, so only its being a valid id matters.
    public var paddingID: Int { padTokenID ?? eosTokenID ?? 0 }
}
