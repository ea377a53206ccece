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

    private static let defaults = EvalConfig()

    @Option(help: "The tuned model (directory or Hub id).") var model: String
    @Option(help: "The model it started from (directory or Hub id).") var baseline: String
    @Option(help: "Reward model (directory or Hub id).") var reward: String
    @Option(help: "Prompts (JSONL {\"prompt\"}).") var prompts: String
    @Option(help: "Extra reward or classifier models to report (directories or Hub ids; repeatable).") var classifier: [String] = []
    @Option(help: help("Longest response.", default: defaults.maxNewTokens)) var maxNewTokens: Int?
    @Option(help: help("Sampling temperature (0 = greedy).", default: defaults.temperature)) var temperature: Float?
    @Option(help: help("Responses per prompt and model when sampling.", default: defaults.samples)) var samples: Int?
    @Option(help: help("Random seed for sampling.", default: defaults.seed)) var seed: UInt64?
    @Flag(help: "Wrap prompts as user messages in the chat template.") var chat = false
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        var config = EvalConfig()
        (config.model, config.baseline, config.reward, config.prompts, config.classifier, config.chat) = (model, baseline, reward, prompts, classifier, chat)
        set(&config.maxNewTokens, maxNewTokens)
        set(&config.temperature, temperature)
        set(&config.samples, samples)
        set(&config.seed, seed)
        let result = try config.run()
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
