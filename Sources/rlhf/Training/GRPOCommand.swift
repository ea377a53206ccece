import Alignment
import ArgumentParser
import Foundation

extension GRPOLossType: ExpressibleByArgument {}
extension RewardScaling: ExpressibleByArgument {}
extension AdvantageEstimator: ExpressibleByArgument {}

struct GRPOCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grpo",
        abstract: "Online RL without a critic: GRPO or RLOO against reward models, built-in rules or any program.",
        discussion: """
            Each step samples --num-generations completions for each of --batch-size / --num-generations prompts, \
            scores them with every reward source (weighted by --reward-weights, in the order --reward, --reward-classifier, \
            --reward-fn, --reward-cmd), uses the group as the baseline (--advantage grpo: group-normalised; rloo: leave-one-out) and \
            takes --num-iterations clipped updates. Reward sources: --reward DIR (a reward model), --reward-fn contains \
            (share of the prompt row's "answers" stated in the completion), regex:PATTERN (1 if it matches), length:N \
            (closeness to N tokens), and --reward-cmd CMD (started once; reads one JSON object per completion on stdin \
            — prompt, completion and every other column of the prompt's row — and prints one number per line, or \
            null). Writes the policy to --out, metrics.jsonl (TRL's names), samples.jsonl, TensorBoard events and \
            checkpoint-N/ every --save-every steps (--resume continues from the newest). Defaults follow TRL 1.16's \
            GRPOConfig. The library call is GRPOConfig.run.
            """)

    private static let defaults = GRPOConfig()

    @Option(help: "Starting policy (typically the SFT model; directory or Hub id).") var policy: String?
    @Option(help: "Start from this LoRA adapter of --policy and train it further.") var adapter: String?
    @Option(help: "Prompts (JSONL {\"prompt\", ...}; every other column reaches the reward functions).") var prompts: String?
    @Option(help: "Output directory.") var out: String?
    @Option(help: "Reward model, directory or Hub id (repeatable).") var reward: [String] = []
    @OptionGroup var classifierReward: ClassifierRewardFlags
    @Option(help: "Built-in reward: contains, regex:PATTERN or length:N (repeatable).") var rewardFn: [String] = []
    @Option(help: "External reward program, run by /bin/sh (repeatable).") var rewardCmd: [String] = []
    @Option(parsing: .upToNextOption, help: "One weight per reward source, in the order --reward, --reward-classifier, --reward-fn, --reward-cmd (default: all 1).")
    var rewardWeights: [Float] = []
    @Option(help: help("Seconds a --reward-cmd program may take to answer one batch.", default: defaults.rewards.rewardCmdTimeout))
    var rewardCmdTimeout: Double?
    @Option(help: "Held-out prompts answered before training, every --eval-every steps and at the end, scored by the same rewards.")
    var evalPrompts: String?
    @Option(help: help("Temperature of the held-out answers (0 = greedy; otherwise one sample each, the same seed every time).", default: defaults.evalTemperature))
    var evalTemperature: Float?
    @Option(help: help("Evaluate every N steps (0 = before training and at the end).", default: defaults.evalEvery)) var evalEvery: Int?
    @Flag(inversion: .prefixedNo, help: help("Wrap prompts as user messages in the chat template.", default: defaults.chat)) var chat: Bool?
    @Option(help: help("Generation batches to train on.", default: defaults.steps)) var steps: Int?
    @Option(help: help("Completions per step (a multiple of --num-generations).", default: defaults.batchSize)) var batchSize: Int?
    @Option(help: help("Completions per prompt, G.", default: defaults.numGenerations)) var numGenerations: Int?
    @Option(help: help("Micro-batches per optimizer step (bounds memory).", default: defaults.gradAccum)) var gradAccum: Int?
    @Option(help: help("Peak learning rate.", default: defaults.learningRate)) var lr: Float?
    @Option(help: help("Learning-rate schedule: constant, cosine or linear (decay to 0).", default: defaults.lrSchedule)) var lrSchedule: TrainingConfig.ScheduleKind?
    @Option(help: help("Steps of linear warm-up from 0.", default: defaults.warmupSteps)) var warmupSteps: Int?
    @Option(help: help("Global gradient-norm clip (0 = off).", default: defaults.maxGradNorm)) var maxGradNorm: Float?
    @Option(help: help("Longest completion.", default: defaults.maxCompletionLength)) var maxCompletionLength: Int?
    @Option(help: help("Sampling temperature (logits are divided by it when scoring too).", default: defaults.temperature)) var temperature: Float?
    @Option(help: help("Sample from the K most likely tokens (0 = all).", default: defaults.topK)) var topK: Int?
    @Option(help: help("Nucleus sampling threshold.", default: defaults.topP)) var topP: Float?
    @Option(help: help("Random seed.", default: defaults.seed)) var seed: UInt64?
    @Option(help: help("KL weight β (0 = no reference model in memory).", default: defaults.beta)) var beta: Float?
    @Option(help: help("Lower clip ε: the ratio is clipped to [1 − ε, 1 + ε_high].", default: defaults.epsilon)) var epsilon: Float?
    @Option(help: "Upper clip ε_high (default: --epsilon; DAPO uses 0.28).") var epsilonHigh: Float?
    @Option(help: help("Loss aggregation: grpo, bnpo, dr_grpo or dapo.", default: defaults.lossType)) var lossType: GRPOLossType?
    @Option(help: help("Reward scaling: group, batch or none.", default: defaults.scaleRewards)) var scaleRewards: RewardScaling?
    @Option(help: help("Baseline: grpo (group mean) or rloo (leave-one-out, sequence-level ratio, KL in the reward).", default: defaults.advantage))
    var advantage: AdvantageEstimator?
    @Flag(inversion: .prefixedNo, help: help("RLOO: normalise advantages over the batch.", default: defaults.normalizeAdvantages)) var normalizeAdvantages: Bool?
    @Option(help: help("Updates per generation batch, μ.", default: defaults.numIterations)) var numIterations: Int?
    @Flag(inversion: .prefixedNo, help: help("Give completions cut off at --max-completion-length no weight in the loss.", default: defaults.maskTruncatedCompletions))
    var maskTruncatedCompletions: Bool?
    @Option(help: help("Checkpoint every N steps (0 = only the final model).", default: defaults.saveEvery)) var saveEvery: Int?
    @OptionGroup var lora: LoRAFlags
    @OptionGroup var logging: LoggingFlags
    @OptionGroup var job: RunFlags

    func run() throws {
        let config: GRPOConfig = try job.configuration { config in
            set(&config.policy, policy)
            set(&config.adapter, adapter)
            set(&config.prompts, prompts)
            set(&config.out, out)
            if !reward.isEmpty { config.rewards.reward = reward }
            set(&config.rewards.rewardClassifier, classifierReward.rewardClassifier)
            set(&config.rewards.rewardLabel, classifierReward.rewardLabel)
            set(&config.rewards.rewardTransform, classifierReward.rewardTransform)
            if !rewardFn.isEmpty { config.rewards.rewardFn = rewardFn }
            if !rewardCmd.isEmpty { config.rewards.rewardCmd = rewardCmd }
            if !rewardWeights.isEmpty { config.rewards.rewardWeights = rewardWeights }
            set(&config.rewards.rewardCmdTimeout, rewardCmdTimeout)
            set(&config.evalPrompts, evalPrompts)
            set(&config.evalEvery, evalEvery)
            set(&config.evalTemperature, evalTemperature)
            set(&config.chat, chat)
            set(&config.steps, steps)
            set(&config.batchSize, batchSize)
            set(&config.numGenerations, numGenerations)
            set(&config.gradAccum, gradAccum)
            set(&config.learningRate, lr)
            set(&config.lrSchedule, lrSchedule)
            set(&config.warmupSteps, warmupSteps)
            set(&config.maxGradNorm, maxGradNorm)
            set(&config.maxCompletionLength, maxCompletionLength)
            set(&config.temperature, temperature)
            set(&config.topK, topK)
            set(&config.topP, topP)
            set(&config.seed, seed)
            set(&config.beta, beta)
            set(&config.epsilon, epsilon)
            set(&config.epsilonHigh, epsilonHigh)
            set(&config.lossType, lossType)
            set(&config.scaleRewards, scaleRewards)
            set(&config.advantage, advantage)
            set(&config.normalizeAdvantages, normalizeAdvantages)
            set(&config.numIterations, numIterations)
            set(&config.maskTruncatedCompletions, maskTruncatedCompletions)
            set(&config.saveEvery, saveEvery)
            lora.apply(to: &config.lora)
            logging.apply(to: &config.logging)
        }
        try job.execute(config) { try $0.run($1) }
    }
}
