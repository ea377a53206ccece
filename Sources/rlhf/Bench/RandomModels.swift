import Models
import NN

extension GPT2 {
    /// A GPT-2 of `shape` with random weights (seed 0 unless told): what the benchmarks time.
    static func random(_ shape: GPT2Config, seed: UInt64 = 0) throws -> GPT2 {
        var initializer = WeightInitializer.random(seed: seed)
        return try GPT2(config: ModelConfig(architecture: .gpt2(shape), fields: [:]), settings: shape, initializer: &initializer)
    }
}
