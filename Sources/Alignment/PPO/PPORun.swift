import Data
import Foundation
import Models
import Tensor
import Tokenizer

/// PPO against a reward model (step 3 of RLHF), as `rlhf ppo` runs it. Defaults follow TRL's PPOConfig.
public struct PPOConfig: RunConfiguration {
    public static let command = "ppo"
    /// PPO's learning rate is constant, so a resume may extend or shorten the run and change its stop rules.
    public static var resumeInsensitiveKeys: Set<String> { ["iterations", "save_every", "target_reward", "kl_budget"] }

    /// The starting policy, typically the SFT model.
    public var policy = ""
    /// A LoRA adapter of `policy` (e.g. `rlhf sft --lora-rank`'s output) to train further; the reference is then the
    /// policy with a frozen copy of it.
    public var adapter: String? = nil
    /// The reward model; the critic starts from it, as TRL's does. Or give `rewardClassifier`.
    public var reward: String? = nil
    /// A sequence classifier whose `rewardLabel` is the reward (e.g. a toxicity classifier's "nothate" logit); the
    /// critic then starts from the policy with a new value head.
    public var rewardClassifier: String? = nil
    /// The classifier's label (`id2label` name or index).
    public var rewardLabel: String? = nil
    public var rewardTransform: ClassifierRewardTransform = .logit
    /// Prompts (JSONL {"prompt"}), taken `batchSize` at a time, cycling.
    public var prompts = ""
    /// The policy (a Hugging Face directory), critic/, metrics.jsonl, samples.jsonl and checkpoints go here.
    public var out = ""
    /// Wrap prompts as user messages in the chat template.
    public var chat = false
    public var iterations = 100
    /// Prompts per iteration.
    public var batchSize = 16
    /// Minibatches per PPO epoch.
    public var miniBatches = 1
    /// Epochs over each rollout.
    public var ppoEpochs = 4
    /// Learning rate of policy and critic (constant).
    public var learningRate: Float = 3e-6
    /// Global gradient-norm clip; 0 turns it off.
    public var maxGradNorm: Float = 1
    /// The longest response (TRL's response_length).
    public var maxNewTokens = 53
    /// Sampling temperature; logits are divided by it when scoring too.
    public var temperature: Float = 0.7
    public var seed: UInt64 = 42
    /// Checkpoint every this many iterations (0 = only the final model).
    public var saveEvery = 0
    /// Stop once the mean score reaches this.
    public var targetReward: Double? = nil
    /// Stop once the mean per-response KL to the reference exceeds this.
    public var klBudget: Double? = nil
    /// Where the value estimates come from: a model of their own (TRL's, from the reward model) or a head on the
    /// policy's hidden states (one trunk in memory, trained by the value loss too).
    public var critic = CriticPlacement.separate
    public var ppo = PPOHyperparameters()
    public var lora = LoRAConfig()
    public var logging = LoggingConfig()

    enum CodingKeys: String, CodingKey {
        case policy, adapter, reward, rewardClassifier, rewardLabel, rewardTransform, prompts, out, chat, iterations, batchSize, miniBatches, ppoEpochs, learningRate = "lr",
             maxGradNorm, maxNewTokens, temperature, seed, saveEvery, targetReward, klBudget, critic, ppo, lora, logging
    }

    public init() {}

    public var inputs: [String] { [policy] + [reward, rewardClassifier, adapter].compactMap { $0 } }

    public func validate() throws {
        for (value, key) in [(policy, "policy"), (prompts, "prompts"), (out, "out")] { try Check.required(value, key) }
        guard (reward == nil) != (rewardClassifier == nil) else { throw JobError("give one of reward and reward_classifier") }
        try ClassifierScorer.validate(classifier: rewardClassifier, label: rewardLabel)
        for (value, key) in [(iterations, "iterations"), (batchSize, "batch_size"), (miniBatches, "mini_batches"),
                             (ppoEpochs, "ppo_epochs"), (maxNewTokens, "max_new_tokens")] {
            try Check.positive(value, key)
        }
        if miniBatches > batchSize { throw JobError("mini_batches must be at most batch_size (\(batchSize))") }
        try Check.learningRate(learningRate)
        try Check.positive(temperature, "temperature")
        try Check.nonNegative(maxGradNorm, "max_grad_norm")
        try Check.nonNegative(saveEvery, "save_every")
        try ppo.validate()
        try lora.validate()
    }

    /// Trains the policy and writes it (adapters merged; in LoRA mode also unmerged in `out/adapter`) with the
    /// critic in `out/critic`.
    public func run(_ control: RunControl = .init()) throws -> RunResult {
        let session = try RunSession(self, control)
        let policyDirectory = try ModelDirectory.locate(policy)
        let records = try PromptRecord.load(URL(fileURLWithPath: prompts))
        let tokenizer = try Tokenizer(directory: policyDirectory)
        let queries = try records.map { try tokenizer.encodePrompt($0.prompt, chat: chat) }
        let models = try PolicyModels.load(model: policy, adapter: adapter, lora: lora, seed: seed)
        let (scorer, critic) = try rewardAndCritic(policyDirectory: policyDirectory, tokenizer: tokenizer, policy: models.policy)
        let trainer = try PPOTrainer(policy: models.policy, adapters: models.adapters, reference: try models.makeReference(),
                                     critic: critic, scorer: scorer, config: self, stopTokenIDs: tokenizer.eosTokenIDs,
                                     padID: tokenizer.paddingID, communicator: control.communicator)
        let iterations = PPOIterations(trainer: trainer, prompts: records.map(\.prompt), queries: queries, tokenizer: tokenizer,
                                       samples: control.communicator.isLeader ? URL(fileURLWithPath: out).appendingPathComponent("samples.jsonl") : nil)
        if session.checkpoint == nil, let samples = iterations.samples {
            try? FileManager.default.removeItem(at: samples)  // nothing an earlier attempt logged stays
        }
        return try session.train(iterations, totalSteps: self.iterations, saveEvery: saveEvery, evalEvery: 0) { out in
            try models.saveFinal(to: out)
            try trainer.critic.save(to: out.appendingPathComponent("critic"))
        }
    }
}

extension PPOConfig {
    /// The reward model (a separate critic starts from it) or the classifier's label (a separate critic starts from
    /// the policy); an encoder-decoder policy's separate critic is its own trunk with a value head on the decoder's
    /// states. A shared critic is a new head on `policy` itself.
    func rewardAndCritic(policyDirectory: URL, tokenizer: Tokenizer, policy: any LanguageModel) throws -> (any ResponseScorer, any Critic) {
        let sequenceToSequence = try ModelDirectory.isEncoderDecoder(policyDirectory)
        let ownCritic = { () throws -> any Critic in
            if critic == .shared { return ValueHeadModel(sharing: policy, seed: seed) }
            return sequenceToSequence ? ValueHeadModel(trunk: try ModelDirectory.loadLanguageModel(policyDirectory), seed: seed)
                                      : try ModelDirectory.rewardModelToTrain(policyDirectory, seed: seed)
        }
        if let classifier = try ClassifierScorer.reward(classifier: rewardClassifier, label: rewardLabel, transform: rewardTransform,
                                                        policyTokenizer: tokenizer) {
            return (classifier, try ownCritic())
        }
        let rewardDirectory = try ModelDirectory.locate(reward!)
        let rewardModel = try ModelDirectory.loadRewardModel(rewardDirectory)
        rewardModel.setTrainable(false)
        let scorer = try rewardModel.scorer(for: tokenizer, policyDirectory: policyDirectory, rewardDirectory: rewardDirectory)
        return (scorer, sequenceToSequence || critic == .shared ? try ownCritic() : try ModelDirectory.loadRewardModel(rewardDirectory))
    }
}

/// Where PPO's value estimates come from.
public enum CriticPlacement: String, Codable, Sendable, CaseIterable {
    /// A value model of its own: the reward model's weights and head (TRL's PPOTrainer), or for a classifier reward
    /// or a T5 policy the policy's weights with a new value head. Trained alongside, held in memory as a second model.
    case separate
    /// A new scalar head on the policy's own final hidden states (InstructGPT-style implementations, TRL's older
    /// value-head models): no second trunk, and the value loss (× vf_coef) trains the policy's weights or adapters too.
    case shared
}

extension RewardModel {
    /// Scores the policy's responses: directly when both share a tokenizer, else through text re-encoded the reward
    /// model's way.
    func scorer(for tokenizer: Tokenizer, policyDirectory: URL, rewardDirectory: URL) throws -> any ResponseScorer {
        let same = FileManager.default.contentsEqual(atPath: policyDirectory.appendingPathComponent("tokenizer.json").path,
                                                     andPath: rewardDirectory.appendingPathComponent("tokenizer.json").path)
        return same ? self : RetokenizingScorer(scorer: self, source: tokenizer, target: try Tokenizer(directory: rewardDirectory))
    }
}

/// PPO iterations as steps of the shared loop: the next `batchSize` prompts (cycling), one greedy sample logged to
/// samples.jsonl per iteration so a person can watch the policy change, and the stop rules.
final class PPOIterations: SteppedTraining {
    let trainer: PPOTrainer
    let prompts: [String]
    let queries: [[Int]]
    let tokenizer: Tokenizer
    /// samples.jsonl; nil on the ranks of a data-parallel job other than 0.
    let samples: URL?

    init(trainer: PPOTrainer, prompts: [String], queries: [[Int]], tokenizer: Tokenizer, samples: URL?) {
        (self.trainer, self.prompts, self.queries, self.tokenizer, self.samples) = (trainer, prompts, queries, tokenizer, samples)
    }

    var name: String { "ppo" }
    var splitsAcrossRanks: Bool { true }
    var config: PPOConfig { trainer.config }

    func step(_ index: Int) throws -> [String: Double] {
        let start = (index * config.batchSize) % queries.count
        let rows = (0..<config.batchSize).map { (start + $0) % queries.count }
        let metrics = try trainer.step(queries: rows.map { queries[$0] })
        if let samples { try appendSample(iteration: index + 1, row: rows[0], to: samples) }
        return metrics
    }

    func stopReason(after metrics: [String: Double]) -> String? {
        if let target = config.targetReward, let score = metrics["objective/scores"], score >= target {
            return "mean score \(score) reached target_reward \(target)"
        }
        if let budget = config.klBudget, let kl = metrics["objective/kl"], kl > budget {
            return "KL \(kl) exceeded kl_budget \(budget)"
        }
        return nil
    }

    func saveCheckpoint(to directory: URL) throws { try trainer.save(to: directory) }

    func restoreCheckpoint(from directory: URL) throws {
        try trainer.restore(from: directory)
        if let samples { try JSONLines.truncate(samples, after: trainer.iteration, key: "iteration") }
    }

    private func appendSample(iteration: Int, row: Int, to samples: URL) throws {
        let response = try trainer.policy.generate([queries[row]], options: .init(
            maxNewTokens: config.maxNewTokens, sampling: .greedy, stopTokenIDs: trainer.stopTokenIDs))[0]
        let score = try trainer.scorer.scores(queries: [queries[row]], responses: [response])[0]
        struct Sample: Encodable { let iteration: Int, prompt: String, completion: String, score: Float }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]  // the same bytes in every run
        try JSONLines.appendLine(try encoder.encode(Sample(iteration: iteration, prompt: prompts[row],
                                                           completion: tokenizer.decode(response, skipSpecialTokens: true), score: score)),
                                 to: samples)
    }
}
