import Foundation

/// Llama-layout shapes for training from scratch (`rlhf pretrain --preset`).
public enum ModelPreset: String, CaseIterable, Codable, Sendable {
    /// 4 layers, width 128: trains in minutes on two cores.
    case tiny
    /// 8 layers, width 512: a real small model, hours on a CPU.
    case small

    public var contextLength: Int { self == .tiny ? 256 : 512 }

    /// A config.json for this shape with the tokenizer's vocabulary and special tokens.
    public func config(vocabularySize: Int, bosTokenID: Int?, eosTokenID: Int?) throws -> ModelConfig {
        let (width, layers, heads, kvHeads, hidden) = self == .tiny ? (128, 4, 4, 2, 384) : (512, 8, 8, 4, 1376)
        let fields: [String: JSONValue] = [
            "model_type": .string("llama"), "architectures": .array([.string("LlamaForCausalLM")]),
            "hidden_size": .number(Double(width)), "intermediate_size": .number(Double(hidden)),
            "num_hidden_layers": .number(Double(layers)), "num_attention_heads": .number(Double(heads)),
            "num_key_value_heads": .number(Double(kvHeads)), "head_dim": .number(Double(width / heads)),
            "vocab_size": .number(Double(vocabularySize)), "max_position_embeddings": .number(Double(contextLength)),
            "rms_norm_eps": .number(1e-6), "hidden_act": .string("silu"), "initializer_range": .number(0.02),
            "rope_parameters": .object(["rope_theta": .number(10_000), "rope_type": .string("default")]),
            "tie_word_embeddings": .bool(true), "attention_bias": .bool(false), "mlp_bias": .bool(false),
            "bos_token_id": bosTokenID.map { .number(Double($0)) } ?? .null,
            "eos_token_id": eosTokenID.map { .number(Double($0)) } ?? .null,
        ]
        return try ModelConfig(json: try JSONEncoder().encode(fields), path: "preset \(rawValue)")
    }
}
