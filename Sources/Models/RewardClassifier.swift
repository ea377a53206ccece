import Foundation
import NN
import Tensor

/// A sequence classifier one of whose logits, less an offset, is a reward: a decoder's `RewardModel` (last token) or
/// an encoder's `EncoderClassifier` (first token). `rlhf reward train` trains either through this.
public protocol RewardClassifier: SequenceClassifier, Module {
    /// The logit read as the reward: the only one of a 1-label head, the positive class (label 1) of a 2-label one.
    var positiveLabel: Int { get }
    /// Subtracted from that logit (`rlhf_reward_offset` in config.json), so normalised rewards have mean 0.
    var offset: Float { get set }
    /// The head's last linear layer, whose rows are the logits (normalisation rescales it).
    var outputLayer: Linear { get }
    /// What LoRA adapts: a decoder's backbone, an encoder classifier's encoder (its head is not listed).
    var adaptableBase: any AdaptableModule { get }
    /// PEFT's default LoRA targets for the family.
    var defaultLoRATargets: [String] { get }
    /// Writes a transformers `*ForSequenceClassification` directory, the offset in config.json.
    func save(to directory: URL) throws
    /// Replaces the weights and the offset with those saved in `directory` (a training checkpoint).
    func loadWeights(from directory: URL) throws
}

extension RewardClassifier {
    /// Rewards [B] for `ids` laid out [B, T] with `keyMask` (1 real, 0 padding), recorded for backward.
    public func rewards(_ ids: [Int], batch: Int, length: Int, keyMask: [Float]) throws -> Tensor {
        try logits(ids, batch: batch, length: length, keyMask: keyMask).gather(lastAxis: Array(repeating: positiveLabel, count: batch)) - offset
    }

    /// Multiplies every logit by `factor` (the output layer's weight and bias), without recording.
    public func scaleLogits(by factor: Float) throws {
        try withNoGrad {
            for parameter in outputLayer.parameters { try parameter.assign(parameter.value * factor) }
        }
    }

    /// The head layers that train beside LoRA adapters: modules named `classifier` or `score`, PEFT's
    /// `modules_to_save` for sequence classification (RoBERTa's whole head; BERT's and DeBERTa's pooler stay frozen).
    public var headParameters: [(name: String, parameter: Parameter)] {
        namedParameters.filter { $0.name.hasPrefix("classifier.") || $0.name.hasPrefix("score.") }
    }
}

extension RewardModel: RewardClassifier {
    public var outputLayer: Linear { score }
    public var adaptableBase: any AdaptableModule { backbone }
    public var defaultLoRATargets: [String] { backbone.defaultLoRATargets }

    public func save(to directory: URL) throws {
        try ModelDirectory.save(self, to: directory, padTokenID: padTokenID)
    }

    public func loadWeights(from directory: URL) throws {
        try ModelDirectory.loadWeights(into: self, from: directory)
    }
}

extension ModelDirectory {
    /// A trained reward model of either family: an encoder `*ForSequenceClassification` or a decoder's.
    public static func loadRewardClassifier(_ directory: URL) throws -> any RewardClassifier {
        try encoderConfig(directory) != nil ? try loadEncoderClassifier(directory) : try loadRewardModel(directory)
    }

    /// A reward model to train: `directory`'s classification head when it has one, else a new 1-label head on its
    /// backbone (a causal LM) or encoder (`BertModel`, `RobertaModel`, a masked LM, …). More than 2 labels is refused:
    /// a reward is one logit.
    public static func rewardClassifierToTrain(_ directory: URL, seed: UInt64) throws -> any RewardClassifier {
        let model: any RewardClassifier = try encoderConfig(directory) != nil
            ? try encoderClassifierToTrain(directory, seed: seed) : try rewardModelToTrain(directory, seed: seed)
        guard model.labelNames.count <= 2 else {
            throw ModelError.unsupported(path: directory.path, "a reward is one logit, and this classifier has \(model.labelNames.count) labels "
                                         + "(give a 1- or 2-label classifier, or a model without a head)")
        }
        return model
    }
}
