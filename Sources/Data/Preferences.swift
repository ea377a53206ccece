import Foundation

/// A preference: for `prompt`, `chosen` is better than `rejected` (by `margin`, 0 when not given).
public struct PreferencePair: Sendable, Equatable {
    public var prompt: String
    public var chosen: String
    public var rejected: String
    public var margin: Double

    public init(prompt: String, chosen: String, rejected: String, margin: Double = 0) {
        (self.prompt, self.chosen, self.rejected, self.margin) = (prompt, chosen, rejected, margin)
    }

    /// TRL pairs `{"prompt", "chosen", "rejected", "margin"?}` or HH-RLHF `{"chosen", "rejected"}` full
    /// transcripts (the prompt is their common prefix, cut after the last "\n\nAssistant:" in it, so the
    /// completions start at the assistant's final turn). A bad line fails with `file:line`.
    public static func load(_ url: URL) throws -> [PreferencePair] {
        try JSONLines.records(url).map { record in
            let chosen = try record.string("chosen"), rejected = try record.string("rejected")
            let margin: Double
            switch record.object["margin"] {
            case nil, is NSNull: margin = 0
            case let number as NSNumber: margin = number.doubleValue
            default: throw record.error("field \"margin\" must be a number")
            }
            if record.object["prompt"] != nil {
                return PreferencePair(prompt: try record.string("prompt", allowEmpty: true), chosen: chosen, rejected: rejected,
                                      margin: margin)
            }
            let (prompt, a, b) = try splitTranscripts(chosen, rejected, record: record)
            return PreferencePair(prompt: prompt, chosen: a, rejected: b, margin: margin)
        }
    }

    static func splitTranscripts(_ chosen: String, _ rejected: String, record: Record) throws -> (String, String, String) {
        let common = zip(chosen.unicodeScalars, rejected.unicodeScalars).prefix { $0 == $1 }.count
        var prefix = String(String.UnicodeScalarView(chosen.unicodeScalars.prefix(common)))
        if let turn = prefix.range(of: "\n\nAssistant:", options: .backwards) { prefix = String(prefix[..<turn.upperBound]) }
        let a = String(chosen.dropFirst(prefix.count)), b = String(rejected.dropFirst(prefix.count))
        guard !a.isEmpty, !b.isEmpty, a != b else { throw record.error("\"chosen\" and \"rejected\" are the same transcript") }
        return (prefix, a, b)
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
}
