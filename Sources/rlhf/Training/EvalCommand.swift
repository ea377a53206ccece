import Alignment
import ArgumentParser
import Data
import Foundation
import Models
import Tokenizer

struct EvalCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "eval",
        abstract: "Compare a tuned model with its baseline: reward, win rate, KL, length and repetition.",
        discussion: """
            Both models answer every prompt greedily, or with --temperature > 0 --samples times each (the same seeds \
            for both; KL is then an unbiased estimate when the temperature is 1). Reports the reward model's mean score with a 95% interval for \
            each, the model's win rate over the baseline, the per-token KL of the model's responses to the baseline, \
            response lengths, distinct-1/2 and the share of responses with a token repeated 4+ times (reward-hacking \
            signals), and the mean of every --classifier reward (e.g. toxicity) for both.
            """)

    @Option(help: "The tuned model.", transform: { URL(fileURLWithPath: $0) }) var model: URL
    @Option(help: "The model it started from.", transform: { URL(fileURLWithPath: $0) }) var baseline: URL
    @Option(help: "Reward model.", transform: { URL(fileURLWithPath: $0) }) var reward: URL
    @Option(help: "Prompts (JSONL {\"prompt\"}).", transform: { URL(fileURLWithPath: $0) }) var prompts: URL
    @Option(help: "Extra reward or classifier models to report (repeatable).", transform: { URL(fileURLWithPath: $0) })
    var classifier: [URL] = []
    @Option(help: "Longest response.") var maxNewTokens = 53
    @Option(help: "Sampling temperature (0 = greedy).") var temperature: Float = 0
    @Option(help: "Responses per prompt and model when sampling.") var samples = 1
    @Option(help: "Random seed for sampling.") var seed: UInt64 = 0
    @Flag(help: "Wrap prompts as user messages in the chat template.") var chat = false
    @Flag(help: "Print one JSON object.") var json = false

    func validate() throws {
        guard temperature >= 0, samples > 0, maxNewTokens > 0 else {
            throw ValidationError("--temperature must be ≥ 0, --samples and --max-new-tokens positive")
        }
        guard temperature > 0 || samples == 1 else { throw ValidationError("--samples > 1 needs --temperature > 0") }
    }

    func run() throws {
        let tokenizer = try Tokenizer(directory: model)
        let queries = try PromptRecord.load(prompts).map { try tokenizer.encodePrompt($0.prompt, chat: chat) }
        var extras: [String: any ResponseScorer] = [:]
        for url in classifier {
            extras[url.lastPathComponent] = RetokenizingScorer(scorer: try ModelDirectory.loadRewardModel(url), source: tokenizer,
                                                               target: try Tokenizer(directory: url))
        }
        let result = try Evaluation.run(model: try ModelDirectory.load(model), baseline: try ModelDirectory.load(baseline),
                                        scorer: try ModelDirectory.loadRewardModel(reward), extraScorers: extras, queries: queries,
                                        maxNewTokens: maxNewTokens, stopTokenIDs: tokenizer.eosTokenIDs,
                                        padID: tokenizer.padTokenID ?? tokenizer.eosTokenID ?? 0,
                                        sampling: SamplingOptions(temperature: temperature, seed: seed), samplesPerPrompt: samples)
        if json { return try printJSON(result) }
        let column = { (text: String, width: Int) in String(repeating: " ", count: max(0, width - text.count)) + text }
        print(String(repeating: " ", count: 18) + column("baseline", 13) + column("model", 13))
        let rows: [(String, Double, Double)] = [
            ("mean reward", result.baseline.meanReward, result.model.meanReward),
            ("mean length", result.baseline.meanLength, result.model.meanLength),
            ("distinct-1", result.baseline.distinct1, result.model.distinct1),
            ("distinct-2", result.baseline.distinct2, result.model.distinct2),
            ("repetition rate", result.baseline.repetitionRate, result.model.repetitionRate),
        ] + result.model.extraRewards.keys.sorted().map { ($0, result.baseline.extraRewards[$0] ?? 0, result.model.extraRewards[$0]!) }
        for (name, before, after) in rows {
            print(name.padding(toLength: 18, withPad: " ", startingAt: 0) + column(String(format: "%.4f", before), 13)
                  + column(String(format: "%.4f", after), 13))
        }
        print(String(format: "win rate %.3f over %d prompts, KL to baseline %.4f per token", result.winRate, result.prompts, result.klPerToken))
    }
}
