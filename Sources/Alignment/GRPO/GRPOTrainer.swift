import Data
import Foundation
import Models
import NN
import Tensor
import Tokenizer

/// One generation batch as the updates see it: completions, their masks, the log-probabilities kept from sampling
/// time, rewards and advantages.
struct GRPOBatch {
    let queries: [[Int]]
    let rollout: RolloutBatch
    /// [size · responseLength]: the tokens that count in the loss (truncated completions zeroed when masked).
    let mask: [Float]
    let oldLogprobs: Tensor?
    let refLogprobs: Tensor?
    let advantages: [Float]
    let rewardsPerFunction: [[Float?]]
}

/// GRPO and RLOO steps as TRL 1.16 takes them: sample G completions per prompt from the policy, score them, turn the
/// group into a baseline, then `num_iterations` clipped updates, each over the whole batch in `grad_accum`
/// micro-batches. The same engine samples and scores, so sampling-time and training-time log-probabilities agree.
public final class GRPOTrainer {
    public let models: PolicyModels
    /// nil when β = 0: nothing is held for it.
    public let reference: ReferencePolicy?
    public let rewardFunctions: [any RewardFunction]
    public let rewardNames: [String]
    public let config: GRPOConfig
    let tokenizer: Tokenizer
    let update: OptimizerStep
    private let named: [(name: String, parameter: Parameter)]

    public init(models: PolicyModels, reference: ReferencePolicy?, rewardFunctions: [any RewardFunction], config: GRPOConfig,
                tokenizer: Tokenizer) throws {
        (self.models, self.reference, self.rewardFunctions, self.config, self.tokenizer) = (models, reference, rewardFunctions, config, tokenizer)
        rewardNames = RewardSources.uniqueNames(rewardFunctions.map(\.name))
        models.adapters?.isTraining = false  // the ratio compares one network at two times
        named = models.trainableParameters
        let schedule = config.lrSchedule.schedule(warmupSteps: config.warmupSteps, totalSteps: config.steps * config.numIterations)
        update = OptimizerStep(optimizer: AdamW(parameters: named.map(\.parameter), learningRate: config.learningRate, weightDecay: 0),
                               peakLearningRate: config.learningRate, schedule: schedule, maxGradNorm: config.maxGradNorm)
    }

    var policy: any LanguageModel { models.policy }

    /// Samples `numGenerations` completions of each prompt (consecutive rows), seeded by `step`.
    func sample(_ prompts: [GRPOPrompt], step: Int) throws -> (queries: [[Int]], responses: [[Int]]) {
        let queries = prompts.flatMap { Array(repeating: $0.ids, count: config.numGenerations) }
        let sampling = SamplingOptions(temperature: config.temperature, topK: config.topK, topP: config.topP,
                                       seed: config.seed &+ UInt64(step) &* 1_000_003)
        let responses = try policy.generate(queries, options: .init(
            maxNewTokens: config.maxCompletionLength, sampling: sampling, stopTokenIDs: tokenizer.eosTokenIDs, padTokenID: tokenizer.paddingID))
        return (queries, responses)
    }

    /// Every reward function's scores, [completion][function].
    func score(_ prompts: [GRPOPrompt], copies: Int, responses: [[Int]]) throws -> [[Float?]] {
        let inputs = responses.enumerated().map { index, response in
            let prompt = prompts[index / copies]
            return RewardInput(prompt: prompt.text, completion: tokenizer.decode(response, skipSpecialTokens: true),
                               completionIDs: response, promptIDs: prompt.ids, row: prompt.row)
        }
        let columns = try rewardFunctions.map { function in
            let scores = try function.rewards(inputs)
            guard scores.count == inputs.count else {
                throw JobError("reward function \(function.name) gave \(scores.count) scores for \(inputs.count) completions")
            }
            return scores
        }
        return inputs.indices.map { i in columns.map { $0[i] } }
    }

    /// One step on `prompts` (`batch_size / num_generations` of them): sample, score, advantages, `num_iterations`
    /// updates. Returns TRL-named metrics.
    public func step(_ index: Int, prompts: [GRPOPrompt]) throws -> [String: Double] { try stepKeepingBatch(index, prompts: prompts).metrics }

    func stepKeepingBatch(_ index: Int, prompts: [GRPOPrompt]) throws -> (metrics: [String: Double], batch: GRPOBatch) {
        let (queries, responses) = try sample(prompts, step: index)
        let rollout = RolloutBatch(queries: queries, responses: responses, padID: tokenizer.paddingID)
        let truncated = responses.map { $0.last.map { !tokenizer.eosTokenIDs.contains($0) } ?? true }
        var mask = rollout.responseMask
        if config.maskTruncatedCompletions {
            for (row, cut) in truncated.enumerated() where cut {
                for t in 0..<rollout.responseLength { mask[row * rollout.responseLength + t] = 0 }
            }
        }
        let rloo = config.advantage == .rloo
        let (oldLogprobs, refLogprobs) = try withNoGrad {
            (config.numIterations > 1 || rloo ? try policy.responseLogProbabilities(rollout, temperature: config.temperature) : nil,
             try reference?.responseLogProbabilities(rollout, temperature: config.temperature))
        }
        let perFunction = try score(prompts, copies: config.numGenerations, responses: responses)
        let weights = config.rewards.weights
        let combined = GRPOMath.combinedRewards(perFunction, weights: weights)
        let length = rollout.responseLength
        var metrics: [String: Double] = [:]
        let advantages: [Float], stdIsZero: [Bool]
        if rloo {
            var kl: [Double]?
            if let old = oldLogprobs?.scalars, let ref = refLogprobs?.scalars {
                kl = GRPOMath.maskedRowSums(zip(old, ref).map { $0 - $1 }, mask: mask, length: length)
            }
            if let kl { metrics["kl"] = kl.reduce(0, +) / Double(max(mask.reduce(0, +), 1)) }
            (advantages, stdIsZero) = GRPOMath.leaveOneOutAdvantages(rewards: combined, sequenceKL: kl, beta: Double(config.beta),
                                                                     groupSize: config.numGenerations, normalize: config.normalizeAdvantages)
        } else {
            (advantages, stdIsZero) = GRPOMath.groupAdvantages(rewards: combined, groupSize: config.numGenerations, scaling: config.scaleRewards)
        }
        metrics.merge(GRPOMath.rewardMetrics(perFunction: perFunction, names: rewardNames, weights: weights, stdIsZero: stdIsZero)) { a, _ in a }
        let batch = GRPOBatch(queries: queries, rollout: rollout, mask: mask, oldLogprobs: oldLogprobs, refLogprobs: refLogprobs, advantages: advantages,
                              rewardsPerFunction: perFunction)

        var stats: [GRPOStats] = []
        var gradNorm: Float = 0
        for iteration in 0..<config.numIterations {
            gradNorm = try update.update(step: index * config.numIterations + iteration, microBatches: config.gradAccum) { micro in
                let (loss, microStats) = try microBatchLoss(batch, micro: micro)
                stats.append(microStats)
                return loss
            }
        }
        let lengths = responses.map(\.count)
        metrics["completions/mean_length"] = Double(lengths.reduce(0, +)) / Double(lengths.count)
        metrics["completions/min_length"] = Double(lengths.min() ?? 0)
        metrics["completions/max_length"] = Double(lengths.max() ?? 0)
        metrics["completions/clipped_ratio"] = Double(truncated.filter { $0 }.count) / Double(truncated.count)
        metrics["learning_rate"] = Double(update.optimizer.learningRate)
        metrics["grad_norm"] = Double(gradNorm)
        for (key, values) in Dictionary(grouping: stats.flatMap(\.metrics), by: \.key) {
            let finite = values.map(\.value).filter { !$0.isNaN }
            if !finite.isEmpty { metrics[key] = finite.reduce(0, +) / Double(finite.count) }
        }
        return (metrics, batch)
    }

    /// The loss of micro-batch `micro` of `batch` under the current policy.
    private func microBatchLoss(_ batch: GRPOBatch, micro: Int) throws -> (Tensor, GRPOStats) {
        let rollout = batch.rollout, length = rollout.responseLength
        let per = rollout.size / config.gradAccum
        let rows = Array((micro * per)..<((micro + 1) * per))
        let mini = rows.count == rollout.size ? rollout
            : RolloutBatch(queries: rows.map { batch.queries[$0] }, responses: rows.map { rollout.responses[$0] }, padID: tokenizer.paddingID,
                           queryLength: rollout.queryLength, responseLength: length)
        let mask = rows.flatMap { batch.mask[($0 * length)..<(($0 + 1) * length)] }
        let advantages = rows.map { batch.advantages[$0] }
        let (logprobs, logSoftmax) = try policy.responseLogProbabilitiesAndLogits(mini, temperature: config.temperature)
        let entropies = try withNoGrad { try logSoftmax.softmaxEntropy().scalars }
        let pick = { (tensor: Tensor?) throws -> Tensor? in try tensor.map { rows.count == rollout.size ? $0 : try $0.rows(rows) } }
        if config.advantage == .rloo {
            let sums = GRPOMath.maskedRowSums(try pick(batch.oldLogprobs)!.scalars, mask: mask, length: length).map(Float.init)
            // A mean per micro-batch; OptimizerStep averages them, as TRL's Trainer divides RLOO's loss by the accumulation.
            return try GRPOMath.leaveOneOutLoss(logprobs: logprobs, oldSequenceLogprobs: sums, entropies: entropies, advantages: advantages,
                                                mask: mask, epsilonLow: config.epsilon, epsilonHigh: config.epsilonHigh ?? config.epsilon)
        }
        let (loss, stats) = try GRPOMath.loss(
            logprobs: logprobs, oldLogprobs: try pick(batch.oldLogprobs), refLogprobs: try pick(batch.refLogprobs), entropies: entropies,
            advantages: advantages, mask: mask, generationTokens: Int(batch.mask.reduce(0, +)), microBatches: config.gradAccum,
            settings: config.lossSettings)
        // TRL's micro-batch losses already sum to the step's loss; OptimizerStep averages its micro-batches.
        return (loss * Float(config.gradAccum), stats)
    }

    /// One completion of each of `prompts` (greedy, or sampled at `eval_temperature` with the same seed each time),
    /// scored: `eval_reward` and each function's `eval_rewards/<name>/mean`.
    func evaluate(_ prompts: [GRPOPrompt]) throws -> [String: Double] {
        guard !prompts.isEmpty else { return [:] }
        var responses: [[Int]] = []
        for start in stride(from: 0, to: prompts.count, by: 32) {
            let sampling = config.evalTemperature == 0 ? .greedy : SamplingOptions(temperature: config.evalTemperature, seed: config.seed &+ UInt64(start))
            responses += try policy.generate(prompts[start..<min(prompts.count, start + 32)].map(\.ids), options: .init(
                maxNewTokens: config.maxCompletionLength, sampling: sampling, stopTokenIDs: tokenizer.eosTokenIDs, padTokenID: tokenizer.paddingID))
        }
        let perFunction = try score(prompts, copies: 1, responses: responses)
        let metrics = GRPOMath.rewardMetrics(perFunction: perFunction, names: rewardNames, weights: config.rewards.weights, stdIsZero: [])
        return Dictionary(uniqueKeysWithValues: metrics.filter { $0.key == "reward" || $0.key.hasSuffix("/mean") }.map { ("eval_" + $0.key, $0.value) })
    }

    func save(to directory: URL) throws {
        try models.saveCheckpoint(to: directory.appendingPathComponent("policy"))
        try CheckpointStore.saveOptimizer(update.optimizer, named: named, to: directory)
    }

    func restore(from directory: URL) throws {
        try models.restoreCheckpoint(from: directory.appendingPathComponent("policy"))
        try CheckpointStore.restoreOptimizer(update.optimizer, named: named, from: directory)
    }
}

/// GRPO steps as steps of the shared loop: the next prompts (a seeded shuffle per pass over the file), the first
/// group's completions with their rewards and advantages logged to samples.jsonl, held-out evaluation.
final class GRPOSteps: SteppedTraining {
    let trainer: GRPOTrainer
    let prompts: [GRPOPrompt]
    let evalPrompts: [GRPOPrompt]
    let samples: URL

    init(trainer: GRPOTrainer, prompts: [GRPOPrompt], evalPrompts: [GRPOPrompt], samples: URL) {
        (self.trainer, self.prompts, self.evalPrompts, self.samples) = (trainer, prompts, evalPrompts, samples)
    }

    var name: String { trainer.config.advantage == .rloo ? "rloo" : "grpo" }
    var evaluatesBeforeTraining: Bool { !evalPrompts.isEmpty }

    /// The prompts of step `index`: positions in a shuffled order that depends only on the seed and the pass.
    func promptsOfStep(_ index: Int) -> [GRPOPrompt] {
        let perStep = trainer.config.batchSize / trainer.config.numGenerations
        var orders: [Int: [Int]] = [:]  // a step spans at most a few passes
        return (0..<perStep).map { offset in
            let position = index * perStep + offset, pass = position / prompts.count
            if orders[pass] == nil {
                var generator = SeededGenerator(seed: trainer.config.seed &+ UInt64(pass))
                orders[pass] = Array(prompts.indices).shuffled(using: &generator)
            }
            return prompts[orders[pass]![position % prompts.count]]
        }
    }

    func step(_ index: Int) throws -> [String: Double] {
        let started = DispatchTime.now().uptimeNanoseconds
        let stepPrompts = promptsOfStep(index)
        var (metrics, batch) = try trainer.stepKeepingBatch(index, prompts: stepPrompts)
        metrics["step_seconds"] = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
        try appendSamples(step: index + 1, prompt: stepPrompts[0], batch: batch)
        return metrics
    }

    func evaluate() throws -> [String: Double] { try trainer.evaluate(evalPrompts) }

    func saveCheckpoint(to directory: URL) throws { try trainer.save(to: directory) }

    func restoreCheckpoint(from directory: URL) throws {
        try trainer.restore(from: directory)
        try JSONLines.truncate(samples, after: try TrainerState.read(from: directory).step, key: "step")
    }

    private func appendSamples(step: Int, prompt: GRPOPrompt, batch: GRPOBatch) throws {
        struct Sample: Encodable { let step: Int, prompt: String, completion: String, rewards: [String: Float?], advantage: Float }
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]  // the same bytes in every run
        for row in 0..<trainer.config.numGenerations {
            let rewards = Dictionary(uniqueKeysWithValues: zip(trainer.rewardNames, batch.rewardsPerFunction[row]))
            try JSONLines.appendLine(try encoder.encode(Sample(
                step: step, prompt: prompt.text, completion: trainer.tokenizer.decode(batch.rollout.responses[row], skipSpecialTokens: true),
                rewards: rewards, advantage: batch.advantages[row])), to: samples)
        }
    }
}
