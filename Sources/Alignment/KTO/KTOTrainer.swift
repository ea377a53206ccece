import Data
import Foundation
import Models
import NN
import Tensor

/// One unpaired example tokenized for KTO: its completion and the mismatched one (another example's) that the
/// reference point is estimated from.
public struct KTOExample: Sendable, Equatable {
    public var prompt: [Int]
    public var completion: [Int]
    public var desirable: Bool
    /// The completion of the example before this one in its chunk (TRL's KL dataset: (x_i, y_{i−1}), rotated).
    public var mismatched: [Int]

    /// Pairs every example with a mismatched completion: within each chunk of `batchSize` examples in file order, the
    /// previous example's completion (the first takes the last's), as TRL builds its KL dataset.
    public static func examples(_ labeled: [(prompt: [Int], completion: [Int], desirable: Bool)], batchSize: Int) -> [KTOExample] {
        labeled.indices.map { i in
            let chunk = (i / batchSize) * batchSize, size = min(batchSize, labeled.count - chunk)
            let previous = chunk + (i - chunk + size - 1) % size
            return KTOExample(prompt: labeled[i].prompt, completion: labeled[i].completion, desirable: labeled[i].desirable,
                              mismatched: labeled[previous].completion)
        }
    }
}

/// KTO on thumbs-up/down feedback: each micro-batch scores its examples with the policy (recorded) and their
/// mismatched pairs without gradient, against the reference's log-probabilities, precomputed or on the fly.
public final class KTOTrainer: TrainingTask {
    public let name = "kto"
    public let models: PolicyModels
    public let train: [KTOExample]
    public let eval: [KTOExample]
    public let loss: KTOLoss
    private let reference: ReferenceLogProbabilities
    private let schedule: BatchSchedule
    private let batchSize: Int
    private let padID: Int

    public init(models: PolicyModels, reference: ReferencePolicy, train: [KTOExample], eval: [KTOExample], loss: KTOLoss,
                config: TrainingConfig, precompute: Bool, padID: Int) throws {
        (self.models, self.train, self.eval, self.loss, self.padID) = (models, train, eval, loss, padID)
        batchSize = config.batchSize
        schedule = BatchSchedule(exampleCount: train.count, batchSize: config.batchSize, seed: config.seed, shuffle: config.shuffle)
        self.reference = try ReferenceLogProbabilities(reference, precompute: precompute, sets: [train, eval].map(Self.rows),
                                                       batchSize: config.batchSize, padID: padID)
    }

    public var trainableParameters: [(name: String, parameter: Parameter)] { models.trainableParameters }

    public var microBatchesPerEpoch: Int { schedule.batchesPerEpoch }

    /// The KL estimate is a statistic of the whole batch.
    public var splitsAcrossRanks: Bool { false }

    public func loss(microBatch index: Int, shard: Shard) throws -> MicroBatchLoss {
        models.adapters?.reseedDropout(microBatch: index)
        let (batch, tokens) = try logProbabilities(schedule.batch(index), set: 0)
        return MicroBatchLoss(loss: try loss.loss(batch), tokens: tokens, metrics: loss.metrics(batch))
    }

    /// Held-out loss and metrics, averaged over held-out batches, named `eval_loss`, `eval_kl`, ….
    public func evaluate() throws -> [String: Double] {
        guard !eval.isEmpty else { return [:] }
        var totals: [String: Double] = [:], counts: [String: Double] = [:]
        for start in stride(from: 0, to: eval.count, by: batchSize) {
            let (batch, _) = try logProbabilities(Array(start..<min(eval.count, start + batchSize)), set: 1)
            var metrics = loss.metrics(batch)
            metrics["loss"] = Double(try loss.loss(batch).item)
            for (key, value) in metrics {
                totals["eval_" + key, default: 0] += value
                counts["eval_" + key, default: 0] += 1
            }
        }
        return totals.merging(counts) { total, count in total / count }
    }

    /// The given rows of the training (set 0) or held-out (set 1) examples: policy log-probabilities of their
    /// completions (recorded) and of their mismatched pairs (not), the reference's of both, and tokens processed.
    private func logProbabilities(_ rows: [Int], set: Int) throws -> (KTOLoss.Batch, tokens: Int) {
        let examples = rows.map { set == 0 ? train[$0] : eval[$0] }
        let n = examples.count
        let (prompts, completions) = Self.rows(examples)
        let policy = try models.policy.sequenceLogProbabilities(RolloutBatch(queries: Array(prompts[..<n]), responses: Array(completions[..<n]), padID: padID))
        let mismatched = try withNoGrad {
            try models.policy.sequenceLogProbabilities(RolloutBatch(queries: Array(prompts[n...]), responses: Array(completions[n...]), padID: padID))
        }.scalars
        let referenceValues = try reference.values(set: set, examples: rows, prompts: prompts, completions: completions)
        let tokens = examples.reduce(0) { $0 + 2 * $1.prompt.count + $1.completion.count + $1.mismatched.count }
        return (KTOLoss.Batch(policy: policy, reference: Array(referenceValues[..<n]), labels: examples.map(\.desirable),
                              policyMismatched: mismatched, referenceMismatched: Array(referenceValues[n...])), tokens)
    }

    /// Every example as two rows, completions first, then the mismatched pairs.
    static func rows(_ examples: [KTOExample]) -> (prompts: [[Int]], completions: [[Int]]) {
        (examples.map(\.prompt) + examples.map(\.prompt), examples.map(\.completion) + examples.map(\.mismatched))
    }

    public func saveModel(to directory: URL) throws { try models.saveCheckpoint(to: directory) }

    public func loadModel(from directory: URL) throws { try models.restoreCheckpoint(from: directory) }
}
