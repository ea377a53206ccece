import Data
import Foundation
import Models
import NN
import Tensor

/// The frozen policy that PPO's KL penalty, DPO's and KTO's log-ratios are measured against — one type for
/// the three ways RLHFKit holds it:
/// - a separate frozen model (full fine-tuning: a second copy of the starting weights);
/// - the policy's own base with its LoRA adapters switched off (one model in memory);
/// - the base with a frozen copy of the adapter the policy started from (LoRA training continued from, e.g.,
///   an SFT adapter).
public final class ReferencePolicy {
    enum Source {
        case separate(any LanguageModel)
        case baseWithoutAdapters(any LanguageModel, LoRAAdapters)
        case baseWithFrozenAdapter(any LanguageModel, LoRAAdapters, [Tensor])
    }

    let source: Source

    /// A separate model, frozen here.
    public init(frozen model: any LanguageModel) {
        model.setTrainable(false)
        source = .separate(model)
    }

    /// The base that `policy` and its `adapters` share, with the adapters as they are now: switched off when they
    /// are still zero (B = 0: the base alone), else a frozen copy of their current weights.
    public init(sharingBaseOf policy: any LanguageModel, adapters: LoRAAdapters) throws {
        if adapters.layers.contains(where: { $0.adapter.b.value.scalars.contains { $0 != 0 } }) {
            // Copied: the optimizer updates parameter storage in place.
            let weights = try adapters.namedParameters.map { try Tensor(shape: $0.parameter.value.shape, scalars: $0.parameter.value.scalars) }
            source = .baseWithFrozenAdapter(policy, adapters, weights)
        } else {
            source = .baseWithoutAdapters(policy, adapters)
        }
    }

    /// The base under `adapters` with them switched off, whatever their weights: e.g. a user's adapter trained
    /// again from scratch, anchored to the shared base.
    public init(baseOf policy: any LanguageModel, adapters: LoRAAdapters) {
        source = .baseWithoutAdapters(policy, adapters)
    }

    /// Runs `body` on the reference model, without recording gradients.
    public func callAsFunction<T>(_ body: (any LanguageModel) throws -> T) throws -> T {
        try withNoGrad {
            switch source {
            case .separate(let model): return try body(model)
            case .baseWithoutAdapters(let policy, let adapters): return try adapters.withAdaptersDisabled { try body(policy) }
            case .baseWithFrozenAdapter(let policy, let adapters, let weights): return try adapters.withWeights(weights) { try body(policy) }
            }
        }
    }

    /// log π_ref of each response token, [size, responseLength] (0 at padding).
    public func responseLogProbabilities(_ batch: RolloutBatch, temperature: Float = 1) throws -> Tensor {
        try self { try $0.responseLogProbabilities(batch, temperature: temperature) }
    }

    /// log π_ref(completion | prompt) of each pair, computed `batchSize` pairs at a time: DPO's and KTO's reference
    /// log-probabilities, precomputed once before training.
    public func sequenceLogProbabilities(prompts: [[Int]], completions: [[Int]], batchSize: Int, padID: Int) throws -> [Float] {
        try stride(from: 0, to: prompts.count, by: batchSize).flatMap { start in
            let rows = start..<min(prompts.count, start + batchSize)
            let batch = RolloutBatch(queries: Array(prompts[rows]), responses: Array(completions[rows]), padID: padID)
            return try self { try $0.sequenceLogProbabilities(batch) }.scalars
        }
    }
}

/// A policy to train, loaded the way PPO, DPO and KTO all load it: from a model directory, optionally continuing a
/// trained LoRA adapter, optionally attaching new adapters; and its reference.
public struct PolicyModels {
    public let directory: URL
    public let policy: any LanguageModel
    /// The adapters trained instead of the base weights (LoRA mode), nil when every weight trains.
    public let adapters: LoRAAdapters?

    /// `directory` is where the policy came from: its tokenizer files go with saved models, and a separate
    /// reference is loaded from it.
    public init(directory: URL, policy: any LanguageModel, adapters: LoRAAdapters?) {
        (self.directory, self.policy, self.adapters) = (directory, policy, adapters)
    }

    /// `adapter`: a PEFT directory to continue training (its rank wins; `lora` must then be off). Otherwise
    /// `lora.rank > 0` attaches fresh adapters.
    public static func load(model: String, adapter: String?, lora: LoRAConfig, seed: UInt64) throws -> PolicyModels {
        let directory = try ModelDirectory.locate(model)
        let policy = try ModelDirectory.loadLanguageModel(directory)
        let adapters: LoRAAdapters?
        if let adapter, !adapter.isEmpty {
            guard lora.rank == 0 else { throw JobError("adapter brings its own rank: leave lora_rank at 0") }
            adapters = try PEFTAdapter.load(from: URL(fileURLWithPath: adapter), onto: policy)
            adapters?.isTraining = true
        } else {
            adapters = try lora.attach(to: policy, baseModel: model, seed: seed)
        }
        return PolicyModels(directory: directory, policy: policy, adapters: adapters)
    }

    /// The reference as the policy is now (make it before training): with adapters, the policy's own base (and the
    /// starting adapter, when there was one); without, a second copy of the model.
    public func makeReference() throws -> ReferencePolicy {
        try adapters.map { try ReferencePolicy(sharingBaseOf: policy, adapters: $0) } ?? ReferencePolicy(frozen: try ModelDirectory.loadLanguageModel(directory))
    }

    /// What the optimizer updates, under checkpoint names: the adapters in LoRA mode, else every weight.
    public var trainableParameters: [(name: String, parameter: Parameter)] {
        Alignment.trainableParameters(of: policy, adapters: adapters)
    }

    public func saveCheckpoint(to directory: URL) throws { try PolicyCheckpoint.save(policy, adapters: adapters, to: directory) }

    public func restoreCheckpoint(from directory: URL) throws { try PolicyCheckpoint.restore(policy, adapters: adapters, from: directory) }

    /// The final policy in `output`: a plain Hugging Face model (adapters merged) with the tokenizer files, and in
    /// LoRA mode the trained adapter unmerged in `output/adapter/`.
    public func saveFinal(to output: URL) throws {
        if let adapters {
            try PEFTAdapter.save(adapters, to: output.appendingPathComponent("adapter"))
            try adapters.merge()
        }
        try ModelDirectory.save(policy, to: output)
        try ModelDirectory.copyTokenizerFiles(from: directory, to: output)
    }
}

/// A policy as checkpoints store it: the adapter alone in LoRA mode (the base is the model the run started from),
/// else the whole model.
enum PolicyCheckpoint {
    static func save(_ policy: any LanguageModel, adapters: LoRAAdapters?, to directory: URL) throws {
        if let adapters { try PEFTAdapter.save(adapters, to: directory) } else { try ModelDirectory.save(policy, to: directory) }
    }

    static func restore(_ policy: any LanguageModel, adapters: LoRAAdapters?, from directory: URL) throws {
        if let adapters { try PEFTAdapter.loadWeights(into: adapters, from: directory) } else { try ModelDirectory.loadWeights(into: policy, from: directory) }
    }
}

/// The one rule for what trains: the model's parameters left trainable plus, in LoRA mode, the adapters.
public func trainableParameters(of model: some Module, adapters: LoRAAdapters?) -> [(name: String, parameter: Parameter)] {
    model.namedParameters.filter { $0.parameter.isTrainable } + (adapters?.namedParameters ?? [])
}
