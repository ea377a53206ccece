import Foundation
import Tokenizer

/// One supervised fine-tuning example, in either of TRL's formats.
public enum Demonstration: Sendable, Equatable {
    /// `{"prompt": "...", "completion": "..."}`: the loss covers the completion (and EOS).
    case completion(prompt: String, completion: String)
    /// `{"messages": [{"role", "content"}, ...]}`: rendered with the chat template; the loss covers assistant turns.
    case conversation([ChatMessage])

    /// Reads and validates a whole file before anything is trained: a malformed line, a missing field or an
    /// empty completion fails with `file:line: what is wrong`.
    public static func load(_ url: URL) throws -> [Demonstration] {
        try JSONLines.records(url).map(parse)
    }

    static func parse(_ record: Record) throws -> Demonstration {
        if record.object["messages"] != nil {
            let parsed = try record.messages("messages")
            guard parsed.contains(where: { $0.role == "assistant" && !$0.content.isEmpty }) else {
                throw record.error("no non-empty assistant message to learn from")
            }
            return .conversation(parsed)
        }
        guard record.object["prompt"] != nil || record.object["completion"] != nil else {
            throw record.error("expected {\"prompt\", \"completion\"} or {\"messages\": [...]}")
        }
        return .completion(prompt: try record.string("prompt", allowEmpty: true), completion: try record.string("completion"))
    }
}

extension Record {
    /// A non-empty list of `{"role", "content"}` messages under `key`, roles system, user or assistant.
    public func messages(_ key: String) throws -> [ChatMessage] {
        guard let list = object[key] as? [[String: Any]], !list.isEmpty else {
            throw error("\"\(key)\" must be a non-empty list of {\"role\", \"content\"} objects")
        }
        let field = key == "messages" ? "" : "\"\(key)\": "
        return try list.enumerated().map { index, message -> ChatMessage in
            guard let role = message["role"] as? String, let content = message["content"] as? String else {
                throw error("\(field)message \(index + 1) needs string \"role\" and \"content\"")
            }
            guard ["system", "user", "assistant"].contains(role) else {
                throw error("\(field)message \(index + 1) has unknown role \"\(role)\"")
            }
            return ChatMessage(role: role, content: content)
        }
    }
}
