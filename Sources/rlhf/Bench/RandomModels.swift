import Foundation
import Models
import NN

extension GPT2 {
    /// A GPT-2 of `shape` with random weights (seed 0 unless told): what the benchmarks time.
    static func random(_ shape: GPT2Config, seed: UInt64 = 0) throws -> GPT2 {
        var initializer = WeightInitializer.random(seed: seed)
        return try GPT2(config: ModelConfig(architecture: .gpt2(shape), fields: [:]), settings: shape, initializer: &initializer)
    }
}

/// Qwen2-0.5B's layout (24 layers × 896, 14 heads over 2 KV heads, MLP 4864, vocabulary 151936, tied head), randomly
/// initialised: the larger shape the benchmarks compare with transformers (`bench/peer_generate.py`, `bench/peer_qwen2_sft.py`).
func randomQwen2HalfB(seed: UInt64 = 0) throws -> any CausalLanguageModel {
    let fields: [String: JSONValue] = [
        "model_type": .string("qwen2"), "architectures": .array([.string("Qwen2ForCausalLM")]),
        "hidden_size": .number(896), "intermediate_size": .number(4864), "num_hidden_layers": .number(24),
        "num_attention_heads": .number(14), "num_key_value_heads": .number(2), "vocab_size": .number(151_936),
        "max_position_embeddings": .number(32768), "rms_norm_eps": .number(1e-6), "hidden_act": .string("silu"),
        "rope_theta": .number(1_000_000), "tie_word_embeddings": .bool(true), "initializer_range": .number(0.02),
    ]
    let config = try ModelConfig(json: JSONEncoder().encode(fields), path: "qwen2-0.5b shape")
    var initializer = WeightInitializer.random(seed: seed)
    return try config.makeModel(initializer: &initializer)
}
