import Alignment
import ArgumentParser
import Foundation

extension DPOLossType: ExpressibleByArgument {}

struct DPOCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dpo",
        abstract: "Direct preference optimisation on preference pairs (DPO, IPO, hinge, robust DPO, RPO): no reward model.",
        discussion: """
            Data: JSONL {"prompt", "chosen", "rejected"} with text (`rlhf feedback export --format pairs`) or with \
            lists of {"role", "content"} messages (rendered with the chat template), or HH-RLHF {"chosen", "rejected"} \
            transcripts. The reference is the frozen starting policy: a second copy of --model, or with --lora-rank the \
            base with the adapters switched off. Logs TRL's metrics (rewards/chosen, rewards/rejected, \
            rewards/accuracies, rewards/margins, logps/chosen, logps/rejected) to metrics.jsonl and TensorBoard. Writes the \
            policy to --out (with LoRA: merged, and the adapter in OUT/adapter). The library call is DPOConfig.run.
            """)

    private static let defaults = DPOConfig()

    @Option(help: "The policy to train (typically the SFT model; directory or Hub id).") var model: String?
    @Option(help: "Train this LoRA adapter of --model further; the reference is --model with a frozen copy of it.") var adapter: String?
    @Option(help: "Output directory.") var out: String?
    @Option(help: help("sigmoid (DPO), ipo, hinge or robust.", default: defaults.loss)) var loss: DPOLossType?
    @Option(help: help("β: how far the policy may move from the reference.", default: defaults.beta)) var beta: Float?
    @Option(help: help("Label smoothing ε of the robust loss, in [0, 0.5).", default: defaults.labelSmoothing)) var labelSmoothing: Float?
    @Option(help: help("Weight α of RPO's NLL term on the chosen completions (0 = none).", default: defaults.rpoAlpha)) var rpoAlpha: Float?
    @Flag(inversion: .prefixedNo, help: help("Score every pair with the reference once before training (--no-precompute-ref: in every step).",
                                             default: defaults.precomputeRef))
    var precomputeRef: Bool?
    @OptionGroup var dataset: DatasetFlags<DPOConfig>
    @OptionGroup var training: TrainingFlags<DPOConfig>
    @OptionGroup var lora: LoRAFlags
    @OptionGroup var logging: LoggingFlags
    @OptionGroup var job: RunFlags

    func run() throws {
        let config: DPOConfig = try job.configuration { config in
            set(&config.model, model)
            set(&config.adapter, adapter)
            set(&config.out, out)
            set(&config.loss, loss)
            set(&config.beta, beta)
            set(&config.labelSmoothing, labelSmoothing)
            set(&config.rpoAlpha, rpoAlpha)
            set(&config.precomputeRef, precomputeRef)
            dataset.apply(to: &config.dataset)
            training.apply(to: &config.training)
            lora.apply(to: &config.lora)
            logging.apply(to: &config.logging)
        }
        try job.execute(config) { try $0.run($1) }
    }
}

struct KTOCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kto",
        abstract: "KTO on thumbs-up/down feedback: no reward model and no pairs.",
        discussion: """
            Data: JSONL {"prompt", "completion", "label": true|false} (`rlhf feedback export --format thumbs`), or pairs \
            read as a desirable and an undesirable completion. Each example's reference point is the batch's mean \
            log-ratio on mismatched (prompt, completion) pairs, as TRL computes it; --batch-size must be at least 2. \
            Logs kl, rewards/chosen, rewards/rejected, rewards/margins, logps/chosen, logps/rejected. The library call \
            is KTOConfig.run.
            """)

    private static let defaults = KTOConfig()

    @Option(help: "The policy to train (typically the SFT model; directory or Hub id).") var model: String?
    @Option(help: "Train this LoRA adapter of --model further; the reference is --model with a frozen copy of it.") var adapter: String?
    @Option(help: "Output directory.") var out: String?
    @Option(help: help("β.", default: defaults.beta)) var beta: Float?
    @Option(help: help("Weight of desirable examples.", default: defaults.desirableWeight)) var desirableWeight: Float?
    @Option(help: help("Weight of undesirable examples.", default: defaults.undesirableWeight)) var undesirableWeight: Float?
    @Flag(inversion: .prefixedNo, help: help("Score every example with the reference once before training.", default: defaults.precomputeRef))
    var precomputeRef: Bool?
    @OptionGroup var dataset: DatasetFlags<KTOConfig>
    @OptionGroup var training: TrainingFlags<KTOConfig>
    @OptionGroup var lora: LoRAFlags
    @OptionGroup var logging: LoggingFlags
    @OptionGroup var job: RunFlags

    func run() throws {
        let config: KTOConfig = try job.configuration { config in
            set(&config.model, model)
            set(&config.adapter, adapter)
            set(&config.out, out)
            set(&config.beta, beta)
            set(&config.desirableWeight, desirableWeight)
            set(&config.undesirableWeight, undesirableWeight)
            set(&config.precomputeRef, precomputeRef)
            dataset.apply(to: &config.dataset)
            training.apply(to: &config.training)
            lora.apply(to: &config.lora)
            logging.apply(to: &config.logging)
        }
        try job.execute(config) { try $0.run($1) }
    }
}
