import Alignment
import Models
import Tensor
import Tokenizer

/// Judges tuned models against the SFT model on the evaluation prompts: the reward model's view (through
/// `Evaluation`, as `rlhf eval` reports it) and the hidden rubric's, on the same sampled replies.
public struct RubricEvaluation {
    public let prompts: [String]
    public let tokenizer: Tokenizer
    public let rewardModel: RewardModel
    public let maxNewTokens: Int
    /// Replies sampled per prompt and model, at temperature 1 (the policy as trained, and an unbiased KL).
    public let samplesPerPrompt: Int
    public let seed: UInt64

    public init(prompts: [String], tokenizer: Tokenizer, rewardModel: RewardModel, maxNewTokens: Int, samplesPerPrompt: Int,
                seed: UInt64) {
        (self.prompts, self.tokenizer, self.rewardModel) = (prompts, tokenizer, rewardModel)
        (self.maxNewTokens, self.samplesPerPrompt, self.seed) = (maxNewTokens, samplesPerPrompt, seed)
    }

    /// Results for `sft` itself and for every tuned model (name → model), and each model's first reply to the
    /// first `sampleCount` prompts.
    public func run(sft: any CausalLanguageModel, tuned: [(name: String, model: any CausalLanguageModel)],
                    sampleCount: Int) throws -> (results: [DemoSummary.ModelResult], samples: [DemoSummary.Sample]) {
        let queries = prompts.map { tokenizer.encode($0) }
        let evaluations = try Evaluation.run(
            models: tuned.map(\.model), baseline: sft, scorer: rewardModel, queries: queries, maxNewTokens: maxNewTokens,
            stopTokenIDs: tokenizer.eosTokenIDs, padID: tokenizer.paddingID,
            sampling: SamplingOptions(temperature: 1, seed: seed), samplesPerPrompt: samplesPerPrompt)
        var sides: [(String, Evaluation.Side, winRate: Double, kl: Double)] = evaluations.first.map { [("sft", $0.baseline, 0.5, 0)] } ?? []
        for ((name, _), evaluation) in zip(tuned, evaluations) {
            sides.append((name, evaluation.model, evaluation.winRate, evaluation.klPerToken))
        }
        var results: [DemoSummary.ModelResult] = []
        var replies: [[String]] = []
        for (name, side, winRate, kl) in sides {
            let texts = side.responses.map { tokenizer.decode($0, skipSpecialTokens: true) }
            replies.append(texts)
            let grades = texts.enumerated().map { Rubric.grade(prompt: prompts[$0.offset / samplesPerPrompt], reply: $0.element) }
            let mean = { (value: (Rubric.Grade) -> Double) in grades.map(value).reduce(0, +) / Double(grades.count) }
            let subtraction = grades.compactMap(\.correctResults)
            results.append(DemoSummary.ModelResult(
                name: name, rubric: mean(\.score), correctness: mean(\.correctness), helpfulness: mean(\.helpfulness),
                harmlessness: mean(\.harmlessness),
                arithmeticAccuracy: subtraction.isEmpty ? 0 : Double(subtraction.reduce(0, +)) / Double(2 * subtraction.count),
                meanReward: side.meanReward, winRateOverSFT: winRate, klPerTokenToSFT: kl, meanLength: side.meanLength,
                distinct2: side.distinct2, repetitionRate: side.repetitionRate, trainingSeconds: nil, peakMemoryBytes: nil))
        }
        let samples = prompts.prefix(sampleCount).enumerated().map { index, prompt in
            DemoSummary.Sample(prompt: prompt, replies: Dictionary(uniqueKeysWithValues: zip(sides.map(\.0), replies).map { name, texts in
                let text = texts[index * samplesPerPrompt]
                return (name, DemoSummary.Sample.Reply(text: text, rubric: Rubric.grade(prompt: prompt, reply: text).score))
            }))
        }
        return (results, samples)
    }
}
