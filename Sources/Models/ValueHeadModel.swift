import Foundation
import NN
import Tensor

/// A scalar head (`score.weight`, [1, width]) on a language model's states at the positions that predict each
/// response token: PPO's critic for a policy whose family no reward model shares (e.g. T5: the value is read from
/// the decoder's states).
public final class ValueHeadModel: Module {
    public let trunk: any LanguageModel
    public let head: Linear

    /// A new head, N(0, 1/√(width + 1)) as InstructGPT initialises reward heads, on `trunk`.
    public init(trunk: any LanguageModel, seed: UInt64) {
        var initializer = WeightInitializer.random(seed: seed)
        self.trunk = trunk
        head = Linear(trunk.hiddenWidth, 1, bias: false, std: 1 / Float(trunk.hiddenWidth + 1).squareRoot(), initializer: &initializer)
    }

    /// Values [size, responseLength] for the rollout's response positions.
    public func responseValues(_ batch: RolloutBatch) throws -> Tensor {
        try head(trunk.responseHiddenStates(batch)).reshaped([batch.size, batch.responseLength])
    }

    public var namedParameters: [(name: String, parameter: Parameter)] { trunk.namedParameters + [("score.weight", head.weight)] }
}

extension ModelDirectory {
    /// The trunk's config.json with its weights and the head's.
    public static func save(_ model: ValueHeadModel, to directory: URL) throws {
        try save(model.namedParameters, fields: model.trunk.configFields, to: directory)
    }

    public static func loadWeights(into model: ValueHeadModel, from directory: URL) throws {
        try assignWeights(model.namedParameters, from: try SafetensorsCheckpoint(directory: directory), path: directory.path)
    }
}
