import Foundation
import Models
import Tokenizer

/// One text's scores: a logit and a probability (softmax over the labels) per label.
public struct Classification: Codable, Sendable, Equatable {
    public var labels: [String]
    public var logits: [Float]
    public var probs: [Float]
}

/// A sequence classifier with its own tokenizer: texts in, scores per label out (`rlhf classify`, classifier
/// rewards, toxicity evaluation). Texts longer than the model's positions are cut, keeping the special tokens.
public final class TextClassifier {
    public let model: any SequenceClassifier
    public let tokenizer: Tokenizer
    public let batchSize: Int

    public init(model: any SequenceClassifier, tokenizer: Tokenizer, batchSize: Int = 16) {
        (self.model, self.tokenizer, self.batchSize) = (model, tokenizer, batchSize)
    }

    /// The classifier and tokenizer of a model directory (local or a Hub id already resolved to one).
    public convenience init(directory: URL, batchSize: Int = 16) throws {
        self.init(model: try ModelDirectory.loadClassifier(directory), tokenizer: try Tokenizer(directory: directory),
                  batchSize: batchSize)
    }

    public var labelNames: [String] { model.labelNames }

    /// The ids the classifier reads for `text`.
    public func encode(_ text: String) -> [Int] {
        tokenizer.encode(text, maxTokens: model.maxTokens ?? Int.max)
    }

    public func classify(_ texts: [String]) throws -> [Classification] {
        let logits = try model.classify(texts.map(encode), batchSize: batchSize, padID: tokenizer.paddingID)
        return logits.map { Classification(labels: model.labelNames, logits: $0, probs: probabilities($0)) }
    }
}
