import Data
import Foundation
import Models
import NN
import Tokenizer

/// Supervised fine-tuning on demonstrations (step 1 of RLHF), as `rlhf sft` runs it.
public struct SFTConfig: DatasetRunConfiguration {
    public static let command = "sft"
    public static var resumeInsensitiveKeys: Set<String> { TrainingConfig.resumeInsensitiveKeys }

    /// The model to fine-tune: a Hugging Face directory with its tokenizer.
    public var model = ""
    /// Where the model, metrics.jsonl and checkpoints go.
    public var out = ""
    /// Demonstrations (JSONL): {"prompt", "completion"} (loss on the completion and EOS) or {"messages": [...]}
    /// rendered with the chat template (loss on assistant turns).
    public var dataset = DatasetConfig(evalSplit: 0.05, maxLength: 1024)
    /// Pack training examples into `maxLength` sequences (attention crosses example boundaries).
    public var packing = false
    public var training = TrainingConfig(learningRate: 2e-5)
    public var lora = LoRAConfig()
    public var logging = LoggingConfig()

    public init() {}

    public var inputs: [String] { [model] }

    public func validate() throws { try validateDatasetRun() }

    /// Fine-tunes `model` and writes it (or, with LoRA, the adapter) to `out`.
    public func run(_ control: RunControl = .init()) throws -> RunResult {
        let session = try RunSession(self, control)
        let (demonstrations, held) = try dataset.split(seed: training.seed) { try Demonstration.load(URL(fileURLWithPath: $0)) }
        let modelDirectory = try ModelDirectory.locate(model)
        let network = try ModelDirectory.loadLanguageModel(modelDirectory)
        let tokenizer = try Tokenizer(directory: modelDirectory)
        let maxLength = try dataset.length(forModel: modelDirectory, log: session.log)
        let prepare = { (demonstrations: [Demonstration], packing: Bool) in
            try SFTData.prepare(demonstrations, tokenizer: tokenizer, maxLength: maxLength, evalFraction: 0, seed: training.seed,
                                packing: packing)
        }
        if !(network is any CausalLanguageModel) {
            if packing { throw JobError("packing is for decoder-only models; an encoder-decoder model trains on (input, target) pairs") }
            if demonstrations.contains(where: { if case .conversation = $0 { return true } else { return false } }) {
                throw JobError("\(dataset.data): an encoder-decoder model trains on {\"prompt\", \"completion\"} pairs, not conversations")
            }
        }
        var prepared = try prepare(demonstrations, packing)
        prepared.eval = try prepare(held, false).train
        guard !prepared.train.isEmpty else { throw JobError("\(dataset.data): no training examples left (try a larger max_length)") }
        let adapters = try lora.attach(to: network, baseModel: model, seed: training.seed)
        if let adapters {
            session.log("lora: \(adapters.layers.count) adapters on \(adapters.targets.joined(separator: ",")), "
                        + "\(adapters.parameterCount) trainable parameters of \(network.parameterCount)")
        }
        session.log("sft: \(prepared.train.count) training / \(prepared.eval.count) held-out examples"
                    + (prepared.truncated > 0 ? ", \(prepared.truncated) truncated to \(maxLength) tokens" : ""))
        let trainer = SFTTrainer(model: network, train: prepared.train, eval: prepared.eval, padID: tokenizer.paddingID,
                                 config: training, tokenizerDirectory: modelDirectory, adapters: adapters)
        return try session.train(gradientDescent: trainer, training: training, examples: prepared.train.count) { try trainer.saveModel(to: $0) }
    }
}

/// A Llama-layout model trained from scratch on plain text, as `rlhf pretrain` runs it.
public struct PretrainConfig: RunConfiguration {
    public static let command = "pretrain"
    public static var resumeInsensitiveKeys: Set<String> { TrainingConfig.resumeInsensitiveKeys }

    /// Plain UTF-8 text to train on.
    public var data = ""
    public var out = ""
    /// Model shape: tiny (4 layers × 128, 256 tokens of context) or small (8 layers × 512, 512 tokens).
    public var preset = ModelPreset.tiny
    /// A tokenizer directory (tokenizer.json); nil: train a byte-level BPE tokenizer of `vocabSize` on `data`
    /// (deterministic, so a resume trains the same one).
    public var tokenizer: String? = nil
    /// The vocabulary of the tokenizer trained when there is no `tokenizer`.
    public var vocabSize = 4096
    /// Fraction of the sequences held out for evaluation.
    public var evalSplit = 0.02
    public var training = TrainingConfig(learningRate: 1e-3)
    public var logging = LoggingConfig()

    public init() {}

    public var inputs: [String] { [tokenizer].compactMap { $0 } }

    public func validate() throws {
        try Check.required(data, "data")
        try Check.required(out, "out")
        try Check.positive(vocabSize, "vocab_size")
        try Check.fraction(evalSplit, "eval_split")
        try training.validate()
    }

    public func run(_ control: RunControl = .init()) throws -> RunResult {
        let session = try RunSession(self, control)
        let dataURL = URL(fileURLWithPath: data)
        guard let bytes = FileManager.default.contents(atPath: data), let text = String(data: bytes, encoding: .utf8) else {
            throw JobError("\(data): cannot read it as UTF-8 text")
        }
        let tokenizerDirectory = try tokenizer.map { URL(fileURLWithPath: $0) } ?? trainTokenizer()
        let tokenizer = try Tokenizer(directory: tokenizerDirectory)
        let sequences = PretrainingData.sequences(text: text, tokenizer: tokenizer, length: preset.contextLength)
        let (train, eval) = heldOut(sequences, fraction: evalSplit, seed: training.seed)
        guard !train.isEmpty else { throw JobError("\(dataURL.path): too little text for one \(preset.contextLength)-token sequence") }
        let modelConfig = try preset.config(vocabularySize: tokenizer.vocabularySize, bosTokenID: tokenizer.bosTokenID,
                                            eosTokenID: tokenizer.eosTokenID)
        var initializer = WeightInitializer.random(seed: training.seed)
        let model = try modelConfig.makeModel(initializer: &initializer)
        session.log("pretrain: \(preset.rawValue) model, \(model.parameterCount) parameters; \(train.count) training / "
                    + "\(eval.count) held-out sequences of \(preset.contextLength) tokens")
        let trainer = SFTTrainer(model: model, train: train, eval: eval, padID: tokenizer.paddingID, config: training,
                                 tokenizerDirectory: tokenizerDirectory)
        return try session.train(gradientDescent: trainer, training: training, examples: train.count) { try trainer.saveModel(to: $0) }
    }

    /// A tokenizer of `vocabSize` trained on `data`, in a temporary directory, with a generation config that stops
    /// at the end of a chat turn or of a document.
    private func trainTokenizer() throws -> URL {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rlhf-tokenizer-\(UUID().uuidString)")
        try TokenizerTrainingConfig(data: [data], vocabSize: vocabSize, out: directory.path).run()
        let tokenizer = try Tokenizer(directory: directory)
        let stops = [tokenizer.eosTokenID, tokenizer.bosTokenID].compactMap { $0 }
        let generation: [String: Any] = ["eos_token_id": stops, "bos_token_id": tokenizer.bosTokenID ?? 0]
        try JSONSerialization.data(withJSONObject: generation, options: [.sortedKeys, .prettyPrinted])
            .write(to: directory.appendingPathComponent("generation_config.json"))
        return directory
    }
}
