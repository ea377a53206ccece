import Data
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
    public struct Options: Sendable {
        public var hyperparameters = PPOHyperparameters()
        public var maxNewTokens = 32
        public var temperature: Float = 1
        public var ppoEpochs = 4
        public var miniBatches = 1
        public var learningRate: Float = 3e-6
        public var maxGradNorm: Float = 1
        public var seed: UInt64 = 0
        public init() {}
    }

    public let policy: any CausalLanguageModel
    /// A frozen copy of the starting policy; nil in LoRA mode, where the reference is `policy` with its adapters off.
    public let reference: (any CausalLanguageModel)?
    /// LoRA mode: the adapters trained on the frozen base that `policy` and the reference share.
    public let adapters: LoRAAdapters?
    /// LoRA mode from a trained adapter: its starting weights, a frozen copy the reference runs with. Nil when the
    /// adapters start at zero (B = 0), where the reference is the base alone.
    private let referenceAdapterWeights: [Tensor]?
    public let critic: RewardModel
    public let scorer: any ResponseScorer
    public let options: Options
    public let stopTokenIDs: Set<Int>
    public let padID: Int
    public private(set) var klController: KLController
    private let policyOptimizer: any Optimizer
    private let criticOptimizer: any Optimizer
    /// Iterations completed (rollout seeds and minibatch shuffles derive from it, so a resumed run repeats
    /// exactly what an uninterrupted one would do).
    public private(set) var iteration = 0

    /// Full mode: `reference` is a separate frozen copy. LoRA mode: pass `adapters` attached to `policy` (which froze
    /// its base) and no reference; one model is held, and the reference is the base without the adapters, or
    /// with a frozen copy of them when they start trained (e.g. from `rlhf sft --lora-rank`). Adapter dropout is
    /// switched off: PPO's ratios compare one network at two times (TRL turns dropout off too).
    public init(policy: any CausalLanguageModel, reference: (any CausalLanguageModel)?, adapters: LoRAAdapters? = nil,
                critic: RewardModel, scorer: any ResponseScorer, options: Options, stopTokenIDs: Set<Int>, padID: Int) throws {
        guard (reference == nil) != (adapters == nil) else {
            throw ModelError.generation("PPO needs either a separate reference model or LoRA adapters on the policy")
        }
        (self.policy, self.reference, self.adapters, self.critic, self.scorer) = (policy, reference, adapters, critic, scorer)
        (self.options, self.stopTokenIDs, self.padID) = (options, stopTokenIDs, padID)
        reference?.setTrainable(false)
        adapters?.isTraining = false
        if let adapters, adapters.layers.contains(where: { $0.adapter.b.value.scalars.contains { $0 != 0 } }) {
            // Copied: the optimizer updates parameter storage in place.
            referenceAdapterWeights = try adapters.namedParameters.map { try Tensor(shape: $0.parameter.value.shape, scalars: $0.parameter.value.scalars) }
        } else {
            referenceAdapterWeights = nil
        }
        klController = try options.hyperparameters.makeKLController()
        policyOptimizer = AdamW(parameters: policy.parameters.filter(\.isTrainable) + (adapters?.parameters ?? []),
                                learningRate: options.learningRate, weightDecay: 0)
        criticOptimizer = AdamW(parameters: critic.parameters.filter(\.isTrainable), learningRate: options.learningRate, weightDecay: 0)
    }

    /// One PPO iteration on `queries` (token ids); returns TRL-named metrics.
    public func step(queries: [[Int]]) throws -> [String: Double] {
        let hyper = options.hyperparameters
        var sampling = SamplingOptions(temperature: options.temperature, seed: options.seed &+ UInt64(iteration) &* 1_000_003)
        sampling.topK = 0
        let responses = try TextGenerator(model: policy).generate(queries, options: .init(
            maxNewTokens: options.maxNewTokens, sampling: sampling, stopTokenIDs: stopTokenIDs, padTokenID: padID))
        let rollout = RolloutBatch(queries: queries, responses: responses, padID: padID)
        let padding = try ResponsePadding(responseMask: rollout.responseMask, responseLength: rollout.responseLength)
        let (logprobs, refLogprobs, values) = try withNoGrad {
            (try policy.responseLogProbabilities(rollout, temperature: options.temperature),
             try referenceLogProbabilities(rollout),
             try critic.responseValues(rollout))
        }
        let scores = try scorer.scores(queries: queries, responses: responses)
        let containsEOS = responses.map { $0.contains { stopTokenIDs.contains($0) } }
        let rewards = try PPOMath.rewards(logprobs: logprobs, refLogprobs: refLogprobs, scores: scores, containsEOS: containsEOS,
                                          padding: padding, klCoefficient: Float(klController.value), hyperparameters: hyper)
        let advantages = try PPOMath.advantages(rewards: rewards.rewards, values: values, padding: padding, hyperparameters: hyper)

        var statistics = PPOStatsLog()
        var generator = SeededGenerator(seed: options.seed &+ UInt64(iteration))
        let size = queries.count, per = max(1, (queries.count + options.miniBatches - 1) / options.miniBatches)
        for _ in 0..<options.ppoEpochs {
            var order = Array(0..<size)
            order.shuffle(using: &generator)
            for start in stride(from: 0, to: size, by: per) {
                let rows = Array(order[start..<min(size, start + per)])
                let mini = RolloutBatch(queries: rows.map { queries[$0] }, responses: rows.map { responses[$0] }, padID: padID,
                                        queryLength: rollout.queryLength, responseLength: rollout.responseLength)
                let (loss, stats) = try miniBatchLoss(mini, rows: rows, rewards: rewards, advantages: advantages)
                policyOptimizer.zeroGrad()
                criticOptimizer.zeroGrad()
                try loss.backward()
                if options.maxGradNorm > 0 {
                    clipGradientNorm(policyOptimizer.parameters, maxNorm: options.maxGradNorm)
                    clipGradientNorm(criticOptimizer.parameters, maxNorm: options.maxGradNorm)
                }
                try policyOptimizer.step()
                try criticOptimizer.step()
                statistics.append(stats)
            }
        }
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
    private func miniBatchLoss(_ mini: RolloutBatch, rows: [Int], rewards: PPORewards,
                               advantages: PPOAdvantages) throws -> (loss: Tensor, stats: PPOStats) {
        let pick = { (t: Tensor) throws -> Tensor in try Self.rows(t, rows) }
        let (newLogprobs, logits) = try policy.responseLogProbabilitiesAndLogits(mini, temperature: options.temperature)
        return try PPOMath.loss(
            newLogprobs: newLogprobs, newValues: try critic.responseValues(mini), logits: logits,
            oldLogprobs: try pick(rewards.logprobs), oldValues: try pick(advantages.values),
            advantages: try pick(advantages.advantages), returns: try pick(advantages.returns),
            padding: try ResponsePadding(lengths: rows.map { rewards.padding.lengths[$0] },
                                         responseLength: rewards.padding.responseLength),
            hyperparameters: options.hyperparameters)
    }

    /// log π_ref of the rollout's response tokens: the frozen reference model, or in LoRA mode the shared base
    /// with the adapters off (or at their starting weights).
    public func referenceLogProbabilities(_ rollout: RolloutBatch) throws -> Tensor {
        if let reference { return try reference.responseLogProbabilities(rollout, temperature: options.temperature) }
        let logProbabilities = { try self.policy.responseLogProbabilities(rollout, temperature: self.options.temperature) }
        if let referenceAdapterWeights { return try adapters!.withWeights(referenceAdapterWeights, logProbabilities) }
        return try adapters!.withAdaptersDisabled(logProbabilities)
    }

    /// The policy's trainable parameters under checkpoint names (the adapters' in LoRA mode).
    private var namedPolicyParameters: [(name: String, parameter: Parameter)] {
        (adapters?.namedParameters ?? policy.namedParameters).map { ("policy.\($0.name)", $0.parameter) }
    }

    // MARK: Checkpoints

    struct State: Codable {
        var iteration: Int
        var klController: KLController
    }

    /// Writes `policy/` and `critic/` (model weights), `optimizers.safetensors` and `ppo_state.json` into
    /// `directory`, which the caller makes atomic (e.g. through `CheckpointStore`-style renaming).
    public func save(to directory: URL, policyFiles: (URL) throws -> Void, criticFiles: (URL) throws -> Void) throws {
        try policyFiles(directory.appendingPathComponent("policy"))
        try criticFiles(directory.appendingPathComponent("critic"))
        let state = policyOptimizer.stateTensors(namedPolicyParameters)
            + criticOptimizer.stateTensors(critic.namedParameters.map { ("critic.\($0.name)", $0.parameter) })
        try Safetensors.write(state, to: directory.appendingPathComponent("optimizers.safetensors"))
        try JSONEncoder().encode(State(iteration: iteration, klController: klController))
            .write(to: directory.appendingPathComponent("ppo_state.json"), options: .atomic)
    }

    /// Restores what `save` wrote: weights, optimizer moments, KL controller and iteration count.
    public func restore(from directory: URL) throws {
        if let adapters {
            try PEFTAdapter.loadWeights(into: adapters, from: directory.appendingPathComponent("policy"))
        } else {
            try ModelDirectory.loadWeights(into: policy, from: directory.appendingPathComponent("policy"))
        }
        try ModelDirectory.loadWeights(into: critic, from: directory.appendingPathComponent("critic"))
        let file = try SafetensorsFile(contentsOf: directory.appendingPathComponent("optimizers.safetensors"))
        var tensors: [String: Tensor] = [:]
        for name in file.names { tensors[name] = try file.tensor(name) }
        try policyOptimizer.restoreState(tensors, namedPolicyParameters)
        try criticOptimizer.restoreState(tensors, critic.namedParameters.map { ("critic.\($0.name)", $0.parameter) })
        let state = try JSONDecoder().decode(State.self, from: Data(contentsOf: directory.appendingPathComponent("ppo_state.json")))
        (iteration, klController) = (state.iteration, state.klController)
    }

    /// The given rows of a [batch, L] tensor.
    static func rows(_ tensor: Tensor, _ rows: [Int]) throws -> Tensor {
        try Tensor.embedding(tensor.detached(), ids: rows, shape: [rows.count])
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
