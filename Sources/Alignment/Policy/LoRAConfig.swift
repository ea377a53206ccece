import Data
import Models
import NN

/// Train LoRA adapters instead of every weight (keys as the flags: `lora_rank` is `--lora-rank`).
public struct LoRAConfig: Codable, Sendable, Equatable {
    /// The adapters' rank; 0 trains every weight of the model instead.
    public var rank = 0
    /// The adapters' update is scaled by alpha / rank.
    public var alpha: Float = 16
    /// Dropout on the adapters' input while training.
    public var dropout: Float = 0.05
    /// Module names to adapt, e.g. q_proj and v_proj, or `all-linear` for every linear layer but the head; empty:
    /// the family's attention projections (c_attn for GPT-2, q_proj and v_proj for the Llama family), as PEFT defaults.
    public var targets: [String] = []

    enum CodingKeys: String, CodingKey {
        case rank = "loraRank", alpha = "loraAlpha", dropout = "loraDropout", targets = "loraTargets"
    }

    public init() {}

    public func validate() throws {
        try Check.nonNegative(rank, "lora_rank")
        try Check.positive(alpha, "lora_alpha")
        if !(0..<1).contains(dropout) { throw JobError("lora_dropout must be in [0, 1) (got \(dropout))") }
        if rank == 0, !targets.isEmpty { throw JobError("lora_targets needs lora_rank") }
    }

    /// Freezes `model` and attaches adapters recording `baseModel` as their base; nil when `rank` is 0.
    public func attach(to model: any LanguageModel, baseModel: String, seed: UInt64) throws -> LoRAAdapters? {
        guard rank > 0 else { return nil }
        let adapters = try PEFTAdapter.attach(to: model, rank: rank, alpha: alpha, dropout: dropout,
                                              targets: targets.isEmpty ? nil : targets, seed: seed)
        adapters.baseModel = baseModel
        return adapters
    }
}
