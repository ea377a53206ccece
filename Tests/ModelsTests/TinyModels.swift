import Foundation
import Models
import NN
import Tensor

/// Small randomly initialised models of each family, built from config.json text as a user's would be.
enum TinyModels {
    static let gpt2JSON = """
        {"model_type": "gpt2", "n_layer": 2, "n_head": 2, "n_embd": 16, "n_positions": 64, "vocab_size": 40,
         "activation_function": "gelu_new", "layer_norm_epsilon": 1e-5, "initializer_range": 0.2}
        """
    static let llamaJSON = """
        {"model_type": "qwen2", "hidden_size": 16, "intermediate_size": 32, "num_hidden_layers": 2,
         "num_attention_heads": 4, "num_key_value_heads": 2, "vocab_size": 40, "rms_norm_eps": 1e-6,
         "rope_parameters": {"rope_theta": 10000.0, "rope_type": "default"}, "tie_word_embeddings": true,
         "initializer_range": 0.2}
        """

    static func make(_ json: String, seed: UInt64 = 0) throws -> any CausalLanguageModel {
        let config = try ModelConfig(json: Data(json.utf8), path: "config.json")
        var initializer = WeightInitializer.random(seed: seed)
        let model = try config.makeModel(initializer: &initializer)
        // Random norm gains and biases, so a loader or layer that ignores them is caught.
        var generator = SeededGenerator(seed: seed + 100)
        for (name, parameter) in model.namedParameters where parameter.value.rank == 1 {
            let base: Float = name.hasSuffix("bias") ? 0 : 1
            try parameter.assign(Tensor.randn(parameter.value.shape, std: 0.1, using: &generator) + base)
        }
        return model
    }

    static func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("rlhfkit-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
