import Data
import Foundation
import Models
import Tokenizer

/// One completion as a reward function sees it: the prompt's text and row, the completion's text and ids.
public struct RewardInput {
    public let prompt: String
    public let completion: String
    /// The completion's token ids (policy tokenizer), without padding.
    public let completionIDs: [Int]
    /// The prompt's token ids (policy tokenizer).
    public let promptIDs: [Int]
    /// The prompt's JSONL row: every column, `prompt` included (e.g. `answers` for `contains`).
    public let row: [String: Any]

    public init(prompt: String, completion: String, completionIDs: [Int], promptIDs: [Int], row: [String: Any]) {
        (self.prompt, self.completion, self.completionIDs, self.promptIDs, self.row) = (prompt, completion, completionIDs, promptIDs, row)
    }
}

/// Scores completions for critic-free online RL (GRPO, RLOO): a reward model, a rule written in Swift, or an
/// external program. nil means "this function does not apply to this completion" (TRL's None): it is left out of
/// the reward sum, and a completion no function scores gets no advantage.
public protocol RewardFunction: AnyObject {
    /// The name metrics are logged under (`rewards/<name>/mean`).
    var name: String { get }
    func rewards(_ inputs: [RewardInput]) throws -> [Float?]
}

/// A reward model (or any `ResponseScorer`) as a reward function: it scores the token ids it is given.
public final class ScorerReward: RewardFunction {
    public let name: String
    public let scorer: any ResponseScorer

    public init(name: String, scorer: any ResponseScorer) { (self.name, self.scorer) = (name, scorer) }

    public func rewards(_ inputs: [RewardInput]) throws -> [Float?] {
        try scorer.scores(queries: inputs.map(\.promptIDs), responses: inputs.map(\.completionIDs))
    }
}

/// The reward sources of a run as its configuration names them, in the order their weights apply: every
/// `reward` model directory, then the `reward_classifier`, then every `reward_fn`, then every `reward_cmd`.
public struct RewardSources: Codable, Sendable, Equatable {
    /// Reward model directories (scored as PPO scores: retokenised when the tokenizer differs from the policy's).
    public var reward: [String] = []
    /// A sequence classifier whose `rewardLabel` scores each completion's text (with its own tokenizer).
    public var rewardClassifier: String? = nil
    /// The classifier's label (`id2label` name or index).
    public var rewardLabel: String? = nil
    public var rewardTransform: ClassifierRewardTransform = .logit
    /// Built-in rules, `NAME[:ARG]`: `contains`, `regex:PATTERN`, `length:N`.
    public var rewardFn: [String] = []
    /// External programs (run by /bin/sh): one JSON object per completion on stdin, one number per line on stdout.
    public var rewardCmd: [String] = []
    /// One weight per source, in the order above; nil: all 1.
    public var rewardWeights: [Float]? = nil
    /// Seconds a reward program may take to answer one batch before the run stops.
    public var rewardCmdTimeout: Double = 600

    public init() {}

    var count: Int { reward.count + (rewardClassifier == nil ? 0 : 1) + rewardFn.count + rewardCmd.count }

    func validate() throws {
        if count == 0 {
            throw JobError("give at least one reward source: --reward DIR, --reward-classifier DIR, --reward-fn NAME[:ARG] or --reward-cmd CMD")
        }
        if let rewardWeights, rewardWeights.count != count {
            throw JobError("reward_weights has \(rewardWeights.count) values for \(count) reward sources (--reward, then --reward-classifier, then --reward-fn, then --reward-cmd)")
        }
        try ClassifierScorer.validate(classifier: rewardClassifier, label: rewardLabel)
        for spec in rewardFn { _ = try BuiltinReward(spec) }
        for command in rewardCmd where command.trimmingCharacters(in: .whitespaces).isEmpty { throw JobError("reward_cmd is empty") }
        try Check.positive(rewardCmdTimeout, "reward_cmd_timeout")
    }

    /// The weights, one per source.
    var weights: [Float] { rewardWeights ?? Array(repeating: 1, count: count) }

    /// Loads every source; `makeScorer` loads a reward model directory.
    func load(policyTokenizer: Tokenizer, makeScorer: (URL) throws -> any ResponseScorer) throws -> [any RewardFunction] {
        var functions: [any RewardFunction] = try reward.map { path in
            ScorerReward(name: URL(fileURLWithPath: path).lastPathComponent, scorer: try makeScorer(ModelDirectory.locate(path)))
        }
        if let classifier = try ClassifierScorer.reward(classifier: rewardClassifier, label: rewardLabel, transform: rewardTransform,
                                                        policyTokenizer: policyTokenizer) {
            functions.append(ScorerReward(name: URL(fileURLWithPath: rewardClassifier!).lastPathComponent + ":" + rewardLabel!, scorer: classifier))
        }
        functions += try rewardFn.map { try BuiltinReward($0) }
        functions += try rewardCmd.map { try RewardCommand($0, timeout: rewardCmdTimeout) }
        return functions
    }

    /// Names as metrics use them: unique, a repeated name gets its position appended.
    static func uniqueNames(_ names: [String]) -> [String] {
        names.enumerated().map { index, name in
            names.filter { $0 == name }.count > 1 ? "\(name)_\(index)" : name
        }
    }
}
