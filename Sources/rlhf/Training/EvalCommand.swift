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
            signals), and the mean of every --classifier reward for both. With --label (e.g. hate), every \
            --classifier (any sequence classifier: BERT, RoBERTa, DeBERTa-v2 or a reward model, with its own \
            tokenizer) reports that label's mean probability over the responses and the share at or above \
            --threshold, with 95% intervals (toxicity before and after). The score can come from a classifier's \
            label instead of a reward model: --reward-classifier DIR --reward-label NAME.
            """)

    private static let defaults = EvalConfig()

    @Option(help: "The tuned model (directory or Hub id).") var model: String
    @Option(help: "The model it started from (directory or Hub id).") var baseline: String
    @Option(help: "Reward model (directory or Hub id); or give --reward-classifier.") var reward: String?
    @OptionGroup var classifierReward: ClassifierRewardFlags
    @Option(help: "Prompts (JSONL {\"prompt\"}).") var prompts: String
    @Option(help: "Extra reward or classifier models to report (directories or Hub ids; repeatable).") var classifier: [String] = []
    @Option(help: "Report this label's probability (id2label name or index) for every --classifier.") var label: String?
    @Option(help: help("Probability at which a response counts as having the label.", default: defaults.threshold)) var threshold: Double?
    @Option(help: help("Longest response.", default: defaults.maxNewTokens)) var maxNewTokens: Int?
    @Option(help: help("Sampling temperature (0 = greedy).", default: defaults.temperature)) var temperature: Float?
    @Option(help: help("Responses per prompt and model when sampling.", default: defaults.samples)) var samples: Int?
    @Option(help: help("Random seed for sampling.", default: defaults.seed)) var seed: UInt64?
    @Flag(help: "Wrap prompts as user messages in the chat template.") var chat = false
    @Flag(help: "Print one JSON object.") var json = false

    func run() throws {
        var config = EvalConfig()
        (config.model, config.baseline, config.reward, config.prompts, config.classifier, config.chat) = (model, baseline, reward, prompts, classifier, chat)
        (config.rewardClassifier, config.rewardLabel, config.label) = (classifierReward.rewardClassifier, classifierReward.rewardLabel, label)
        set(&config.rewardTransform, classifierReward.rewardTransform)
        set(&config.threshold, threshold)
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
        for name in result.model.labelRates.keys.sorted() {
            let (before, after) = (result.baseline.labelRates[name]!, result.model.labelRates[name]!)
            let interval = { (values: [Double]) in String(format: "[%.3f, %.3f]", values[0], values[1]) }
            print("\(name): mean probability \(String(format: "%.4f", before.meanProbability)) \(interval(before.meanInterval)) -> "
                  + "\(String(format: "%.4f", after.meanProbability)) \(interval(after.meanInterval)); share >= \(after.threshold): "
                  + "\(String(format: "%.3f", before.shareAtThreshold)) \(interval(before.shareInterval)) -> "
                  + "\(String(format: "%.3f", after.shareAtThreshold)) \(interval(after.shareInterval))")
        }
        print(String(format: "win rate %.3f over %d prompts, KL to baseline %.4f per token", result.winRate, result.prompts, result.klPerToken))
    }
}
