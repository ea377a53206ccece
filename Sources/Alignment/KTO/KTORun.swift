import Data
import Foundation
import Models
import Tokenizer

/// KTO on unpaired thumbs-up/down feedback, as `rlhf kto` runs it: no reward model and no pairs needed. Defaults
/// follow TRL's KTOConfig.
public struct KTOConfig: DatasetRunConfiguration {
    public static let command = "kto"
    public static var resumeInsensitiveKeys: Set<String> { TrainingConfig.resumeInsensitiveKeys }

    /// The policy to train, typically the SFT model; the reference is its frozen starting point.
    public var model = ""
    /// A LoRA adapter of `model` to train further; the reference is then `model` with a frozen copy of it.
    public var adapter: String? = nil
    public var out = ""
    /// Feedback (JSONL) {"prompt", "completion", "label": true|false}, as `rlhf feedback export --format thumbs`
    /// writes it; preference pairs are read as a desirable chosen and an undesirable rejected completion.
    public var dataset = DatasetConfig(evalSplit: 0.05, maxLength: 1024)
    public var beta: Float = 0.1
    /// λ_D: the weight of desirable examples; the KTO paper advises λ_D·n_D / (λ_U·n_U) between 1 and 4/3.
    public var desirableWeight: Float = 1
    /// λ_U: the weight of undesirable examples.
    public var undesirableWeight: Float = 1
    /// Score every example (and its mismatched pair) with the reference once before training.
    public var precomputeRef = true
    public var training = TrainingConfig(learningRate: 1e-6)
    public var lora = LoRAConfig()
    public var logging = LoggingConfig()

    public init() {}

    public var inputs: [String] { [model] + [adapter].compactMap { $0 } }

    public func validate() throws {
        try validateDatasetRun()
        try Check.positive(beta, "beta")
        try Check.positive(desirableWeight, "desirable_weight")
        try Check.positive(undesirableWeight, "undesirable_weight")
        if training.batchSize < 2 { throw JobError("batch_size must be at least 2: KTO's reference point pairs each example with another") }
    }

    public var lossFunction: KTOLoss { KTOLoss(beta: beta, desirableWeight: desirableWeight, undesirableWeight: undesirableWeight) }

    public func run(_ control: RunControl = .init()) throws -> RunResult {
        let session = try RunSession(self, control)
        let modelDirectory = try ModelDirectory.locate(model)
        let tokenizer = try Tokenizer(directory: modelDirectory)
        let maxLength = try dataset.length(forModel: modelDirectory, log: session.log)
        let (train, eval) = try dataset.split(seed: training.seed) { file in
            KTOExample.examples(try Self.feedback(file, tokenizer: tokenizer).map { prompt, completion, desirable in
                (prompt, Array(completion.prefix(max(1, maxLength - prompt.count))), desirable)
            }, batchSize: training.batchSize)
        }
        guard train.count >= 2 else { throw JobError("\(dataset.data): KTO needs at least 2 training examples") }
        let models = try PolicyModels.load(model: model, adapter: adapter, lora: lora, seed: training.seed)
        let desirable = train.filter(\.desirable).count
        session.log("kto (β \(beta)): \(train.count) training examples (\(desirable) desirable, \(train.count - desirable) undesirable), "
                    + "\(eval.count) held out")
        let trainer = try KTOTrainer(models: models, reference: try models.makeReference(), train: train, eval: eval, loss: lossFunction,
                                     config: training, precompute: precomputeRef, padID: tokenizer.paddingID)
        return try session.train(gradientDescent: trainer, training: training, examples: train.count) { try models.saveFinal(to: $0) }
    }

    /// Thumbs, or pairs (text or conversational) split into a desirable and an undesirable completion, as TRL
    /// unpairs them, tokenized.
    static func feedback(_ file: String, tokenizer: Tokenizer) throws -> [(prompt: [Int], completion: [Int], desirable: Bool)] {
        let url = URL(fileURLWithPath: file)
        guard try JSONLines.records(url).first?.object["chosen"] != nil else {
            return try LabeledCompletion.load(url).map { example in
                let (prompt, completion) = try example.tokenized(with: tokenizer)
                return (prompt, completion, example.label)
            }
        }
        let pairs = try PreferencePair.load(url)
        if pairs.contains(where: { $0.preference != 1 }) {
            throw JobError("\(file) has soft labels (\"preference\" below 1), which KTO cannot take: train DPO with --loss sigmoid")
        }
        return try pairs.flatMap { pair in
            let tokens = try pair.tokenized(with: tokenizer)
            return [(tokens.prompt, tokens.chosen, true), (tokens.prompt, tokens.rejected, false)]
        }
    }
}
