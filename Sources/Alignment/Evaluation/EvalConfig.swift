import Data
import Foundation
import Models
import Tokenizer

/// A tuned model against its baseline on the same prompts, as `rlhf eval` compares them: reward, win rate, KL,
/// length and repetition, and every extra classifier's mean.
public struct EvalConfig: JobConfiguration {
    public static let command = "eval"

    /// The tuned model.
    public var model = ""
    /// The model it started from.
    public var baseline = ""
    /// The reward model that scores both.
    public var reward = ""
    /// Prompts (JSONL {"prompt"}).
    public var prompts = ""
    /// Extra reward or classifier models whose mean score is reported for both (read through their own tokenizer).
    public var classifier: [String] = []
    /// The longest response.
    public var maxNewTokens = 53
    /// 0 answers greedily; otherwise both models sample `samples` responses per prompt with the same seeds.
    public var temperature: Float = 0
    public var samples = 1
    public var seed: UInt64 = 0
    /// Wrap prompts as user messages in the chat template.
    public var chat = false

    public init() {}

    public func validate() throws {
        for (value, key) in [(model, "model"), (baseline, "baseline"), (reward, "reward"), (prompts, "prompts")] { try Check.required(value, key) }
        try Check.nonNegative(temperature, "temperature")
        try Check.positive(samples, "samples")
        try Check.positive(maxNewTokens, "max_new_tokens")
        if temperature == 0, samples > 1 { throw JobError("samples > 1 needs temperature > 0") }
    }

    public func run() throws -> Evaluation {
        try validate()
        let directory = try ModelDirectory.locate(model)
        let tokenizer = try Tokenizer(directory: directory)
        let queries = try PromptRecord.load(URL(fileURLWithPath: prompts)).map { try tokenizer.encodePrompt($0.prompt, chat: chat) }
        var extras: [String: any ResponseScorer] = [:]
        for argument in classifier {
            let url = try ModelDirectory.locate(argument)
            extras[URL(fileURLWithPath: argument).lastPathComponent] = RetokenizingScorer(
                scorer: try ModelDirectory.loadRewardModel(url), source: tokenizer, target: try Tokenizer(directory: url))
        }
        return try Evaluation.run(model: try ModelDirectory.load(directory), baseline: try ModelDirectory.load(ModelDirectory.locate(baseline)),
                                  scorer: try ModelDirectory.loadRewardModel(ModelDirectory.locate(reward)), extraScorers: extras,
                                  queries: queries, maxNewTokens: maxNewTokens, stopTokenIDs: tokenizer.eosTokenIDs,
                                  padID: tokenizer.paddingID, sampling: SamplingOptions(temperature: temperature, seed: seed),
                                  samplesPerPrompt: samples)
    }
}
