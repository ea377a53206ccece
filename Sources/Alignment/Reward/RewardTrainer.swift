import Data
import Foundation
import Models
import NN
import Tensor
import Tokenizer

/// Step 2 of RLHF: a reward model trained on preferences with −log σ(r_chosen − r_rejected − margin) (binary
/// cross-entropy against the label's probability for soft labels, e.g. an AI labeler's), or as a
/// binary classifier on labelled completions (−log σ(±r)). All pairs of a prompt share a batch and every
/// distinct completion is scored once (InstructGPT's practice), however many pairs it appears in. The model is a
/// decoder's reward model or an encoder classifier alike (`RewardClassifier`).
public final class RewardTrainer: TrainingTask {
    public let name = "reward"
    public let model: any RewardClassifier
    public let train: [RewardGroup]
    public let eval: [RewardGroup]
    private let schedule: BatchSchedule
    private let batchSize: Int
    private let padID: Int
    private let tokenizerDirectory: URL?
    /// With LoRA: adapters on the frozen backbone, trained with the head (`headParameters`, kept trainable).
    public let adapters: LoRAAdapters?

    public init(model: any RewardClassifier, train: [RewardGroup], eval: [RewardGroup], padID: Int, config: TrainingConfig,
                tokenizerDirectory: URL?, adapters: LoRAAdapters? = nil) {
        (self.model, self.train, self.eval, self.padID, self.tokenizerDirectory) = (model, train, eval, padID, tokenizerDirectory)
        self.adapters = adapters
        if adapters != nil { for (_, parameter) in model.headParameters { parameter.isTrainable = true } }
        batchSize = config.batchSize
        schedule = BatchSchedule(exampleCount: train.count, batchSize: config.batchSize, seed: config.seed, shuffle: config.shuffle)
    }

    public var trainableParameters: [(name: String, parameter: Parameter)] { Alignment.trainableParameters(of: model, adapters: adapters) }

    public var microBatchesPerEpoch: Int { schedule.batchesPerEpoch }

    public func loss(microBatch index: Int, shard: Shard) throws -> MicroBatchLoss {
        adapters?.reseedDropout(microBatch: index)
        let batch = schedule.batch(index).map { train[$0] }
        let groups = shard.part(of: batch)
        let (loss, correct, tokens) = try evaluate(groups)
        let comparisons = groups.reduce(0) { $0 + $1.comparisons.count }
        return MicroBatchLoss(loss: loss, tokens: tokens, metrics: ["accuracy": correct / Double(max(comparisons, 1))],
                              share: Double(comparisons) / Double(max(1, batch.reduce(0) { $0 + $1.comparisons.count })))
    }

    /// Held-out loss and accuracy (chosen scored above rejected, or the label's sign right).
    public func evaluate() throws -> [String: Double] {
        guard !eval.isEmpty else { return [:] }
        var loss = 0.0, correct = 0.0, count = 0.0
        for start in stride(from: 0, to: eval.count, by: batchSize) {
            let groups = Array(eval[start..<min(eval.count, start + batchSize)])
            let (batchLoss, hits, _) = try evaluate(groups)
            let comparisons = Double(groups.reduce(0) { $0 + $1.comparisons.count })
            loss += Double(try batchLoss.item) * comparisons
            correct += hits
            count += comparisons
        }
        return ["eval_loss": loss / count, "eval_accuracy": correct / count]
    }

    /// Mean loss over the groups' comparisons, how many of them the model gets right, and tokens processed.
    func evaluate(_ groups: [RewardGroup]) throws -> (loss: Tensor, correct: Double, tokens: Int) {
        let sequences = groups.flatMap(\.sequences)
        // A decoder reads each group's shared prompt once (its completions packed after it); an encoder reads every
        // token in both directions, so its sequences stay apart.
        let rewards = try (model as? RewardModel).map { try $0.rewards(PackedSequences(groups: groups.map { $0.sequences.map(\.ids) }, padID: padID)) }
            ?? model.rewards(Batch(sequences, padID: padID))
        let tokens = sequences.reduce(0) { $0 + $1.ids.count }
        let table = try rewards.reshaped([sequences.count, 1])
        var first: [Int] = [], second: [Int] = [], margins: [Float] = [], signs: [Float] = [], preferences: [Float] = []
        var base = 0
        for group in groups {
            for comparison in group.comparisons {
                first.append(base + comparison.better)
                second.append(base + (comparison.worse ?? comparison.better))
                margins.append(Float(comparison.margin))
                preferences.append(Float(comparison.preference))
                signs.append(comparison.worse == nil ? (comparison.margin > 0 ? 1 : -1) : 1)
            }
            base += group.sequences.count
        }
        let isPairwise = groups.first?.comparisons.first?.worse != nil
        let count = first.count
        let logits: Tensor
        if isPairwise {
            let better = try Tensor.embedding(table, ids: first, shape: [count])
            let worse = try Tensor.embedding(table, ids: second, shape: [count])
            logits = try better - worse - Tensor(shape: [count, 1], scalars: margins)
        } else {
            logits = try Tensor.embedding(table, ids: first, shape: [count]) * Tensor(shape: [count, 1], scalars: signs)
        }
        // Right when the chosen completion scores higher (whatever the margin), or the label's sign is matched.
        let correct = zip(logits.scalars, isPairwise ? margins : [Float](repeating: 0, count: count)).filter { $0 + $1 > 0 }.count
        guard preferences.contains(where: { $0 != 1 }) else { return (-logits.logSigmoid().mean(), Double(correct), tokens) }
        // A soft label p: −[p·log σ(d) + (1−p)·log σ(−d)] = −log σ(d) + (1−p)·d.
        let soft = try logits.logSigmoid().negated() + logits * Tensor(shape: [count, 1], scalars: preferences.map { 1 - $0 })
        return (soft.mean(), Double(correct), tokens)
    }

    /// Rescales the head so rewards over the training completions have mean 0 and standard deviation 1.
    public func normalizeRewards() throws {
        let rewards = try stride(from: 0, to: train.count, by: batchSize).flatMap { start in
            try model.rewards(of: train[start..<min(train.count, start + batchSize)].flatMap(\.sequences), padID: padID)
        }
        let mean = rewards.reduce(0, +) / Float(rewards.count)
        let std = (rewards.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(rewards.count)).squareRoot()
        guard std > 0 else { return }
        let raw = mean + model.offset  // rewards already had the old offset subtracted
        try model.scaleLogits(by: 1 / std)
        model.offset = raw / std
    }

    /// The reward model (frozen base and head) and, with LoRA, the unmerged adapters next to it, so a checkpoint
    /// resumes exactly; `mergeAdapters()` folds them in for the final model.
    public func saveModel(to directory: URL) throws {
        try model.save(to: directory)
        if let adapters { try PEFTAdapter.save(adapters, to: directory) }
        if let tokenizerDirectory { try ModelDirectory.copyTokenizerFiles(from: tokenizerDirectory, to: directory) }
    }

    public func loadModel(from directory: URL) throws {
        try model.loadWeights(from: directory)
        if let adapters { try PEFTAdapter.loadWeights(into: adapters, from: directory) }
    }

    /// Folds trained adapters into the backbone, leaving a plain reward model to save.
    public func mergeAdapters() throws {
        try adapters?.merge()
    }
}

extension RewardClassifier {
    /// The rewards of a padded batch, [batch size], recorded for backward.
    public func rewards(_ batch: Batch) throws -> Tensor {
        try rewards(batch.ids, batch: batch.size, length: batch.length, keyMask: batch.keyMask)
    }

    /// The rewards of `sequences`, scored as one batch padded with `padID`, without recording.
    public func rewards(of sequences: [TokenizedExample], padID: Int) throws -> [Float] {
        try withNoGrad { try rewards(Batch(sequences, padID: padID)).scalars }
    }
}
