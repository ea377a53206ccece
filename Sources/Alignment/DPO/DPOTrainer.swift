import Data
import Foundation
import Models
import NN
import Tensor

/// Direct preference optimisation (and IPO, hinge, robust DPO, RPO) on preference pairs: each micro-batch scores
/// its pairs' chosen and rejected completions with the policy in one forward pass (chosen rows, then rejected rows,
/// as TRL concatenates them) and against the reference's log-probabilities, precomputed once or computed on the fly.
public final class DPOTrainer: TrainingTask {
    public let name = "dpo"
    public let models: PolicyModels
    public let train: [TokenizedPreference]
    public let eval: [TokenizedPreference]
    public let loss: DPOLoss
    private let reference: ReferenceLogProbabilities
    private let schedule: BatchSchedule
    private let batchSize: Int
    private let padID: Int

    /// `precompute`: score every pair with the reference now and release it (a separate reference model is then
    /// freed before training starts).
    public init(models: PolicyModels, reference: ReferencePolicy, train: [TokenizedPreference], eval: [TokenizedPreference],
                loss: DPOLoss, config: TrainingConfig, precompute: Bool, padID: Int) throws {
        (self.models, self.train, self.eval, self.loss, self.padID) = (models, train, eval, loss, padID)
        batchSize = config.batchSize
        schedule = BatchSchedule(exampleCount: train.count, batchSize: config.batchSize, seed: config.seed, shuffle: config.shuffle)
        self.reference = try ReferenceLogProbabilities(reference, precompute: precompute, sets: [train, eval].map(Self.completions),
                                                       batchSize: config.batchSize, padID: padID)
    }

    public var trainableParameters: [(name: String, parameter: Parameter)] { models.trainableParameters }

    public var microBatchesPerEpoch: Int { schedule.batchesPerEpoch }

    public func loss(microBatch index: Int, shard: Shard) throws -> MicroBatchLoss {
        models.adapters?.reseedDropout(microBatch: index)
        let batch = schedule.batch(index)
        let rows = shard.part(of: batch)
        let logps = try logProbabilities(rows, set: 0)
        let tokens = logps.pairs.reduce(0) { $0 + $1.tokenCount }
        return MicroBatchLoss(loss: try loss.loss(logps.values), tokens: tokens, metrics: loss.metrics(logps.values),
                              share: Double(rows.count) / Double(batch.count))
    }

    /// Held-out loss and TRL's metrics over every held-out pair, named `eval_loss`, `eval_rewards/accuracies`, ….
    public func evaluate() throws -> [String: Double] {
        guard !eval.isEmpty else { return [:] }
        var totals: [String: Double] = [:]
        for start in stride(from: 0, to: eval.count, by: batchSize) {
            let rows = Array(start..<min(eval.count, start + batchSize))
            let logps = try logProbabilities(rows, set: 1).values
            let weight = Double(rows.count) / Double(eval.count)
            var metrics = loss.metrics(logps)
            metrics["loss"] = Double(try loss.loss(logps).item)
            for (key, value) in metrics { totals["eval_" + key, default: 0] += value * weight }
        }
        return totals
    }

    /// Pairs `rows` of the training (set 0) or held-out (set 1) data: the policy's log-probabilities (one forward
    /// over 2 × rows) and the reference's.
    private func logProbabilities(_ rows: [Int], set: Int) throws -> (values: PreferenceLogProbabilities, pairs: [TokenizedPreference]) {
        let pairs = rows.map { set == 0 ? train[$0] : eval[$0] }
        let (prompts, completions) = Self.completions(pairs)
        let batch = RolloutBatch(queries: prompts, responses: completions, padID: padID)
        let sequences = try models.policy.sequenceLogProbabilities(batch)
        let referenceValues = try reference.values(set: set, examples: rows, prompts: prompts, completions: completions)
        let n = pairs.count
        return (PreferenceLogProbabilities(
            policyChosen: try sequences.slice(axis: 0, 0..<n), policyRejected: try sequences.slice(axis: 0, n..<(2 * n)),
            referenceChosen: Array(referenceValues[0..<n]), referenceRejected: Array(referenceValues[n...]),
            chosenLengths: pairs.map(\.chosen.count), rejectedLengths: pairs.map(\.rejected.count),
            preferences: pairs.map { Float($0.preference) }), pairs)
    }

    /// Every pair as two rows, chosen rows first: prompts and completions.
    static func completions(_ pairs: [TokenizedPreference]) -> (prompts: [[Int]], completions: [[Int]]) {
        (pairs.map(\.prompt) + pairs.map(\.prompt), pairs.map(\.chosen) + pairs.map(\.rejected))
    }

    public func saveModel(to directory: URL) throws { try models.saveCheckpoint(to: directory) }

    public func loadModel(from directory: URL) throws { try models.restoreCheckpoint(from: directory) }
}

/// The reference's log-probabilities of DPO's and KTO's rows: every example is two (prompt, completion) rows, a data
/// set laid out as all examples' first rows, then all their second rows. Precomputed once for every row of each
/// set, or computed for each batch from the reference policy.
struct ReferenceLogProbabilities {
    private let reference: ReferencePolicy?
    private let precomputed: [[Float]]
    private let padID: Int

    /// `sets`: each data set's rows (prompts and completions), scored now when `precompute` is set.
    init(_ reference: ReferencePolicy, precompute: Bool, sets: [(prompts: [[Int]], completions: [[Int]])], batchSize: Int, padID: Int) throws {
        self.padID = padID
        if precompute {
            precomputed = try sets.map { try reference.sequenceLogProbabilities(prompts: $0.prompts, completions: $0.completions,
                                                                               batchSize: batchSize, padID: padID) }
            self.reference = nil
        } else {
            (precomputed, self.reference) = ([], reference)
        }
    }

    /// log π_ref of the given examples' rows (first rows, then second rows) in data set `set`; the rows' prompts and
    /// completions, in that order, score them on the fly.
    func values(set: Int, examples: [Int], prompts: [[Int]], completions: [[Int]]) throws -> [Float] {
        guard let reference else {
            let half = precomputed[set].count / 2
            return (examples + examples.map { $0 + half }).map { precomputed[set][$0] }
        }
        return try reference { try $0.sequenceLogProbabilities(RolloutBatch(queries: prompts, responses: completions, padID: padID)) }.scalars
    }
}
