import Foundation
import NN
import Tensor

/// A model that writes a response after a query: decoder-only (the query is its prompt) or encoder-decoder (the
/// query is the encoder's input, e.g. T5). Policies are trained, sampled and scored through this.
public protocol LanguageModel: AdaptableModule {
    var vocabularySize: Int { get }
    /// Width of the final hidden states.
    var hiddenWidth: Int { get }
    /// config.json's fields, written back when the model is saved.
    var configFields: [String: JSONValue] { get }
    /// PEFT's default LoRA targets for the family.
    var defaultLoRATargets: [String] { get }
    /// PEFT's `task_type` for adapters of this model: CAUSAL_LM or SEQ_2_SEQ_LM.
    var peftTaskType: String { get }
    /// Final hidden states at the positions that predict each response token, [size, responseLength, width].
    func responseHiddenStates(_ batch: RolloutBatch) throws -> Tensor
    /// Next-token logits [..., vocabulary] from final hidden states.
    func languageModelHead(_ hidden: Tensor) throws -> Tensor
    /// New tokens after each query (a stop token, when one ends the row, is included); `onToken(row, token)` sees
    /// each new token and returns false to end that row early.
    func generate(_ queries: [[Int]], options: TextGenerator.Options, onToken: (_ row: Int, _ token: Int) -> Bool) throws -> [[Int]]
}

extension LanguageModel {
    public func generate(_ queries: [[Int]], options: TextGenerator.Options) throws -> [[Int]] {
        try generate(queries, options: options) { _, _ in true }
    }
}

extension CausalLanguageModel {
    public var configFields: [String: JSONValue] { config.fields }
    public var hiddenWidth: Int {
        namedParameters.first { $0.name.hasSuffix("embed_tokens.weight") || $0.name.hasSuffix("wte.weight") }!.parameter.value.shape[1]
    }
    public var defaultLoRATargets: [String] { config.defaultLoRATargets }
    public var peftTaskType: String { "CAUSAL_LM" }

    public func responseHiddenStates(_ batch: RolloutBatch) throws -> Tensor {
        let inputs = batch.predictingInputs
        return try batch.predictingColumns(try hiddenStates(inputs.ids, batch: batch.size, length: inputs.length, context: inputs.context))
    }

    public func generate(_ queries: [[Int]], options: TextGenerator.Options, onToken: (_ row: Int, _ token: Int) -> Bool) throws -> [[Int]] {
        try TextGenerator(model: self).generate(queries, options: options, onToken: onToken)
    }
}

extension T5: LanguageModel {
    public var configFields: [String: JSONValue] { fields }
    public var hiddenWidth: Int { config.dModel }
    public var defaultLoRATargets: [String] { ["q", "v"] }
    public var peftTaskType: String { "SEQ_2_SEQ_LM" }

    /// The queries encoded on their own (right-padded), the decoder fed the start token and the response before each
    /// position (teacher forcing).
    public func responseHiddenStates(_ batch: RolloutBatch) throws -> Tensor {
        let length = max(batch.queries.map(\.count).max() ?? 1, 1), pad = config.padTokenId ?? 0
        let ids = batch.queries.flatMap { $0 + Array(repeating: pad, count: length - $0.count) }
        let mask = batch.queries.flatMap { [Float](repeating: 1, count: $0.count) + [Float](repeating: 0, count: length - $0.count) }
        let encoded = T5EncoderOutput(states: try encode(ids, batch: batch.size, length: length, keyMask: mask), keyMask: mask)
        let decoderInputs = batch.responses.flatMap { response in
            ([config.startTokenID] + response.prefix(batch.responseLength - 1))
                + Array(repeating: pad, count: max(0, batch.responseLength - 1 - response.count))
        }
        return try decode(decoderInputs, batch: batch.size, length: batch.responseLength, encoded: encoded)
    }
}

extension ModelDirectory {
    /// Whether `directory` holds an encoder-decoder model (T5 / FLAN-T5).
    public static func isEncoderDecoder(_ directory: URL) throws -> Bool { try T5Config.load(directory: directory) != nil }

    /// A policy of any family: T5 / FLAN-T5 (encoder-decoder) or a decoder-only model.
    public static func loadLanguageModel(_ directory: URL) throws -> any LanguageModel {
        try T5Config.load(directory: directory) != nil ? try loadT5(directory) : try load(directory)
    }

    /// Writes config.json and model.safetensors (sharded above `maxShardBytes`) so transformers loads the
    /// directory unchanged; a tied LM head is stored once, as the embedding.
    public static func save(_ model: any LanguageModel, to directory: URL, dtype: DType = .float32,
                            maxShardBytes: Int = 5 << 30) throws {
        try save(model.namedParameters, fields: model.configFields, to: directory, dtype: dtype, maxShardBytes: maxShardBytes)
    }

    /// Replaces a model's weights with those saved in `directory` (e.g. a training checkpoint).
    public static func loadWeights(into model: any LanguageModel, from directory: URL) throws {
        let modelType = (model as? any CausalLanguageModel)?.config.modelType ?? ""
        try assignWeights(model.namedParameters, modelType: modelType, from: try SafetensorsCheckpoint(directory: directory), path: directory.path)
    }
}
