import Data
import Foundation
import Models
import Tokenizer

/// How a reward model reads a prompt and a completion.
public enum RewardLayout: Sendable {
    /// Decoders, which read the last token: the prompt's ids (with the tokenizer's special tokens), then the
    /// completion's and EOS, tokenized as DPO's pairs; cut to `maxLength` ids, the completion losing its end.
    case promptThenCompletion
    /// Encoders, which read the first token: prompt + completion joined as one text (no separator: completions
    /// start with their own space) through the tokenizer with its special tokens — RoBERTa's `<s> … </s>`,
    /// BERT's `[CLS] … [SEP]` — as `tokenizer(prompt + completion)` and TRL's RewardTrainer read it; the text
    /// is cut so at most `maxLength` ids result, the special tokens kept (`truncation=True`).
    case oneText

    /// How `model` reads its input: `oneText` for an encoder classifier, else `promptThenCompletion`.
    public static func of(_ model: any RewardClassifier) -> RewardLayout { model is EncoderClassifier ? .oneText : .promptThenCompletion }

    /// The ids a reward model reads for `completion` after `prompt`.
    public func ids(_ prompt: String, _ completion: String, tokenizer: Tokenizer, maxLength: Int) throws -> [Int] {
        switch self {
        case .oneText: return tokenizer.encode(prompt + completion, maxTokens: maxLength)
        case .promptThenCompletion:
            let (promptIDs, completionIDs) = try LabeledCompletion(prompt: prompt, completion: completion, label: true).tokenized(with: tokenizer)
            return Array((promptIDs + completionIDs).prefix(maxLength))
        }
    }

    /// The ids of a pair's two sequences; conversations (either layout) are rendered with the chat template, the
    /// prompt's turns then the reply's, as for decoders.
    func ids(_ pair: PreferencePair, tokenizer: Tokenizer, maxLength: Int) throws -> (chosen: [Int], rejected: [Int]) {
        guard self == .promptThenCompletion || pair.messages != nil else {
            return (try ids(pair.prompt, pair.chosen, tokenizer: tokenizer, maxLength: maxLength),
                    try ids(pair.prompt, pair.rejected, tokenizer: tokenizer, maxLength: maxLength))
        }
        let tokens = try pair.tokenized(with: tokenizer)
        return (Array((tokens.prompt + tokens.chosen).prefix(maxLength)), Array((tokens.prompt + tokens.rejected).prefix(maxLength)))
    }
}

/// The completions of one prompt, tokenized once each, and the comparisons between them.
public struct RewardGroup: Sendable {
    public struct Comparison: Sendable {
        /// Index of the preferred completion (or the single completion of a labelled example).
        public var better: Int
        /// Index of the rejected completion; nil for a labelled example.
        public var worse: Int?
        /// The required reward gap for a pair; for a labelled example, +1 (good) or −1 (bad).
        public var margin: Double
        /// P(better is better than worse): 1 for a hard label, an AI labeler's probability for a soft one.
        public var preference: Double

        public init(better: Int, worse: Int?, margin: Double, preference: Double = 1) {
            (self.better, self.worse, self.margin, self.preference) = (better, worse, margin, preference)
        }
    }

    public var sequences: [TokenizedExample]
    public var comparisons: [Comparison]

    public init(sequences: [TokenizedExample], comparisons: [Comparison]) { (self.sequences, self.comparisons) = (sequences, comparisons) }

    /// One sequence as `input` reads it (by default a decoder's: prompt with special tokens + completion + EOS).
    public static func sequence(_ prompt: String, _ completion: String, tokenizer: Tokenizer, maxLength: Int,
                                input: RewardLayout = .promptThenCompletion) throws -> TokenizedExample {
        let ids = try input.ids(prompt, completion, tokenizer: tokenizer, maxLength: maxLength)
        return TokenizedExample(ids: ids, labels: ids)
    }

    /// Runs of consecutive pairs with the same prompt, each one group: one labeled item's pairs, as `rlhf feedback
    /// export` writes them. A prompt asked again later starts a new group, so a group stays the size of one item
    /// however often a prompt recurs (and a batch's memory with it).
    public static func groups(_ pairs: [PreferencePair], tokenizer: Tokenizer, maxLength: Int,
                              input: RewardLayout = .promptThenCompletion) throws -> [RewardGroup] {
        var runs: [[PreferencePair]] = []
        for pair in pairs {
            if let last = runs.last?.last, last.prompt == pair.prompt, last.messages?.prompt == pair.messages?.prompt {
                runs[runs.count - 1].append(pair)
            } else {
                runs.append([pair])
            }
        }
        return try runs.map { run in
            var group = RewardGroup(sequences: [], comparisons: [])
            var index: [[Int]: Int] = [:]
            func position(_ ids: [Int]) -> Int {
                if let known = index[ids] { return known }
                index[ids] = group.sequences.count
                group.sequences.append(TokenizedExample(ids: ids, labels: ids))
                return group.sequences.count - 1
            }
            for pair in run {
                let (chosen, rejected) = try input.ids(pair, tokenizer: tokenizer, maxLength: maxLength)
                group.comparisons.append(Comparison(better: position(chosen), worse: position(rejected), margin: pair.margin,
                                                    preference: pair.preference))
            }
            return group
        }
    }

    /// One group per labelled completion.
    public static func groups(_ examples: [LabeledCompletion], tokenizer: Tokenizer, maxLength: Int,
                              input: RewardLayout = .promptThenCompletion) throws -> [RewardGroup] {
        try examples.map { example in
            RewardGroup(sequences: [try sequence(example.prompt, example.completion, tokenizer: tokenizer, maxLength: maxLength, input: input)],
                        comparisons: [Comparison(better: 0, worse: nil, margin: example.label ? 1 : -1)])
        }
    }
}
