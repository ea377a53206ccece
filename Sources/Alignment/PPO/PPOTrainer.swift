import Data
import Distributed
import Foundation
import Models
import NN
import Tensor
import Tokenizer

/// What scores a finished response: a reward model, or any rule (tests, rubric-based demos).
public protocol ResponseScorer {
    /// One score per (query, response) pair; responses end with their EOS token when they have one.
    func scores(queries: [[Int]], responses: [[Int]]) throws -> [Float]
}

extension RewardModel: ResponseScorer {
    public func scores(queries: [[Int]], responses: [[Int]]) throws -> [Float] {
        try rewards(of: zip(queries, responses).map { TokenizedExample(ids: $0 + $1, labels: $0 + $1) }, padID: padTokenID ?? 0)
    }
}

/// Step 3 of RLHF: PPO iterations as TRL's PPOTrainer runs them — sample responses, score them, per-token
/// rewards with a KL penalty against the frozen reference, GAE with the critic's values, then several epochs
/// of clipped policy and value updates over shuffled minibatches.
public final class PPOTrainer {
    public let policy: any LanguageModel
    /// LoRA mode: the adapters trained on the frozen base that `policy` and the reference share.
    public let adapters: LoRAAdapters?
    public let reference: ReferencePolicy
    public let critic: any Critic
    public let scorer: any ResponseScorer
    /// The settings used: PPO's hyperparameters, sampling, epochs, learning rate, seed.
    public let config: PPOConfig
    public let stopTokenIDs: Set<Int>
    public let padID: Int
    public private(set) var klController: KLController
    /// One optimizer over policy and critic, as TRL's PolicyAndValueWrapper.
    private let update: OptimizerStep
    private let named: [(name: String, parameter: Parameter)]
    /// Iterations completed (rollout seeds and minibatch shuffles derive from it, so a resumed run repeats
    /// exactly what an uninterrupted one would do).
    public private(set) var iteration = 0
    /// The ranks of a data-parallel job: each samples and scores its share of the prompts, and trains on its share of
    /// every mini-batch.
    public let communicator: any Communicator

    /// `adapters` (LoRA mode) are attached to `policy`, whose base they froze; the reference then usually shares
    /// that base (`ReferencePolicy(sharingBaseOf:adapters:)`). Adapter dropout is switched off: PPO's ratios
    /// compare one network at two times (TRL turns dropout off too).
    public init(policy: any LanguageModel, adapters: LoRAAdapters? = nil, reference: ReferencePolicy, critic: any Critic,
                scorer: any ResponseScorer, config: PPOConfig, stopTokenIDs: Set<Int>, padID: Int,
                communicator: any Communicator = SingleProcess()) throws {
        (self.policy, self.adapters, self.reference, self.critic, self.scorer) = (policy, adapters, reference, critic, scorer)
        (self.config, self.stopTokenIDs, self.padID, self.communicator) = (config, stopTokenIDs, padID, communicator)
        adapters?.isTraining = false
        klController = try config.ppo.makeKLController()
        named = Alignment.trainableParameters(of: policy, adapters: adapters).map { ("policy.\($0.name)", $0.parameter) }
            + Alignment.trainableParameters(of: critic, adapters: nil).map { ("critic.\($0.name)", $0.parameter) }
        update = OptimizerStep(optimizer: AdamW(parameters: named.map(\.parameter), learningRate: config.learningRate, weightDecay: 0),
                               peakLearningRate: config.learningRate, maxGradNorm: config.maxGradNorm, communicator: communicator)
        let smallest = min(config.batchSize, Self.miniBatches(of: config.batchSize, count: config.miniBatches).map(\.count).min()!)
        guard smallest >= communicator.size else {
            throw JobError("data-parallel PPO: a mini-batch of \(smallest) rollouts cannot be split over \(communicator.size) ranks; "
                           + "raise batch_size or lower mini_batches")
        }
    }

    /// The positions (in an epoch's shuffled order) of each of `count` mini-batches of a `batch`-row rollout.
    static func miniBatches(of batch: Int, count: Int) -> [Range<Int>] {
        let per = max(1, (batch + count - 1) / count)
        return stride(from: 0, to: batch, by: per).map { $0..<min(batch, $0 + per) }
    }

    /// One PPO iteration on `queries` (token ids); returns TRL-named metrics.
    public func step(queries: [[Int]]) throws -> [String: Double] {
        let hyper = config.ppo
        // A rank samples and scores its own rows (each with the seed one process gives that row), then every rank
        // assembles the whole rollout, so rewards, whitening and KL control see the whole batch everywhere.
        let shard = communicator.shard
        let mine = shard.rows(of: queries.count)
        var sampling = SamplingOptions(temperature: config.temperature, seed: config.seed &+ UInt64(iteration) &* 1_000_003 &+ UInt64(mine.lowerBound))
        sampling.topK = 0
        let responses = try communicator.gather(try policy.generate(Array(queries[mine]), options: .init(
            maxNewTokens: config.maxNewTokens, sampling: sampling, stopTokenIDs: stopTokenIDs, padTokenID: padID)), at: mine, count: queries.count)
        let rollout = RolloutBatch(queries: queries, responses: responses, padID: padID)
        let padding = try ResponsePadding(responseMask: rollout.responseMask, responseLength: rollout.responseLength)
        let own = communicator.size > 1 ? layout(Array(mine), like: rollout) : rollout
        let (logprobs, refLogprobs, values) = try withNoGrad {
            let states = try policy.responseHiddenStates(own)
            return (try communicator.gather(try policy.responseLogProbabilities(states: states, own, temperature: config.temperature), at: mine, count: queries.count),
                    try communicator.gather(try reference.responseLogProbabilities(own, temperature: config.temperature), at: mine, count: queries.count),
                    try communicator.gather(try critic.responseValues(own, policyStates: states), at: mine, count: queries.count))
        }
        let scores = try communicator.gather(try scorer.scores(queries: Array(queries[mine]), responses: Array(responses[mine])),
                                             at: mine, count: queries.count)
        let containsEOS = responses.map { $0.contains { stopTokenIDs.contains($0) } }
        let rewards = try PPOMath.rewards(logprobs: logprobs, refLogprobs: refLogprobs, scores: scores, containsEOS: containsEOS,
                                          padding: padding, klCoefficient: Float(klController.value), hyperparameters: hyper)
        let advantages = try PPOMath.advantages(rewards: rewards.rewards, values: values, padding: padding, hyperparameters: hyper)

        var statistics = PPOStatsLog()
        var generator = SeededGenerator(seed: config.seed &+ UInt64(iteration))
        let size = queries.count
        for _ in 0..<config.ppoEpochs {
            var order = Array(0..<size)
            order.shuffle(using: &generator)
            for positions in Self.miniBatches(of: size, count: config.miniBatches) {
                let rows = Array(order[positions])
                let mine = shard.part(of: rows)
                let whole = communicator.size > 1 ? try ResponsePadding(lengths: rows.map { padding.lengths[$0] }, responseLength: padding.responseLength) : nil
                try update.update(step: iteration) { _ in
                    let (loss, stats) = try miniBatchLoss(layout(mine, like: rollout), rows: mine, rewards: rewards, advantages: advantages,
                                                          normalizedOver: whole)
                    statistics.append(stats)
                    return loss
                }
            }
        }
        if communicator.size > 1 { statistics = try statistics.summed(over: communicator) }
        var metrics = rewards.metrics.merging(statistics.metrics) { a, _ in a }
        let meanKL = metrics["objective/kl"] ?? 0
        klController.update(currentKL: meanKL, steps: size)
        metrics["objective/kl_coef"] = klController.value
        metrics["val/num_eos_tokens"] = Double(containsEOS.filter { $0 }.count)
        metrics["val/mean_response_length"] = Double(responses.map(\.count).reduce(0, +)) / Double(size)
        iteration += 1
        return metrics
    }

    /// The PPO loss of the rollout's `rows`, laid out as `mini`, under the current policy and critic. The policy's
    /// log-softmax [rows, L, V] goes along as the logits: the entropy statistic is logged every iteration and the
    /// bonus (c2 ≠ 0) trained; the tape keeps that tensor for the backward anyway, and the fused entropy adds only
    /// [rows, L] (or its gradient, with c2 ≠ 0).
    private func miniBatchLoss(_ mini: RolloutBatch, rows: [Int], rewards: PPORewards, advantages: PPOAdvantages,
                               normalizedOver whole: ResponsePadding?) throws -> (loss: Tensor, stats: PPOStats) {
        let pick = { (t: Tensor) throws -> Tensor in try t.rows(rows) }
        let states = try policy.responseHiddenStates(mini)
        let (newLogprobs, logits) = try policy.responseLogProbabilitiesAndLogits(states: states, mini, temperature: config.temperature)
        return try PPOMath.loss(
            newLogprobs: newLogprobs, newValues: try critic.responseValues(mini, policyStates: states), logits: logits,
            oldLogprobs: try pick(rewards.logprobs), oldValues: try pick(advantages.values),
            advantages: try pick(advantages.advantages), returns: try pick(advantages.returns),
            padding: try ResponsePadding(lengths: rows.map { rewards.padding.lengths[$0] },
                                         responseLength: rewards.padding.responseLength),
            normalizedOver: whole, hyperparameters: config.ppo)
    }

    /// The rollout's `rows` laid out as the whole rollout is (its query and response widths).
    private func layout(_ rows: [Int], like rollout: RolloutBatch) -> RolloutBatch {
        RolloutBatch(queries: rows.map { rollout.queries[$0] }, responses: rows.map { rollout.responses[$0] }, padID: padID,
                     queryLength: rollout.queryLength, responseLength: rollout.responseLength)
    }

    // MARK: Checkpoints

    struct State: Codable {
        var iteration: Int
        var klController: KLController
    }

    /// Writes `policy/` (the adapter in LoRA mode, else the model's weights), `critic/`, the optimizer's moments and
    /// `ppo_state.json` (iteration, KL controller) into `directory`.
    public func save(to directory: URL) throws {
        try PolicyCheckpoint.save(policy, adapters: adapters, to: directory.appendingPathComponent("policy"))
        try critic.save(to: directory.appendingPathComponent("critic"))
        try CheckpointStore.saveOptimizer(update.optimizer, named: named, to: directory)
        try JSONEncoder().encode(State(iteration: iteration, klController: klController))
            .write(to: directory.appendingPathComponent("ppo_state.json"), options: .atomic)
    }

    /// Restores what `save` wrote: weights, optimizer moments, KL controller and iteration count.
    public func restore(from directory: URL) throws {
        try PolicyCheckpoint.restore(policy, adapters: adapters, from: directory.appendingPathComponent("policy"))
        try critic.loadWeights(from: directory.appendingPathComponent("critic"))
        try CheckpointStore.restoreOptimizer(update.optimizer, named: named, from: directory)
        let state = try JSONDecoder().decode(State.self, from: Data(contentsOf: directory.appendingPathComponent("ppo_state.json")))
        (iteration, klController) = (state.iteration, state.klController)
    }
}

/// Scores with a model that has its own tokenizer: the ids are decoded with `source` and encoded again with
/// `target` (prompt with its special tokens, response without, as the scorer was trained).
public struct RetokenizingScorer: ResponseScorer {
    public let scorer: any ResponseScorer
    public let source: Tokenizer
    public let target: Tokenizer

    public init(scorer: any ResponseScorer, source: Tokenizer, target: Tokenizer) {
        (self.scorer, self.source, self.target) = (scorer, source, target)
    }

    public func scores(queries: [[Int]], responses: [[Int]]) throws -> [Float] {
        let prompts = queries.map { target.encode(source.decode($0, skipSpecialTokens: true)) }
        let completions = responses.map { target.encode(source.decode($0, skipSpecialTokens: true), addSpecialTokens: false) }
        return try scorer.scores(queries: prompts, responses: completions)
    }
}
