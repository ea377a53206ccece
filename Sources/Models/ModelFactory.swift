import Foundation
import NN
import Tensor

extension ModelConfig {
    /// A model of this architecture with fresh weights (zeros with `.zeros`, for loading).
    public func makeModel(initializer: inout WeightInitializer) throws -> any CausalLanguageModel {
        switch architecture {
        case .gpt2(let settings): return try GPT2(config: self, settings: settings, initializer: &initializer)
        case .llama(let settings): return try Llama(config: self, settings: settings, initializer: &initializer)
        }
    }

    var modelType: String {
        if case .string(let type)? = fields["model_type"] { return type }
        return ""
    }
}
