import Foundation
import NN
import Tensor

extension ModelConfig {
    /// A model of this architecture with fresh weights (zeros with `.zeros`, for loading). Without
    /// `languageModelHead` an untied model gets no `lm_head` (a backbone for a reward or value head).
    public func makeModel(initializer: inout WeightInitializer, languageModelHead: Bool = true) throws -> any CausalLanguageModel {
        switch architecture {
        case .gpt2(let settings):
            return try GPT2(config: self, settings: settings, initializer: &initializer, languageModelHead: languageModelHead)
        case .llama(let settings):
            return try Llama(config: self, settings: settings, initializer: &initializer, languageModelHead: languageModelHead)
        }
    }

    /// The positions the model can attend over, when it has a fixed number (GPT-2's learned position embeddings).
    public var maxPositions: Int? {
        if case .gpt2(let settings) = architecture { return settings.nPositions }
        return nil
    }

    /// The context the model was made for: GPT-2's positions, the Llama family's `max_position_embeddings` (what
    /// lm-evaluation-harness takes as a model's `max_length`).
    public var contextLength: Int? {
        switch architecture {
        case .gpt2(let settings): return settings.nPositions
        case .llama(let settings): return settings.maxPositionEmbeddings
        }
    }

    var modelType: String {
        if case .string(let type)? = fields["model_type"] { return type }
        return ""
    }
}
