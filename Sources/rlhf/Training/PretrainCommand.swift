import Alignment
import ArgumentParser
import Data
import Foundation
import Models
import NN
import Tokenizer

extension ModelPreset: ExpressibleByArgument {}

struct PretrainCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pretrain",
        abstract: "Train a Llama-layout language model from scratch on plain text.",
        discussion: """
            The text is encoded with the tokenizer of --tokenizer, or with a byte-level BPE tokenizer of --vocab-size \
            trained on the same text (as `rlhf tokenizer train` does; deterministic, so --resume retrains the same one), \
            and cut into sequences of the preset's context length (tiny: 4 layers × 128, 256 tokens; small: 8 layers × \
            512, 512 tokens); every token is trained on. Writes a Hugging Face model directory with the tokenizer to --out.
            """)

    @Option(help: "Plain UTF-8 text to train on.", transform: { URL(fileURLWithPath: $0) })
    var data: URL

    @Option(help: "Output directory.", transform: { URL(fileURLWithPath: $0) })
    var out: URL

    @Option(help: "Model shape: tiny or small.")
    var preset: ModelPreset = .tiny

    @Option(help: "Tokenizer directory (tokenizer.json); default: train one on --data.", transform: { URL(fileURLWithPath: $0) })
    var tokenizer: URL?

    @Option(help: "Vocabulary of the tokenizer trained when there is no --tokenizer.")
    var vocabSize = 4096

    @Option(help: "Fraction of the sequences held out for evaluation.")
    var evalSplit = 0.02

    @OptionGroup var training: TrainingFlags

    func validate() throws {
        guard evalSplit >= 0, evalSplit < 1 else { throw ValidationError("--eval-split must be in [0, 1)") }
    }

    func run() throws {
        try training.checkOutput(out)
        let text = try TextInput(text: nil, file: data.path).read()
        let tokenizerDirectory = try self.tokenizer ?? trainTokenizer()
        let tokenizer = try Tokenizer(directory: tokenizerDirectory)
        let config = training.config(defaultLearningRate: 1e-3)
        let sequences = PretrainingData.sequences(text: text, tokenizer: tokenizer, length: preset.contextLength)
        let (train, eval) = heldOut(sequences, fraction: evalSplit, seed: config.seed)
        guard !train.isEmpty else {
            throw ValidationError("\(data.path): too little text for one \(preset.contextLength)-token sequence")
        }
        let modelConfig = try preset.config(vocabularySize: tokenizer.vocabularySize, bosTokenID: tokenizer.bosTokenID,
                                            eosTokenID: tokenizer.eosTokenID)
        var initializer = WeightInitializer.random(seed: config.seed)
        let model = try modelConfig.makeModel(initializer: &initializer)
        let reporter = TrainingReporter()
        reporter.log("pretrain: \(preset.rawValue) model, \(model.parameterCount) parameters; \(train.count) training / \(eval.count) held-out sequences of \(preset.contextLength) tokens")
        let trainer = SFTTrainer(model: model, train: train, eval: eval, padID: tokenizer.padTokenID ?? 0, config: config,
                                 tokenizerDirectory: tokenizerDirectory)
        let totalSteps = config.totalSteps(exampleCount: train.count)
        try TrainingLoop(task: trainer, config: config, output: out, totalSteps: totalSteps)
            .run(resume: training.resume, onEvent: reporter.handle)
        try trainer.saveModel(to: out)
        try TrainerState(step: totalSteps, totalSteps: totalSteps, batchesSeen: totalSteps * config.gradAccum,
                         config: config, trainer: "pretrain").write(to: out)
        reporter.log("saved \(out.path)")
    }

    /// A BPE tokenizer of --vocab-size trained on --data, in a temporary directory, with a generation config
    /// that stops at the end of a chat turn or of a document.
    private func trainTokenizer() throws -> URL {
        let progress = ProgressLine(enabled: true)
        let trained = try BPETrainer(vocabularySize: vocabSize).train(files: [data]) { done, total in
            progress.say("tokenizer: merges \(done)/\(total)")
        }
        progress.clear()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rlhf-tokenizer-\(UUID().uuidString)")
        let tokenizer = try trained.save(to: directory)
        let stops = [tokenizer.eosTokenID, tokenizer.bosTokenID].compactMap { $0 }
        let generation: [String: Any] = ["eos_token_id": stops, "bos_token_id": tokenizer.bosTokenID ?? 0]
        try JSONSerialization.data(withJSONObject: generation, options: [.sortedKeys, .prettyPrinted])
            .write(to: directory.appendingPathComponent("generation_config.json"))
        return directory
    }
}
