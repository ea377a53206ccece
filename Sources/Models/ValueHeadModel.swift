import Foundation
import NN
import Tensor

/// A scalar head (`score.weight`, [1, width]) on a language model's states at the positions that predict each
/// response token: PPO's critic for a policy whose family no reward model shares (e.g. T5: the value is read from
/// the decoder's states), or on the policy itself (`sharing:`, PPO's `--critic shared`).
public final class ValueHeadModel: Module {
    public let trunk: any LanguageModel
    public let head: Linear
    /// The trunk is the policy's own: its weights belong to the policy (trained, saved and restored as the policy's),
    /// and this model's parameters, saves and loads are the head's alone.
    public let sharesTrunk: Bool

    /// A new head, N(0, 1/√(width + 1)) as InstructGPT initialises reward heads, on a trunk of its own.
    public convenience init(trunk: any LanguageModel, seed: UInt64) { self.init(trunk: trunk, shared: false, seed: seed) }

    /// A new head on `policy`'s own hidden states: one trunk in memory, which the value loss trains too.
    public convenience init(sharing policy: any LanguageModel, seed: UInt64) { self.init(trunk: policy, shared: true, seed: seed) }

    private init(trunk: any LanguageModel, shared: Bool, seed: UInt64) {
        var initializer = WeightInitializer.random(seed: seed)
        (self.trunk, sharesTrunk) = (trunk, shared)
        head = Linear(trunk.hiddenWidth, 1, bias: false, std: 1 / Float(trunk.hiddenWidth + 1).squareRoot(), initializer: &initializer)
    }

    /// Values [size, responseLength] for the rollout's response positions.
    public func responseValues(_ batch: RolloutBatch) throws -> Tensor { try values(states: try trunk.responseHiddenStates(batch), batch) }

    /// Values from the trunk's response hidden states already computed.
    public func values(states: Tensor, _ batch: RolloutBatch) throws -> Tensor {
        try head(states).reshaped([batch.size, batch.responseLength])
    }

    public var namedParameters: [(name: String, parameter: Parameter)] {
        (sharesTrunk ? [] : trunk.namedParameters) + [("score.weight", head.weight)]
    }
}

extension ModelDirectory {
    /// The trunk's config.json with its weights and the head's; a head on a shared trunk writes its weight alone
    /// (model.safetensors with `score.weight`), the trunk being the policy saved beside it.
    public static func save(_ model: ValueHeadModel, to directory: URL) throws {
        guard model.sharesTrunk else { return try save(model.namedParameters, fields: model.trunk.configFields, to: directory) }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try Safetensors.write(try model.namedParameters.map { ($0.name, try $0.parameter.fileValue) }, metadata: ["format": "pt"],
                              to: directory.appendingPathComponent(SafetensorsCheckpoint.singleFileName))
    }

    public static func loadWeights(into model: ValueHeadModel, from directory: URL) throws {
        try assignWeights(model.namedParameters, from: try SafetensorsCheckpoint(directory: directory), path: directory.path)
    }
}
