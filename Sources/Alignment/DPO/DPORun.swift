import Data
import Foundation
import Models
import Tokenizer

/// Direct preference optimisation of a policy on preference pairs, as `rlhf dpo` runs it. Defaults follow TRL's
/// DPOConfig.
public struct DPOConfig: RunConfiguration, GradientRunConfiguration {
    public static let command = "dpo"
    public static var resumeInsensitiveKeys: Set<String> { TrainingConfig.resumeInsensitiveKeys }

    /// The policy to train, typically the SFT model; the reference is its frozen starting point.
    public var model = ""
    /// A LoRA adapter of `model` to train further; the reference is then `model` with a frozen copy of it.
    public var adapter: String? = nil
    /// Preference pairs (JSONL): {"prompt", "chosen", "rejected"} as text (`rlhf feedback export --format pairs`
    /// writes these) or as lists of messages (conversational), or HH-RLHF transcripts.
    public var data = ""
    /// The policy (adapters merged; with LoRA also unmerged in OUT/adapter), metrics and checkpoints go here.
    public var out = ""
    /// Held-out pairs (JSONL) instead of `evalSplit`.
    public var evalData: String? = nil
    /// Fraction of the pairs held out for evaluation.
    public var evalSplit = 0.05
    /// Prompt + completion are cut to this many tokens (the completion loses its end; pairs whose prompt alone
    /// is this long are dropped, as TRL's keep_start truncation does).
    public var maxLength = 1024
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

    public func validate() throws {
        try Check.required(model, "model")
        try Check.required(data, "data")
        try Check.required(out, "out")
        try Check.fraction(evalSplit, "eval_split")
        if maxLength < 2 { throw JobError("max_length must be at least 2 (got \(maxLength))") }
        try Check.positive(beta, "beta")
        if !(0..<0.5).contains(labelSmoothing) { throw JobError("label_smoothing must be in [0, 0.5) (got \(labelSmoothing))") }
        if labelSmoothing > 0, loss != .robust { throw JobError("label_smoothing applies to the robust loss only (as in TRL 1.16)") }
        try Check.nonNegative(rpoAlpha, "rpo_alpha")
        try training.validate()
        try lora.validate()
    }

    public var lossFunction: DPOLoss { DPOLoss(type: loss, beta: beta, labelSmoothing: labelSmoothing, rpoAlpha: rpoAlpha) }

    public func run(_ control: RunControl = .init()) throws -> RunResult {
        let session = try RunSession(self, control)
        let tokenizer = try Tokenizer(directory: URL(fileURLWithPath: model))
        let (train, eval, dropped) = try PreferenceData.load(data: data, evalData: evalData, evalSplit: evalSplit, seed: training.seed,
                                                             maxLength: maxLength, tokenizer: tokenizer)
        let models = try PolicyModels.load(model: model, adapter: adapter, lora: lora, seed: training.seed)
        session.log("dpo (\(loss.rawValue), β \(beta)): \(train.count) training / \(eval.count) held-out pairs"
                    + (dropped > 0 ? ", \(dropped) dropped (prompt longer than max_length)" : "")
                    + (precomputeRef ? "; scoring them with the reference first" : ""))
        let trainer = try DPOTrainer(models: models, reference: try models.makeReference(), train: train, eval: eval, loss: lossFunction,
                                     config: training, precompute: precomputeRef, padID: tokenizer.paddingID)
        return try session.train(gradientDescent: trainer, training: training, examples: train.count) { try models.saveFinal(to: $0) }
    }
}

/// Preference pairs tokenized and split for DPO.
enum PreferenceData {
    static func load(data: String, evalData: String?, evalSplit: Double, seed: UInt64, maxLength: Int,
                     tokenizer: Tokenizer) throws -> (train: [TokenizedPreference], eval: [TokenizedPreference], dropped: Int) {
        var dropped = 0
        let tokenize = { (file: String) throws -> [TokenizedPreference] in
            try PreferencePair.load(URL(fileURLWithPath: file)).compactMap { pair in
                let cut = try pair.tokenized(with: tokenizer).truncated(to: maxLength)
                if cut == nil { dropped += 1 }
                return cut
            }
        }
        let pairs = try tokenize(data)
        var (train, eval) = heldOut(pairs, fraction: evalData == nil ? evalSplit : 0, seed: seed)
        if let evalData { eval = try tokenize(evalData) }
        guard !train.isEmpty else { throw JobError("\(data): no training pairs left (try a larger max_length)") }
        return (train, eval, dropped)
    }
}
