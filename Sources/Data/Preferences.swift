import Foundation
import Tokenizer

/// A preference: for `prompt`, `chosen` is better than `rejected` (by `margin`, 0 when not given), with probability
/// `preference` (1 for a hard label; an AI labeler's soft label, e.g. 0.8, otherwise).
public struct PreferencePair: Sendable, Equatable {
    public var prompt: String
    public var chosen: String
    public var rejected: String
    public var margin: Double
    /// P(chosen is better than rejected), in [0, 1].
    public var preference: Double = 1
    /// TRL's conversational rows keep their messages, rendered with the chat template when tokenized; `prompt`,
    /// `chosen` and `rejected` then hold the messages' contents joined, for display.
    public var messages: Messages?

    public struct Messages: Sendable, Equatable {
        public var prompt: [ChatMessage]
        public var chosen: [ChatMessage]
        public var rejected: [ChatMessage]
    }

    public init(prompt: String, chosen: String, rejected: String, margin: Double = 0, preference: Double = 1) {
        (self.prompt, self.chosen, self.rejected, self.margin, self.preference) = (prompt, chosen, rejected, margin, preference)
    }

    /// TRL's preference formats: `{"prompt", "chosen", "rejected", "margin"?, "preference"?}` with text (as `rlhf feedback export`
    /// writes them) or with lists of `{"role", "content"}` messages (conversational: the prompt's turns, then the
    /// replies'), or HH-RLHF `{"chosen", "rejected"}` full transcripts (the prompt is their common prefix, cut after
    /// the last "\n\nAssistant:" in it, so the completions start at the assistant's final turn). A bad line fails
    /// with `file:line`.
    public static func load(_ url: URL) throws -> [PreferencePair] {
        try JSONLines.records(url).map { record in
            let margin: Double
            switch record.object["margin"] {
            case nil, is NSNull: margin = 0
            case let number as NSNumber: margin = number.doubleValue
            default: throw record.error("field \"margin\" must be a number")
            }
            var pair = try pair(record, margin: margin)
            switch record.object["preference"] {
            case nil, is NSNull: break
            case let number as NSNumber where (0...1).contains(number.doubleValue): pair.preference = number.doubleValue
            default: throw record.error("field \"preference\" must be a probability, a number from 0 to 1")
            }
            return pair
        }
    }

    private static func pair(_ record: Record, margin: Double) throws -> PreferencePair {
        if record.object["chosen"] is [Any] || record.object["prompt"] is [Any] {
            let messages = Messages(prompt: try record.messages("prompt"), chosen: try record.messages("chosen"),
                                    rejected: try record.messages("rejected"))
            guard messages.chosen != messages.rejected else { throw record.error("\"chosen\" and \"rejected\" are the same") }
            let text = { (list: [ChatMessage]) in list.map(\.content).joined(separator: "\n") }
            var pair = PreferencePair(prompt: text(messages.prompt), chosen: text(messages.chosen), rejected: text(messages.rejected),
                                      margin: margin)
            pair.messages = messages
            return pair
        }
        let chosen = try record.string("chosen"), rejected = try record.string("rejected")
        if record.object["prompt"] != nil {
            return PreferencePair(prompt: try record.string("prompt", allowEmpty: true), chosen: chosen, rejected: rejected,
                                  margin: margin)
        }
        let (prompt, a, b) = try splitTranscripts(chosen, rejected, record: record)
        return PreferencePair(prompt: prompt, chosen: a, rejected: b, margin: margin)
    }

    static func splitTranscripts(_ chosen: String, _ rejected: String, record: Record) throws -> (String, String, String) {
        let common = zip(chosen.unicodeScalars, rejected.unicodeScalars).prefix { $0 == $1 }.count
        var prefix = String(String.UnicodeScalarView(chosen.unicodeScalars.prefix(common)))
        if let turn = prefix.range(of: "\n\nAssistant:", options: .backwards) { prefix = String(prefix[..<turn.upperBound]) }
        let a = String(chosen.dropFirst(prefix.count)), b = String(rejected.dropFirst(prefix.count))
        guard !a.isEmpty, !b.isEmpty, a != b else { throw record.error("\"chosen\" and \"rejected\" are the same transcript") }
        return (prefix, a, b)
    }

    /// The token ids of the prompt and of each completion, as TRL tokenizes preference data: text as the prompt
    /// (with the tokenizer's special tokens) and each completion (without) followed by EOS; conversations rendered
    /// with the chat template, the prompt with the generation prompt and each completion the rest of the rendered
    /// conversation (through its end-of-turn tokens).
    public func tokenized(with tokenizer: Tokenizer) throws -> TokenizedPreference {
        guard let messages else {
            return TokenizedPreference(prompt: tokenizer.encode(prompt), chosen: try tokenizer.encodeCompletion(chosen),
                                       rejected: try tokenizer.encodeCompletion(rejected), margin: margin, preference: preference)
        }
        let render = { (turns: [ChatMessage], generationPrompt: Bool) in
            tokenizer.encode(try tokenizer.applyChatTemplate(turns, addGenerationPrompt: generationPrompt), addSpecialTokens: false)
        }
        let prompt = try render(messages.prompt, true)
        let completion = { (reply: [ChatMessage]) throws -> [Int] in
            let whole = try render(messages.prompt + reply, false)
            guard whole.count > prompt.count, Array(whole.prefix(prompt.count)) == prompt else {
                throw TokenizerError("the chat template does not render the prompt as a prefix of the conversation, so the reply cannot be located")
            }
            return Array(whole.dropFirst(prompt.count))
        }
        return TokenizedPreference(prompt: prompt, chosen: try completion(messages.chosen), rejected: try completion(messages.rejected),
                                   margin: margin, preference: preference)
    }
}

/// A preference as token ids: the prompt's, and each completion's that follow it.
public struct TokenizedPreference: Sendable, Equatable {
    public var prompt: [Int]
    public var chosen: [Int]
    public var rejected: [Int]
    public var margin: Double
    /// P(chosen is better than rejected): 1 for a hard label.
    public var preference: Double

    public init(prompt: [Int], chosen: [Int], rejected: [Int], margin: Double = 0, preference: Double = 1) {
        (self.prompt, self.chosen, self.rejected, self.margin, self.preference) = (prompt, chosen, rejected, margin, preference)
    }

    /// Tokens a preference model reads: the prompt with each completion.
    public var tokenCount: Int { 2 * prompt.count + chosen.count + rejected.count }

    /// Cut as TRL's keep_start truncation cuts: prompt + completion to at most `maxLength` tokens, the completion
    /// losing its end; nil when the prompt alone leaves no room (TRL drops such examples).
    public func truncated(to maxLength: Int) -> TokenizedPreference? {
        guard prompt.count < maxLength else { return nil }
        let room = maxLength - prompt.count
        return TokenizedPreference(prompt: prompt, chosen: Array(chosen.prefix(room)), rejected: Array(rejected.prefix(room)), margin: margin,
                                   preference: preference)
    }
}

/// Unpaired feedback: `{"prompt", "completion", "label": true|false}` (thumbs up/down, or not toxic/toxic).
public struct LabeledCompletion: Sendable, Equatable {
    public var prompt: String
    public var completion: String
    public var label: Bool

    public init(prompt: String, completion: String, label: Bool) {
        (self.prompt, self.completion, self.label) = (prompt, completion, label)
    }

    public static func load(_ url: URL) throws -> [LabeledCompletion] {
        try JSONLines.records(url).map { record in
            guard let label = record.object["label"] as? Bool else { throw record.error("field \"label\" must be true or false") }
            return LabeledCompletion(prompt: try record.string("prompt", allowEmpty: true),
                                     completion: try record.string("completion"), label: label)
        }
    }

    /// Prompt ids (with the tokenizer's special tokens) and completion ids followed by EOS, as for preferences.
    public func tokenized(with tokenizer: Tokenizer) throws -> (prompt: [Int], completion: [Int]) {
        (tokenizer.encode(prompt), try tokenizer.encodeCompletion(completion))
    }
}
