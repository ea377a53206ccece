import Alignment
import ArgumentParser
import Foundation
import Models

extension ModelPreset: ExpressibleByArgument {}

struct PretrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pretrain",
        abstract: "Train a Llama-layout language model from scratch on plain text.",
        discussion: """
            The text is encoded with the tokenizer of --tokenizer, or with a byte-level BPE tokenizer of --vocab-size \
            trained on the same text (as `rlhf tokenizer train` does; deterministic, so --resume retrains the same one), \
            and cut into sequences of the preset's context length (tiny: 4 layers × 128, 256 tokens; small: 8 layers × \
            512, 512 tokens); every token is trained on. Writes a Hugging Face model directory with the tokenizer to \
            --out. The library call is PretrainConfig.run.
            """)

    @Option(help: "Plain UTF-8 text to train on.") var data: String?
    @Option(help: "Output directory.") var out: String?
    @Option(help: help("Model shape: tiny or small.", default: PretrainConfig().preset)) var preset: ModelPreset?
    @Option(help: "Tokenizer directory (tokenizer.json); default: train one on --data.") var tokenizer: String?
    @Option(help: help("Vocabulary of the tokenizer trained when there is no --tokenizer.", default: PretrainConfig().vocabSize))
    var vocabSize: Int?
    @Option(help: help("Fraction of the sequences held out for evaluation.", default: PretrainConfig().evalSplit)) var evalSplit: Double?
    @OptionGroup var training: TrainingFlags<PretrainConfig>
    @OptionGroup var logging: LoggingFlags
    @OptionGroup var job: RunFlags

    func run() throws {
        let config: PretrainConfig = try job.configuration { config in
            set(&config.data, data)
            set(&config.out, out)
            set(&config.preset, preset)
            set(&config.tokenizer, tokenizer)
            set(&config.vocabSize, vocabSize)
            set(&config.evalSplit, evalSplit)
            training.apply(to: &config.training)
            logging.apply(to: &config.logging)
        }
        try job.execute(config) { try $0.run($1) }
    }
}
