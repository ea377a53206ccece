import Data
import Foundation
import Models
import Tokenizer

/// Direct preference optimisation of a policy on preference pairs, as `rlhf dpo` runs it. Defaults follow TRL's
/// DPOConfig.
public struct DPOConfig: DatasetRunConfiguration {
    public static let command = "dpo"
    public static var resumeInsensitiveKeys: Set<String> { TrainingConfig.resumeInsensitiveKeys }

    /// The policy to train, typically the SFT model; the reference is its frozen starting point.
    public var model = ""
    /// A LoRA adapter of `model` to train further; the reference is then `model` with a frozen copy of it.
    public var adapter: String? = nil
    /// The policy (adapters merged; with LoRA also unmerged in OUT/adapter), metrics and checkpoints go here.
    public var out = ""
    /// Preference pairs (JSONL): {"prompt", "chosen", "rejected"} as text (`rlhf feedback export --format pairs`
    /// writes these) or as lists of messages (conversational), or HH-RLHF transcripts. Prompt + completion are cut to
    /// `maxLength` tokens (the completion loses its end; pairs whose prompt alone is that long are dropped, as TRL's
    /// keep_start truncation does).
    public var dataset = DatasetConfig(evalSplit: 0.05, maxLength: 1024)
    /// The loss: sigmoid (DPO), ipo, hinge or robust.
    public var loss = DPOLossType.sigmoid
    public var beta: Float = 0.1
    /// The robust loss's label smoothing ε in [0, 0.5): the share of labels assumed flipped.
    public var labelSmoothing: Float = 0
    /// Weight α of RPO's NLL term on the chosen completions; 0 = none.
    public var rpoAlpha: Float = 0
    /// Score every pair with the reference once before training (and free a separate reference model), instead
    /// of in every step: as fast for one epoch, faster for more, and less memory.
    public var precomputeRef = true
    public var training = TrainingConfig(learningRate: 1e-6)
    public var lora = LoRAConfig()
    public var logging = LoggingConfig()

    public init() {}

    public var inputs: [String] { [model] + [adapter].compactMap { $0 } }

    public func validate() throws {
        try validateDatasetRun()
        try Check.positive(beta, "beta")
        if !(0..<0.5).contains(labelSmoothing) { throw JobError("label_smoothing must be in [0, 0.5) (got \(labelSmoothing))") }
        if labelSmoothing > 0, loss != .robust { throw JobError("label_smoothing applies to the robust loss only (as in TRL 1.16)") }
        try Check.nonNegative(rpoAlpha, "rpo_alpha")
    }

    public var lossFunction: DPOLoss { DPOLoss(type: loss, beta: beta, labelSmoothing: labelSmoothing, rpoAlpha: rpoAlpha) }

    public func run(_ control: RunControl = .init()) throws -> RunResult {
        let session = try RunSession(self, control)
        let modelDirectory = try ModelDirectory.locate(model)
        let tokenizer = try Tokenizer(directory: modelDirectory)
        let maxLength = try dataset.length(forModel: modelDirectory, log: session.log)
        var dropped = 0
        let (train, eval) = try dataset.split(seed: training.seed) { file in
            try PreferencePair.load(URL(fileURLWithPath: file)).compactMap { pair in
                let cut = try pair.tokenized(with: tokenizer).truncated(to: maxLength)
                if cut == nil { dropped += 1 }
                return cut
            }
        }
        if loss != .sigmoid, (train + eval).contains(where: { $0.preference != 1 }) {
            throw JobError("the data has soft labels (\"preference\" below 1), which the sigmoid loss alone takes: use --loss sigmoid")
        }
        let models = try PolicyModels.load(model: model, adapter: adapter, lora: lora, seed: training.seed)
        session.log("dpo (\(loss.rawValue), β \(beta)): \(train.count) training / \(eval.count) held-out pairs"
                    + (dropped > 0 ? ", \(dropped) dropped (prompt longer than max_length)" : "")
                    + (precomputeRef ? "; scoring them with the reference first" : ""))
        let trainer = try DPOTrainer(models: models, reference: try models.makeReference(), train: train, eval: eval, loss: lossFunction,
                                     config: training, precompute: precomputeRef, padID: tokenizer.paddingID)
        return try session.train(gradientDescent: trainer, training: training, examples: train.count) { try models.saveFinal(to: $0) }
    }
}
