import Data
import Foundation
import Models
import Tensor
import Tokenizer

/// Critic-free online RL, as `rlhf grpo` runs it: each step samples `num_generations` completions for each of
/// `batch_size / num_generations` prompts, scores them with the reward sources, and takes `num_iterations` clipped
/// policy-gradient updates with the group as the baseline (GRPO) or the group's other completions (RLOO).
/// Defaults follow TRL 1.16's GRPOConfig; RLOO is `advantage: rloo` (TRL's RLOOTrainer defaults to β 0.05 and
/// 2 generations instead).
public struct GRPOConfig: RunConfiguration {
    public static let command = "grpo"
    /// The learning-rate schedule is laid out over `steps`; the rest may change on resume.
    public static var resumeInsensitiveKeys: Set<String> { ["save_every", "eval_every", "eval_prompts", "eval_temperature", "reward_cmd_timeout"] }

    /// The starting policy, typically the SFT model.
    public var policy = ""
    /// A LoRA adapter of `policy` to train further.
    public var adapter: String? = nil
    /// Prompts (JSONL {"prompt", ...}); every other column reaches the reward functions (e.g. `answers`).
    public var prompts = ""
    /// The policy (a Hugging Face directory), metrics.jsonl, samples.jsonl and checkpoints go here.
    public var out = ""
    /// Held-out prompts answered before training, every `eval_every` steps and at the end, scored by the same
    /// reward functions (`eval_reward`, `eval_rewards/<name>/mean`).
    public var evalPrompts: String? = nil
    public var evalEvery = 0
    /// 0 answers the held-out prompts greedily; otherwise one sampled answer each, with the same seed every time.
    public var evalTemperature: Float = 0
    /// Wrap prompts as user messages in the chat template.
    public var chat = false
    public var rewards = RewardSources()
    /// Generation batches to train on (each followed by `num_iterations` optimizer steps).
    public var steps = 100
    /// Completions per step (TRL's per_device_train_batch_size); a multiple of `num_generations`.
    public var batchSize = 8
    /// Completions per prompt, G.
    public var numGenerations = 8
    /// Micro-batches per optimizer step (gradients summed), to bound memory; divides `batch_size`.
    public var gradAccum = 1
    public var learningRate: Float = 1e-6
    public var lrSchedule = TrainingConfig.ScheduleKind.linear
    public var warmupSteps = 0
    /// Global gradient-norm clip; 0 turns it off.
    public var maxGradNorm: Float = 1
    /// The longest completion.
    public var maxCompletionLength = 512
    public var temperature: Float = 1
    /// 0 keeps every token.
    public var topK = 0
    public var topP: Float = 1
    public var seed: UInt64 = 42
    /// The k3 KL penalty's weight (GRPO) or the k1 penalty on the reward (RLOO); 0 keeps no reference in memory.
    public var beta: Float = 0
    /// The ratio is clipped to [1 − epsilon, 1 + epsilon_high].
    public var epsilon: Float = 0.2
    /// nil: `epsilon` (DAPO's clip-higher uses 0.28).
    public var epsilonHigh: Float? = nil
    public var lossType = GRPOLossType.dapo
    public var scaleRewards = RewardScaling.group
    public var advantage = AdvantageEstimator.grpo
    /// RLOO: normalise the advantages over the batch.
    public var normalizeAdvantages = false
    /// μ: optimizer steps on each generation batch (1: the ratio is exactly 1 and no sampling-time log-probs are kept).
    public var numIterations = 1
    /// Completions cut off at `max_completion_length` count for nothing in the loss.
    public var maskTruncatedCompletions = false
    /// Checkpoint every this many steps (0 = only the final model).
    public var saveEvery = 0
    public var lora = LoRAConfig()
    public var logging = LoggingConfig()

    enum CodingKeys: String, CodingKey {
        case policy, adapter, prompts, out, evalPrompts, evalEvery, evalTemperature, chat, rewards, steps, batchSize, numGenerations, gradAccum,
             learningRate = "lr", lrSchedule, warmupSteps, maxGradNorm, maxCompletionLength, temperature, topK, topP, seed, beta,
             epsilon, epsilonHigh, lossType, scaleRewards, advantage, normalizeAdvantages, numIterations, maskTruncatedCompletions,
             saveEvery, lora, logging
    }

    public init() {}

    public var inputs: [String] { [policy] + [adapter, rewards.rewardClassifier].compactMap { $0 } + rewards.reward }

    public func validate() throws {
        for (value, key) in [(policy, "policy"), (prompts, "prompts"), (out, "out")] { try Check.required(value, key) }
        for (value, key) in [(steps, "steps"), (batchSize, "batch_size"), (numGenerations, "num_generations"), (gradAccum, "grad_accum"),
                             (maxCompletionLength, "max_completion_length"), (numIterations, "num_iterations")] {
            try Check.positive(value, key)
        }
        if numGenerations < 2 { throw JobError("num_generations must be at least 2: the group is the baseline") }
        if batchSize % numGenerations != 0 { throw JobError("batch_size (\(batchSize)) must be a multiple of num_generations (\(numGenerations))") }
        if batchSize % gradAccum != 0 { throw JobError("grad_accum (\(gradAccum)) must divide batch_size (\(batchSize))") }
        try Check.learningRate(learningRate)
        try Check.positive(temperature, "temperature")
        try Check.nonNegative(evalTemperature, "eval_temperature")
        try Check.nonNegative(topK, "top_k")
        if !(topP > 0 && topP <= 1) { throw JobError("top_p must be in (0, 1] (got \(topP))") }
        for (value, key) in [(maxGradNorm, "max_grad_norm"), (beta, "beta"), (epsilon, "epsilon")] { try Check.nonNegative(value, key) }
        if let epsilonHigh { try Check.nonNegative(epsilonHigh, "epsilon_high") }
        for (value, key) in [(evalEvery, "eval_every"), (saveEvery, "save_every"), (warmupSteps, "warmup_steps")] { try Check.nonNegative(value, key) }
        if advantage == .rloo, lossType != GRPOConfig().lossType || scaleRewards != GRPOConfig().scaleRewards {
            throw JobError("loss_type and scale_rewards are GRPO's; RLOO's loss is per sequence (leave them at their defaults)")
        }
        try rewards.validate()
        try lora.validate()
    }

    var lossSettings: GRPOLossSettings {
        GRPOLossSettings(lossType: lossType, epsilonLow: epsilon, epsilonHigh: epsilonHigh ?? epsilon, beta: beta, maxCompletionLength: maxCompletionLength)
    }

    /// Trains the policy and writes it (adapters merged; in LoRA mode also unmerged in `out/adapter`).
    public func run(_ control: RunControl = .init()) throws -> RunResult {
        let session = try RunSession(self, control)
        let policyDirectory = try ModelDirectory.locate(policy)
        let tokenizer = try Tokenizer(directory: policyDirectory)
        let promptRows = try GRPOPrompt.load(prompts, tokenizer: tokenizer, chat: chat)
        let evalRows = try evalPrompts.map { try GRPOPrompt.load($0, tokenizer: tokenizer, chat: chat) } ?? []
        let functions = try rewards.load(policyTokenizer: tokenizer) { directory in
            let model = try ModelDirectory.loadRewardModel(directory)
            model.setTrainable(false)
            return try model.scorer(for: tokenizer, policyDirectory: policyDirectory, rewardDirectory: directory)
        }
        let models = try PolicyModels.load(model: policy, adapter: adapter, lora: lora, seed: seed)
        let trainer = try GRPOTrainer(models: models, reference: beta != 0 ? try models.makeReference() : nil, rewardFunctions: functions,
                                      config: self, tokenizer: tokenizer)
        let steps = GRPOSteps(trainer: trainer, prompts: promptRows, evalPrompts: evalRows,
                              samples: URL(fileURLWithPath: out).appendingPathComponent("samples.jsonl"))
        if session.checkpoint == nil {
            try? FileManager.default.removeItem(at: steps.samples)  // nothing an earlier attempt logged stays
        }
        return try session.train(steps, totalSteps: self.steps, saveEvery: saveEvery, evalEvery: evalEvery) { out in
            try models.saveFinal(to: out)
        }
    }
}

/// A prompt row: its text, its token ids and every column, for the reward functions.
public struct GRPOPrompt {
    public let text: String
    public let ids: [Int]
    public let row: [String: Any]

    public init(text: String, ids: [Int], row: [String: Any]) { (self.text, self.ids, self.row) = (text, ids, row) }

    static func load(_ path: String, tokenizer: Tokenizer, chat: Bool) throws -> [GRPOPrompt] {
        try JSONLines.records(URL(fileURLWithPath: path)).map { record in
            let text = try record.string("prompt")
            return GRPOPrompt(text: text, ids: try tokenizer.encodePrompt(text, chat: chat), row: record.object)
        }
    }
}
