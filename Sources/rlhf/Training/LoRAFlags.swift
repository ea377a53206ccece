import ArgumentParser
import Foundation
import Models
import NN

/// `--lora-rank R` and friends: train LoRA adapters instead of every weight.
struct LoRAFlags: ParsableArguments {
    @Option(help: "LoRA rank; 0 trains every weight of the model instead.")
    var loraRank = 0

    @Option(help: "LoRA alpha: the adapters' update is scaled by alpha / rank.")
    var loraAlpha: Float = 16

    @Option(help: "Dropout on the adapters' input while training.")
    var loraDropout: Float = 0.05

    @Option(help: "Comma-separated module names to adapt, e.g. q_proj,v_proj (default: the attention projections, c_attn for GPT-2, q_proj,v_proj for the Llama family).")
    var loraTargets: String?

    func validate() throws {
        guard loraRank >= 0, loraAlpha > 0, loraDropout >= 0, loraDropout < 1 else {
            throw ValidationError("--lora-rank must be non-negative, --lora-alpha positive and --lora-dropout in [0, 1)")
        }
        guard loraRank > 0 || loraTargets == nil else { throw ValidationError("--lora-targets needs --lora-rank") }
    }

    /// Freezes `model` and attaches adapters recording `baseModel` as their base, or nil without --lora-rank.
    func attach(to model: any CausalLanguageModel, baseModel: URL, seed: UInt64) throws -> LoRAAdapters? {
        guard loraRank > 0 else { return nil }
        let targets = loraTargets.map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
        let adapters = try PEFTAdapter.attach(to: model, rank: loraRank, alpha: loraAlpha, dropout: loraDropout,
                                              targets: targets, seed: seed)
        adapters.baseModel = baseModel.path
        return adapters
    }
}
