import Data
import Foundation
import Models
import Tokenizer

/// Several sampled completions per prompt, for labeling, as `rlhf complete` writes them: {"id", "prompt",
/// "completions": [...]} lines, the format `rlhf feedback import` and the labeling app read. All samples of a prompt,
/// and several prompts, run as one left-padded batch; each row has its own seed.
public struct CompletionConfig: JobConfiguration {
    public static let command = "complete"

    public var model = ""
    /// Prompts (JSONL {"prompt", "id"?}).
    public var prompts = ""
    /// Completions per prompt.
    public var n = 4
    /// The output file (JSONL).
    public var out = ""
    /// Prompts per batch (each contributes `n` rows).
    public var batchPrompts = 4
    /// Wrap each prompt as a user message in the model's chat template.
    public var chat = false
    public var maxNewTokens = 128
    public var temperature: Float = 1
    /// Sample only from the k most likely tokens (0 = off).
    public var topK = 0
    /// Sample only from the most likely tokens whose probability adds up to p (1 = off).
    public var topP: Float = 1
    public var seed: UInt64 = 0

    public init() {}

    public func validate() throws {
        for (value, key) in [(model, "model"), (prompts, "prompts"), (out, "out")] { try Check.required(value, key) }
        for (value, key) in [(n, "n"), (batchPrompts, "batch_prompts"), (maxNewTokens, "max_new_tokens")] { try Check.positive(value, key) }
        try Check.nonNegative(temperature, "temperature")
        try Check.nonNegative(topK, "top_k")
        if !(topP > 0 && topP <= 1) { throw JobError("top_p must be in (0, 1] (got \(topP))") }
    }

    /// Writes the completions and returns them; `progress` hears "prompts k/N".
    @discardableResult
    public func run(progress: (String) -> Void = { _ in }) throws -> [CompletionSet] {
        try validate()
        let records = try PromptRecord.load(URL(fileURLWithPath: prompts))
        let directory = try ModelDirectory.locate(model)
        let (network, tokenizer) = (try ModelDirectory.load(directory), try Tokenizer(directory: directory))
        let generator = TextGenerator(model: network)
        var sets: [CompletionSet] = []
        for start in stride(from: 0, to: records.count, by: batchPrompts) {
            let batch = Array(records[start..<min(records.count, start + batchPrompts)])
            progress("prompts \(start + batch.count)/\(records.count)")
            let encoded = try batch.map { try tokenizer.encodePrompt($0.prompt, chat: chat) }
            // Every row of the run gets its own seed.
            let sampling = SamplingOptions(temperature: temperature, topK: topK, topP: topP, seed: seed &+ UInt64(start * n))
            let options = TextGenerator.Options(maxNewTokens: maxNewTokens, sampling: sampling, stopTokenIDs: tokenizer.eosTokenIDs,
                                                padTokenID: tokenizer.paddingID)
            let rows = try generator.generate(encoded.flatMap { Array(repeating: $0, count: n) }, options: options)
            for (index, record) in batch.enumerated() {
                let texts = rows[(index * n)..<((index + 1) * n)].map { ids in
                    tokenizer.decodeCompletion(ids, stopTokenIDs: options.stopTokenIDs)
                }
                sets.append(CompletionSet(id: record.id, prompt: record.prompt, completions: texts))
            }
        }
        try JSONLines.write(sets, to: URL(fileURLWithPath: out))
        return sets
    }
}
