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
    /// The reward model that scores both (or give `rewardClassifier`).
    public var reward: String? = nil
    /// A sequence classifier whose `rewardLabel` scores both instead of a reward model.
    public var rewardClassifier: String? = nil
    /// The classifier's label (`id2label` name or index).
    public var rewardLabel: String? = nil
    public var rewardTransform: ClassifierRewardTransform = .logit
    /// Prompts (JSONL {"prompt"}).
    public var prompts = ""
    /// Extra reward or classifier models whose mean score is reported for both (read through their own tokenizer).
    public var classifier: [String] = []
    /// With a label (e.g. "hate"), every `classifier` reports instead the mean probability of that label and the
    /// share of responses whose probability is at least `threshold`, with 95% intervals.
    public var label: String? = nil
    public var threshold: Double = 0.5
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
        for (value, key) in [(model, "model"), (baseline, "baseline"), (prompts, "prompts")] { try Check.required(value, key) }
        guard (reward == nil) != (rewardClassifier == nil) else { throw JobError("give one of reward and reward_classifier") }
        try ClassifierScorer.validate(classifier: rewardClassifier, label: rewardLabel)
        if label != nil, classifier.isEmpty { throw JobError("label needs at least one classifier") }
        if !(threshold >= 0 && threshold <= 1) { throw JobError("threshold must be in [0, 1] (got \(threshold))") }
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
        var extras: [String: any ResponseScorer] = [:], rates: [String: any ResponseScorer] = [:]
        for argument in classifier {
            let name = URL(fileURLWithPath: argument).lastPathComponent
            if let label {
                rates[name + ":" + label] = try ClassifierScorer(directory: argument, label: label, transform: .prob, policyTokenizer: tokenizer)
            } else {
                let url = try ModelDirectory.locate(argument)
                extras[name] = RetokenizingScorer(scorer: try ModelDirectory.loadRewardModel(url), source: tokenizer, target: try Tokenizer(directory: url))
            }
        }
        let scorer: any ResponseScorer = try ClassifierScorer.reward(classifier: rewardClassifier, label: rewardLabel, transform: rewardTransform,
                                                                     policyTokenizer: tokenizer)
            ?? ModelDirectory.loadRewardModel(ModelDirectory.locate(reward!))
        return try Evaluation.run(model: try ModelDirectory.loadLanguageModel(directory), baseline: try ModelDirectory.loadLanguageModel(ModelDirectory.locate(baseline)),
                                  scorer: scorer, extraScorers: extras, labelScorers: rates, threshold: threshold,
                                  queries: queries, maxNewTokens: maxNewTokens, stopTokenIDs: tokenizer.eosTokenIDs,
                                  padID: tokenizer.paddingID, sampling: SamplingOptions(temperature: temperature, seed: seed),
                                  samplesPerPrompt: samples)
    }
}
