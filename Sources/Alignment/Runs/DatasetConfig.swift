import Data
import Foundation
import Models

/// The data of a run trained on a JSONL file: the file, what is held out for evaluation, how long an example may be
/// (keys as the flags: `--data`, `--eval-data`, `--eval-split`, `--max-length`).
public struct DatasetConfig: Codable, Sendable, Equatable {
    /// The training data (JSONL).
    public var data = ""
    /// Held-out data (JSONL) instead of `evalSplit`.
    public var evalData: String? = nil
    /// Fraction of the data held out for evaluation (a seeded choice).
    public var evalSplit: Double
    /// Examples are cut to this many tokens.
    public var maxLength: Int

    public init(evalSplit: Double, maxLength: Int) { (self.evalSplit, self.maxLength) = (evalSplit, maxLength) }

    func validate() throws {
        try Check.required(data, "data")
        try Check.fraction(evalSplit, "eval_split")
        if maxLength < 2 { throw JobError("max_length must be at least 2 (got \(maxLength))") }
    }

    /// `maxLength`, or the model's positions when it has fewer: longer examples are cut instead of failing mid-run.
    func length(forModel directory: URL, log: (String) -> Void) throws -> Int {
        // T5's relative position buckets read any length.
        length(positions: try ModelDirectory.isEncoderDecoder(directory) ? nil : try ModelConfig.load(directory: directory).maxPositions, log: log)
    }

    /// `maxLength`, or `positions` (the most ids the model reads; nil: no limit) when fewer.
    func length(positions: Int?, log: (String) -> Void) -> Int {
        guard let positions, positions < maxLength else {
            return maxLength
        }
        log("max_length \(maxLength) is past the model's \(positions) positions: examples are cut to \(positions) tokens")
        return positions
    }

    /// Training and held-out items, `load` reading a file into items: `evalData`'s, or a seeded `evalSplit` of `data`.
    func split<Item>(seed: UInt64, _ load: (String) throws -> [Item]) throws -> (train: [Item], eval: [Item]) {
        let items = try load(data)
        var (train, eval) = heldOut(items, fraction: evalData == nil ? evalSplit : 0, seed: seed)
        if let evalData { eval = try load(evalData) }
        guard !train.isEmpty else { throw JobError("\(data): nothing left to train on (try a larger max_length)") }
        return (train, eval)
    }
}

/// A run that trains a model from a directory on a dataset: SFT, reward models, DPO, KTO.
public protocol DatasetRunConfiguration: GradientRunConfiguration {
    var model: String { get set }
    var dataset: DatasetConfig { get set }
    var lora: LoRAConfig { get set }
}

extension DatasetRunConfiguration {
    /// The checks every such run shares: model, output, data, optimisation and LoRA settings.
    func validateDatasetRun() throws {
        try Check.required(model, "model")
        try Check.required(out, "out")
        try dataset.validate()
        try training.validate()
        try lora.validate()
    }
}
