import Data
import Foundation
import Models
import NN
import Tensor
import Tokenizer

/// Supervised fine-tuning (and pretraining): mean next-token cross-entropy over the loss-bearing tokens
/// of each batch, right-padded with attention masks. An encoder-decoder model (T5) reads each example's prompt
/// as its input and is trained on the completion as its target (transformers' seq2seq loss).
public final class SFTTrainer: TrainingTask {
    public let name = "sft"
    public let model: any LanguageModel
    public let train: [TokenizedExample]
    public let eval: [TokenizedExample]
    public let padID: Int
    public let batchSize: Int
    private let schedule: BatchSchedule
    /// Copied next to every saved model (tokenizer.json and friends).
    private let tokenizerDirectory: URL?
    /// With LoRA: the adapters trained instead of the frozen model, saved and restored in PEFT's layout.
    public let adapters: LoRAAdapters?

    public init(model: any LanguageModel, train: [TokenizedExample], eval: [TokenizedExample], padID: Int,
                config: TrainingConfig, tokenizerDirectory: URL?, adapters: LoRAAdapters? = nil) {
        (self.model, self.train, self.eval, self.padID, self.tokenizerDirectory) = (model, train, eval, padID, tokenizerDirectory)
        self.adapters = adapters
        batchSize = config.batchSize
        schedule = BatchSchedule(exampleCount: train.count, batchSize: config.batchSize, seed: config.seed, shuffle: config.shuffle)
    }

    public var trainableParameters: [(name: String, parameter: Parameter)] { Alignment.trainableParameters(of: model, adapters: adapters) }

    public var microBatchesPerEpoch: Int { schedule.batchesPerEpoch }

    public func loss(microBatch index: Int, shard: Shard) throws -> MicroBatchLoss {
        let batch = schedule.batch(index).map { train[$0] }
        let examples = shard.part(of: batch)
        adapters?.reseedDropout(microBatch: index)
        return MicroBatchLoss(loss: try loss(examples), tokens: Batch(examples, padID: padID).realTokens,
                              share: Double(lossTokens(examples)) / Double(max(1, lossTokens(batch))))
    }

    /// The tokens `examples`' mean loss is taken over: the labelled next-token targets of a decoder, the target
    /// sequence of an encoder-decoder.
    private func lossTokens(_ examples: [TokenizedExample]) -> Int {
        let ignored = TokenizedExample.ignoredLabel
        guard model is any CausalLanguageModel else {
            return examples.reduce(0) { $0 + $1.ids.count - ($1.labels.firstIndex { $0 != ignored } ?? $1.ids.count) }
        }
        return examples.reduce(0) { $0 + $1.labels.dropFirst().filter { $0 != ignored }.count }
    }

    /// Token-weighted mean loss over the held-out examples.
    public func evaluate() throws -> [String: Double] {
        guard !eval.isEmpty else { return [:] }
        var total = 0.0, tokens = 0
        for start in stride(from: 0, to: eval.count, by: batchSize) {
            let examples = Array(eval[start..<min(eval.count, start + batchSize)])
            let trained = examples.map(\.trainedTokens).reduce(0, +)
            guard trained > 0 else { continue }
            total += Double(try loss(examples).item) * Double(trained)
            tokens += trained
        }
        let mean = total / Double(max(tokens, 1))
        return ["eval_loss": mean, "eval_perplexity": Foundation.exp(mean)]
    }

    /// The mean cross-entropy of `examples`' loss-bearing tokens.
    func loss(_ examples: [TokenizedExample]) throws -> Tensor {
        guard let causal = model as? any CausalLanguageModel else { return try Self.sequenceToSequenceLoss(model, examples, padID: padID) }
        return try Self.loss(causal, Batch(examples, padID: padID))
    }

    /// An encoder-decoder model: the tokens before the first loss-bearing one are the input, the rest the target.
    static func sequenceToSequenceLoss(_ model: any LanguageModel, _ examples: [TokenizedExample], padID: Int) throws -> Tensor {
        let split = try examples.map { example -> (input: [Int], target: [Int]) in
            guard let start = example.labels.firstIndex(where: { $0 != TokenizedExample.ignoredLabel }), start > 0 else {
                throw JobError("an encoder-decoder example needs both an input and a target")
            }
            return (Array(example.ids[..<start]), Array(example.ids[start...]))
        }
        let batch = RolloutBatch(queries: split.map(\.input), responses: split.map(\.target), padID: padID)
        let tokens = split.map(\.target.count).reduce(0, +)
        return try model.responseLogProbabilities(batch).sum() * (-1 / Float(tokens))
    }

    static func loss(_ model: any CausalLanguageModel, _ batch: Batch) throws -> Tensor {
        let context = AttentionContext(positions: (0..<(batch.size * batch.length)).map { $0 % batch.length },
                                       keyMask: batch.isPadded ? batch.keyMask : nil)
        let logits = try model.logits(batch.ids, batch: batch.size, length: batch.length, context: context)
        return try logits.crossEntropy(targets: batch.targets)
    }

    public func saveModel(to directory: URL) throws {
        try PolicyCheckpoint.save(model, adapters: adapters, to: directory)
        if let tokenizerDirectory { try ModelDirectory.copyTokenizerFiles(from: tokenizerDirectory, to: directory) }
    }

    public func loadModel(from directory: URL) throws { try PolicyCheckpoint.restore(model, adapters: adapters, from: directory) }
}

/// Turning demonstrations into training and held-out examples.
public enum SFTData {
    public struct Prepared: Sendable {
        public var train: [TokenizedExample]
        public var eval: [TokenizedExample]
        /// Examples cut at `maxLength`.
        public var truncated: Int
    }

    /// Tokenizes, truncates to `maxLength`, holds out `evalFraction` of the examples (a seeded choice), and
    /// packs the training examples into `maxLength` sequences when `packing` is set.
    public static func prepare(_ demonstrations: [Demonstration], tokenizer: Tokenizer, maxLength: Int,
                               evalFraction: Double, seed: UInt64, packing: Bool) throws -> Prepared {
        var truncated = 0
        let examples = try demonstrations.map { demonstration -> TokenizedExample in
            let example = try demonstration.tokenized(with: tokenizer)
            if example.ids.count > maxLength { truncated += 1 }
            return example.truncated(to: maxLength)
        }
        var (train, eval) = heldOut(examples, fraction: evalFraction, seed: seed)
        if packing { train = packed(train, length: maxLength) }
        return Prepared(train: train, eval: eval, truncated: truncated)
    }
}

/// Plain text for pretraining: the token stream cut into `length`-token sequences, every token trained on.
public enum PretrainingData {
    /// The whole text is one document: encoded with the tokenizer's special tokens, followed by EOS, and cut
    /// into sequences of exactly `length` tokens (the remainder is dropped).
    public static func sequences(text: String, tokenizer: Tokenizer, length: Int) -> [TokenizedExample] {
        var stream = tokenizer.encode(text)
        if let eos = tokenizer.eosTokenID { stream.append(eos) }
        return packed([TokenizedExample(ids: stream, labels: stream)], length: length)
    }
}
