import Data
import Foundation
import Models
import Tokenizer

/// What a classifier reward reads from the chosen label.
public enum ClassifierRewardTransform: String, Codable, Sendable, CaseIterable {
    /// The label's logit (the seed lab's "not hate" logit).
    case logit
    /// Its probability after a softmax over the labels.
    case prob
}

/// A sequence classifier's label as a reward: each response is decoded with the policy's tokenizer and its text
/// scored with the classifier's own (so any classifier works with any policy). The response alone is judged, as a
/// toxicity classifier judges a reply; the prompt is not part of its input. A logit read as a reward has the
/// classifier's `rlhf_reward_offset` (set by `rlhf reward train`'s normalisation) subtracted, as reward models do.
public struct ClassifierScorer: ResponseScorer {
    public let classifier: TextClassifier
    public let policyTokenizer: Tokenizer
    public let label: Int
    public let transform: ClassifierRewardTransform

    /// Loads the classifier in `directory` (a path or Hub id); `label` is an `id2label` name or an index.
    public init(directory: String, label: String, transform: ClassifierRewardTransform, policyTokenizer: Tokenizer) throws {
        classifier = try TextClassifier(directory: try ModelDirectory.locate(directory))
        self.label = try classifier.model.labelIndex(label)
        (self.transform, self.policyTokenizer) = (transform, policyTokenizer)
    }

    /// The texts a classifier reads for responses given as policy token ids.
    public func texts(_ responses: [[Int]]) -> [String] {
        responses.map { policyTokenizer.decode($0, skipSpecialTokens: true) }
    }

    public func scores(queries: [[Int]], responses: [[Int]]) throws -> [Float] {
        try classifier.classify(texts(responses)).map { transform == .logit ? $0.logits[label] - offset : $0.probs[label] }
    }

    /// A reward model's `rlhf_reward_offset` when `label` is its reward label (0 otherwise): the logit as its reward.
    var offset: Float {
        guard let model = classifier.model as? any RewardClassifier, model.positiveLabel == label else { return 0 }
        return model.offset
    }
}

extension ClassifierScorer {
    /// The scorer of `--reward-classifier DIR --reward-label NAME`, nil without a classifier; a label without a
    /// classifier, or the reverse, is one line.
    static func reward(classifier: String?, label: String?, transform: ClassifierRewardTransform,
                       policyTokenizer: Tokenizer) throws -> ClassifierScorer? {
        try validate(classifier: classifier, label: label)
        guard let classifier, let label else { return nil }
        return try ClassifierScorer(directory: classifier, label: label, transform: transform, policyTokenizer: policyTokenizer)
    }

    static func validate(classifier: String?, label: String?) throws {
        if classifier != nil, label == nil { throw JobError("reward_classifier needs reward_label (the label whose score is the reward)") }
        if classifier == nil, label != nil { throw JobError("reward_label is set without reward_classifier") }
    }
}
