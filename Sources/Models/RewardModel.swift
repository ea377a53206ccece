import Foundation
import NN
import Tensor

/// A language-model backbone with a linear `score` head read at each sequence's last token: the layout of
/// transformers' `GPT2ForSequenceClassification` / `LlamaForSequenceClassification` (`num_labels` 1 for a
/// reward model, 2 for a classifier whose positive-class logit is the reward).
public final class RewardModel: SequenceClassifier, Module {
    public let backbone: any CausalLanguageModel
    /// `score.weight`, [labels, hidden], no bias (as transformers builds it).
    public let score: Linear
    /// The logit used as the reward.
    public let positiveLabel: Int
    /// Subtracted from the logit (`rlhf_reward_offset` in config.json), so trained rewards have mean 0.
    public var offset: Float
    /// Sequences end at their last real token that is not this id (transformers' rule for finding it).
    public var padTokenID: Int?

    public init(backbone: any CausalLanguageModel, score: Linear, positiveLabel: Int, offset: Float, padTokenID: Int?) {
        (self.backbone, self.score, self.positiveLabel, self.offset, self.padTokenID) = (backbone, score, positiveLabel, offset, padTokenID)
    }

    public var labelCount: Int { score.weight.value.shape[0] }

    public var labelNames: [String] {
        (try? EncoderClassifier.labelNames(backbone.config.fields, path: "")).flatMap { $0.count == labelCount ? $0 : nil }
            ?? (0..<labelCount).map { "LABEL_\($0)" }
    }

    public var maxTokens: Int? { backbone.maxPositions }

    /// Every label's logit [B, labels] at each sequence's last real token.
    public func logits(_ ids: [Int], batch: Int, length: Int, keyMask: [Float]) throws -> Tensor {
        let context = AttentionContext(positions: (0..<(batch * length)).map { $0 % length },
                                       keyMask: keyMask.contains(0) ? keyMask : nil)
        let hidden = try backbone.hiddenStates(ids, batch: batch, length: length, context: context)
        let rows = try hidden.reshaped([batch * length, hidden.shape[2]])
        let last = try (0..<batch).map { row in
            let positions = (0..<length).filter { keyMask[row * length + $0] != 0 && ids[row * length + $0] != padTokenID }
            guard let position = positions.last else { throw ModelError.generation("sequence \(row) has no token to read a reward at") }
            return row * length + position
        }
        return try score(try Tensor.embedding(rows, ids: last, shape: [batch]))
    }

    /// Logits [sequences, labels] of packed sequences, in the order they were packed: each read where `logits` reads
    /// it unpacked, at the sequence's last token that is not padding.
    public func logits(_ packed: PackedSequences) throws -> Tensor {
        let hidden = try backbone.hiddenStates(packed.ids, batch: packed.rows, length: packed.length, context: packed.context)
        let rows = try hidden.reshaped([packed.rows * packed.length, hidden.shape[2]])
        let last = try packed.sequences.enumerated().map { index, sequence in
            guard let token = sequence.lastIndex(where: { $0 != padTokenID }) else {
                throw ModelError.generation("sequence \(index) has no token to read a reward at")
            }
            return packed.index(ofToken: token, inSequence: index)
        }
        return try score(try Tensor.embedding(rows, ids: last, shape: [last.count]))
    }

    /// The rewards of packed sequences, [sequences], recorded for backward.
    public func rewards(_ packed: PackedSequences) throws -> Tensor {
        let logits = try logits(packed)
        return try logits.gather(lastAxis: Array(repeating: positiveLabel, count: logits.shape[0])) - offset
    }

    public var namedParameters: [(name: String, parameter: Parameter)] {
        backbone.namedParameters + [("score.weight", score.weight)]
    }
}

extension ModelDirectory {
    /// A trained reward model or classifier: a `*ForSequenceClassification` directory with its `score` head. A
    /// directory without one (e.g. a causal LM given by mistake) is refused: a fresh head would score at random.
    public static func loadRewardModel(_ directory: URL) throws -> RewardModel {
        try rewardModel(directory, newHeadSeed: nil)
    }

    /// A reward model to train: the `*ForSequenceClassification` directory's head when it has one, else a new head
    /// on the causal LM's backbone (e.g. the SFT model), initialised N(0, 1/√(d+1)) as InstructGPT does.
    public static func rewardModelToTrain(_ directory: URL, seed: UInt64) throws -> RewardModel {
        try rewardModel(directory, newHeadSeed: seed)
    }

    private static func rewardModel(_ directory: URL, newHeadSeed: UInt64?) throws -> RewardModel {
        let config = try ModelConfig.load(directory: directory)
        let checkpoint = try SafetensorsCheckpoint(directory: directory)
        let isClassifier = checkpoint.names.contains("score.weight")
        guard isClassifier || newHeadSeed != nil else {
            throw ModelError.checkpoint(path: directory.path, "no reward head (score.weight): not a reward model; train one with `rlhf reward train`")
        }
        var initializer = WeightInitializer.zeros
        let backbone = try config.makeModel(initializer: &initializer, languageModelHead: false)
        let width = backbone.hiddenWidth
        let labels = isClassifier ? try checkpoint.shape(of: "score.weight")[0] : 1
        var scoreInitializer = WeightInitializer.random(seed: newHeadSeed ?? 0)
        let score = Linear(width, labels, bias: false, std: 1 / Float(width + 1).squareRoot(), initializer: &scoreInitializer)
        if isClassifier { try score.weight.assign(try checkpoint.tensor("score.weight")) }
        try assignWeights(of: backbone, from: checkpoint, path: directory.path, ignoring: ["score.weight"])
        return RewardModel(backbone: backbone, score: score, positiveLabel: labels == 2 ? 1 : 0,
                           offset: config.rewardOffset, padTokenID: config.padTokenID)
    }

    /// Writes the reward model as a `*ForSequenceClassification` checkpoint transformers loads unchanged.
    public static func save(_ model: RewardModel, to directory: URL, padTokenID: Int?) throws {
        var fields = model.backbone.config.classificationFields(labels: model.labelCount)
        fields["rlhf_reward_offset"] = .number(Double(model.offset))
        if let padTokenID { fields["pad_token_id"] = .number(Double(padTokenID)) }
        try save(model.namedParameters, fields: fields, to: directory)
    }
}

extension ModelConfig {
    /// config.json fields of the sequence-classification class of this architecture with `labels` outputs.
    func classificationFields(labels: Int) -> [String: JSONValue] {
        var fields = self.fields
        let family: String
        switch architecture {
        case .gpt2: family = "GPT2"
        case .llama: family = ["qwen2": "Qwen2", "mistral": "Mistral"][modelType] ?? "Llama"
        }
        fields["architectures"] = .array([.string("\(family)ForSequenceClassification")])
        fields["id2label"] = .object(Dictionary(uniqueKeysWithValues: (0..<labels).map { ("\($0)", JSONValue.string("LABEL_\($0)")) }))
        fields["label2id"] = .object(Dictionary(uniqueKeysWithValues: (0..<labels).map { ("LABEL_\($0)", JSONValue.number(Double($0))) }))
        return fields
    }

    var rewardOffset: Float {
        if case .number(let value)? = fields["rlhf_reward_offset"] { return Float(value) }
        return 0
    }

    var padTokenID: Int? {
        if case .number(let value)? = fields["pad_token_id"] { return Int(value) }
        return nil
    }
}

extension ModelDirectory {
    /// Replaces a reward model's weights with those saved in `directory` (a training checkpoint).
    public static func loadWeights(into model: RewardModel, from directory: URL) throws {
        let checkpoint = try SafetensorsCheckpoint(directory: directory)
        try assignWeights(of: model.backbone, from: checkpoint, path: directory.path, ignoring: ["score.weight"])
        try model.score.weight.assign(try checkpoint.tensor("score.weight"))
        model.offset = try ModelConfig.load(directory: directory).rewardOffset
    }
}
