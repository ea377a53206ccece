import Alignment
import ArgumentParser
import Foundation

extension KLEstimator: ExpressibleByArgument {}
extension CriticPlacement: ExpressibleByArgument {}

struct PPOCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ppo",
        abstract: "Optimise the policy against the reward model with PPO (step 3 of RLHF).",
        discussion: """
            Each iteration takes the next --batch-size prompts, samples responses, scores them with --reward, adds a \
            per-token KL penalty against the frozen starting policy, estimates advantages with the critic (initialised \
            from the reward model, as TRL does) and runs --ppo-epochs epochs of clipped updates. With \
            --reward-classifier DIR --reward-label NAME a classifier's label scores the responses instead (e.g. a \
            toxicity classifier's "nothate" logit) and the critic starts from the policy with a new value head. With \
            --critic shared the value head sits on the policy's own hidden states instead: no second model in memory \
            (with --lora-rank, one base serves policy, reference and critic), and the value loss trains the policy too. \
            Writes the policy (a \
            Hugging Face directory) to --out, the critic to --out/critic, metrics.jsonl (TRL's metric names), \
            samples.jsonl, TensorBoard events and checkpoint-N/ every --save-every iterations (--resume continues from \
            the newest). Defaults follow TRL's PPOConfig. The library call is PPOConfig.run.
            """)

    private static let defaults = PPOConfig()

    @Option(help: "Starting policy (typically the SFT model; directory or Hub id).") var policy: String?
    @Option(help: "Start from this LoRA adapter of --policy (e.g. `rlhf sft --lora-rank`'s output) and train it further; the reference is --policy with a frozen copy of it.")
    var adapter: String?
    @Option(help: "Reward model (directory or Hub id); or give --reward-classifier.") var reward: String?
    @OptionGroup var classifierReward: ClassifierRewardFlags
    @Option(help: "Prompts (JSONL {\"prompt\"}).") var prompts: String?
    @Option(help: "Output directory.") var out: String?
    @Flag(inversion: .prefixedNo, help: help("Wrap prompts as user messages in the chat template.", default: defaults.chat)) var chat: Bool?
    @Option(help: help("PPO iterations.", default: defaults.iterations)) var iterations: Int?
    @Option(help: help("Prompts per iteration.", default: defaults.batchSize)) var batchSize: Int?
    @Option(help: help("Minibatches per PPO epoch.", default: defaults.miniBatches)) var miniBatches: Int?
    @Option(help: help("Epochs over each rollout.", default: defaults.ppoEpochs)) var ppoEpochs: Int?
    @Option(help: help("Learning rate (policy and critic, constant).", default: defaults.learningRate)) var lr: Float?
    @Option(help: help("Global gradient-norm clip (0 = off).", default: defaults.maxGradNorm)) var maxGradNorm: Float?
    @Option(help: help("Longest response.", default: defaults.maxNewTokens)) var maxNewTokens: Int?
    @Option(help: help("Sampling temperature (logits are divided by it when scoring too).", default: defaults.temperature)) var temperature: Float?
    @Option(help: help("Random seed.", default: defaults.seed)) var seed: UInt64?
    @Option(help: help("Checkpoint every N iterations (0 = only the final model).", default: defaults.saveEvery)) var saveEvery: Int?
    @Option(help: "Stop once the mean score reaches this.") var targetReward: Double?
    @Option(help: "Stop once the mean per-response KL to the reference exceeds this.") var klBudget: Double?
    @Option(help: help("separate (a value model of its own, from the reward model) or shared (a head on the policy's hidden states).",
                       default: defaults.critic))
    var critic: CriticPlacement?
    @Option(help: help("KL coefficient β (initial value when --kl-target is set).", default: defaults.ppo.klCoefficient)) var klCoef: Float?
    @Option(help: help("KL estimator: k1 or k3.", default: defaults.ppo.klEstimator)) var klEstimator: KLEstimator?
    @Option(help: "Target KL for the adaptive controller (default: fixed β).") var klTarget: Float?
    @Option(help: help("Horizon of the adaptive KL controller, in episodes.", default: defaults.ppo.klHorizon)) var klHorizon: Float?
    @Option(help: help("Discount γ.", default: defaults.ppo.gamma)) var gamma: Float?
    @Option(help: help("GAE λ.", default: defaults.ppo.lambda)) var lambda: Float?
    @Option(help: help("Policy clip range ε.", default: defaults.ppo.clipRange)) var cliprange: Float?
    @Option(help: help("Value clip range.", default: defaults.ppo.clipRangeValue)) var cliprangeValue: Float?
    @Option(help: help("Value loss coefficient c1.", default: defaults.ppo.valueCoefficient)) var vfCoef: Float?
    @Option(help: help("Entropy bonus weight c2 (loss −= c2 · mean entropy of the policy; 0 = none, as TRL).", default: defaults.ppo.entropyCoefficient))
    var entCoef: Float?
    @Option(help: "Score penalty for responses that never reach EOS (default: none).") var missingEosPenalty: Float?
    @Flag(inversion: .prefixedNo, help: help("Whiten the per-token rewards.", default: defaults.ppo.whitenRewards)) var whitenRewards: Bool?
    @OptionGroup var lora: LoRAFlags
    @OptionGroup var logging: LoggingFlags
    @OptionGroup var job: RunFlags

    func run() throws {
        let config: PPOConfig = try job.configuration { config in
            set(&config.policy, policy)
            set(&config.adapter, adapter)
            set(&config.reward, reward)
            set(&config.rewardClassifier, classifierReward.rewardClassifier)
            set(&config.rewardLabel, classifierReward.rewardLabel)
            set(&config.rewardTransform, classifierReward.rewardTransform)
            set(&config.prompts, prompts)
            set(&config.out, out)
            set(&config.chat, chat)
            set(&config.iterations, iterations)
            set(&config.batchSize, batchSize)
            set(&config.miniBatches, miniBatches)
            set(&config.ppoEpochs, ppoEpochs)
            set(&config.learningRate, lr)
            set(&config.maxGradNorm, maxGradNorm)
            set(&config.maxNewTokens, maxNewTokens)
            set(&config.temperature, temperature)
            set(&config.seed, seed)
            set(&config.saveEvery, saveEvery)
            set(&config.targetReward, targetReward)
            set(&config.klBudget, klBudget)
            set(&config.critic, critic)
            set(&config.ppo.klCoefficient, klCoef)
            set(&config.ppo.klEstimator, klEstimator)
            set(&config.ppo.klTarget, klTarget)
            set(&config.ppo.klHorizon, klHorizon)
            set(&config.ppo.gamma, gamma)
            set(&config.ppo.lambda, lambda)
            set(&config.ppo.clipRange, cliprange)
            set(&config.ppo.clipRangeValue, cliprangeValue)
            set(&config.ppo.valueCoefficient, vfCoef)
            set(&config.ppo.entropyCoefficient, entCoef)
            set(&config.ppo.missingEOSPenalty, missingEosPenalty)
            set(&config.ppo.whitenRewards, whitenRewards)
            lora.apply(to: &config.lora)
            logging.apply(to: &config.logging)
        }
        try job.execute(config) { try $0.run($1) }
    }
}
