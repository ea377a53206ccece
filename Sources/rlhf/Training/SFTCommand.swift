import Alignment
import ArgumentParser
import Data
import Foundation
import Models
import Tokenizer

struct SFTCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sft",
        abstract: "Supervised fine-tuning on demonstrations (step 1 of RLHF).",
        discussion: """
            Data: JSONL lines {"prompt", "completion"} (loss on the completion and EOS) or {"messages": [{"role", \
            "content"}, ...]} rendered with the chat template (loss on assistant turns). Every line is checked \
            before training starts; a bad one fails with file:line and nothing is written. Writes the final model \
            (a Hugging Face directory) to --out, metrics.jsonl there, and checkpoint-N/ every --save-every steps. \
            With --lora-rank, only LoRA adapters are trained and saved (PEFT's adapter layout; `rlhf merge` folds \
            them into the model).
            """)

    @OptionGroup var model: ModelOptions

    @Option(help: "Demonstrations (JSONL).", transform: { URL(fileURLWithPath: $0) })
    var data: URL

    @Option(help: "Output directory.", transform: { URL(fileURLWithPath: $0) })
    var out: URL

    @Option(help: "Truncate examples to this many tokens.")
    var maxLength = 1024

    @Option(help: "Fraction of the data held out for evaluation.")
    var evalSplit = 0.05

    @Option(help: "Held-out demonstrations (JSONL) instead of --eval-split.", transform: { URL(fileURLWithPath: $0) })
    var evalData: URL?

    @Flag(help: "Pack training examples into --max-length sequences (attention crosses example boundaries).")
    var packing = false

    @OptionGroup var training: TrainingFlags

    @OptionGroup var lora: LoRAFlags

    func validate() throws {
        guard maxLength > 1 else { throw ValidationError("--max-length must be at least 2") }
        guard evalSplit >= 0, evalSplit < 1 else { throw ValidationError("--eval-split must be in [0, 1)") }
    }

    func run() throws {
        try training.checkOutput(out)
        let demonstrations = try Demonstration.load(data)
        let held = try evalData.map(Demonstration.load)
        let (model, tokenizer) = try self.model.load()
        let config = training.config(defaultLearningRate: lora.loraRank > 0 ? 2e-4 : 2e-5)
        var prepared = try SFTData.prepare(demonstrations, tokenizer: tokenizer, maxLength: maxLength,
                                           evalFraction: held == nil ? evalSplit : 0, seed: config.seed, packing: packing)
        if let held {
            prepared.eval = try SFTData.prepare(held, tokenizer: tokenizer, maxLength: maxLength, evalFraction: 0,
                                                seed: config.seed, packing: false).train
        }
        guard !prepared.train.isEmpty else { throw ValidationError("\(data.path): no training examples left (try a larger --max-length)") }
        let reporter = TrainingReporter()
        let adapters = try lora.attach(to: model, baseModel: self.model.model, seed: config.seed)
        if let adapters {
            reporter.log("lora: \(adapters.layers.count) adapters on \(adapters.targets.joined(separator: ",")), "
                         + "\(adapters.parameterCount) trainable parameters of \(model.parameterCount)")
        }
        reporter.log("sft: \(prepared.train.count) training / \(prepared.eval.count) held-out examples"
                     + (prepared.truncated > 0 ? ", \(prepared.truncated) truncated to \(maxLength) tokens" : ""))
        let trainer = SFTTrainer(model: model, train: prepared.train, eval: prepared.eval,
                                 padID: tokenizer.padTokenID ?? tokenizer.eosTokenID ?? 0, config: config,
                                 tokenizerDirectory: self.model.model, adapters: adapters)
        let totalSteps = config.totalSteps(exampleCount: prepared.train.count)
        let loop = TrainingLoop(task: trainer, config: config, output: out, totalSteps: totalSteps)
        try loop.run(resume: training.resume, onEvent: reporter.handle)
        try trainer.saveModel(to: out)
        try TrainerState(step: totalSteps, totalSteps: totalSteps, batchesSeen: totalSteps * config.gradAccum,
                         config: config, trainer: trainer.name).write(to: out)
        reporter.log("saved \(out.path)")
    }
}
