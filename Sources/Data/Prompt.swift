import Foundation

/// A prompt to complete (`{"prompt": "...", "id": ...}`); the id is kept as text, made up when absent.
public struct PromptRecord: Sendable, Equatable {
    public var id: String
    public var prompt: String

    public init(id: String, prompt: String) {
        self.id = id
        self.prompt = prompt
    }

    /// Reads and validates a whole prompts file (`file:line` errors).
    public static func load(_ url: URL) throws -> [PromptRecord] {
        try JSONLines.records(url).enumerated().map { try PromptRecord(record: $1, index: $0) }
    }

    /// The prompt of a record, its id as text (the record's 1-based position when it has none).
    init(record: Record, index: Int) throws {
        let id: String
        switch record.object["id"] {
        case nil, is NSNull: id = String(index + 1)
        case let text as String: id = text
        case let number as NSNumber: id = number.stringValue
        default: throw record.error("field \"id\" must be a string or a number")
        }
        self.init(id: id, prompt: try record.string("prompt"))
    }
}

/// Several completions of one prompt, as `rlhf complete` writes them and the labeling app reads them.
public struct CompletionSet: Codable, Sendable, Equatable {
    public var id: String
    public var prompt: String
    public var completions: [String]

    public init(id: String, prompt: String, completions: [String]) {
        (self.id, self.prompt, self.completions) = (id, prompt, completions)
    }

    /// Reads `{"prompt", "completions": [...], "id"?}` lines, each with two or more completions given as strings or
    /// as `{"text", "model"?}` objects, as `rlhf feedback import` takes them (`file:line` errors).
    public static func load(_ url: URL) throws -> [CompletionSet] {
        try JSONLines.records(url).enumerated().map { index, record in
            let prompt = try PromptRecord(record: record, index: index)
            guard let completions = record.object["completions"] as? [Any], completions.count >= 2 else {
                throw record.error("field \"completions\" must be a list of two or more completions")
            }
            let texts = try completions.map { value -> String in
                guard let text = value as? String ?? (value as? [String: Any])?["text"] as? String else {
                    throw record.error("each completion must be a string or a {\"text\"} object")
                }
                return text
            }
            return CompletionSet(id: prompt.id, prompt: prompt.prompt, completions: texts)
        }
    }
}
