import Alignment
import ArgumentParser
import Foundation

struct SFTCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sft",
        abstract: "Supervised fine-tuning on demonstrations (step 1 of RLHF).",
        discussion: """
            Data: JSONL lines {"prompt", "completion"} (loss on the completion and EOS) or {"messages": [{"role", \
            "content"}, ...]} rendered with the chat template (loss on assistant turns); an encoder-decoder model (T5, FLAN-T5) reads the \
            prompt as its input and learns the completion as its target. Every line is checked \
            before training starts; a bad one fails with file:line and nothing is written. Writes the final model \
            (a Hugging Face directory) to --out, metrics.jsonl and TensorBoard events (OUT/runs) there, and \
            checkpoint-N/ every --save-every steps. With --lora-rank, only LoRA adapters are trained and saved (PEFT's \
            adapter layout; `rlhf merge` folds them into the model). The library call is SFTConfig.run.
            """)

    @Option(help: ArgumentHelp(modelHelp, valueName: "dir|id")) var model: String?
    @Option(help: "Output directory.") var out: String?
    @Flag(inversion: .prefixedNo, help: help("Pack training examples into --max-length sequences (attention crosses example boundaries).",
                                             default: SFTConfig().packing))
    var packing: Bool?
    @OptionGroup var dataset: DatasetFlags<SFTConfig>
    @OptionGroup var training: TrainingFlags<SFTConfig>
    @OptionGroup var lora: LoRAFlags
    @OptionGroup var logging: LoggingFlags
    @OptionGroup var job: RunFlags

    func run() throws {
        let config: SFTConfig = try job.configuration { config in
            set(&config.model, model)
            set(&config.out, out)
            set(&config.packing, packing)
            dataset.apply(to: &config.dataset)
            training.apply(to: &config.training)
            lora.apply(to: &config.lora)
            logging.apply(to: &config.logging)
        }
        try job.execute(config) { try $0.run($1) }
    }
}
