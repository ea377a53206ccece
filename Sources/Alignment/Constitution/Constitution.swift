import Data
import Foundation

/// The written principles of Constitutional AI (Bai et al. 2022): each asks the model to critique its last answer
/// and to revise it, and asks a judge which of two answers follows it better. Read from JSON:
///
///     {"name": "...", "principles": [{"name", "critique_request", "revision_request", "preference_question"}, ...],
///      "examples": [{"principle", "prompt", "response", "critique", "revision"}, ...]}
///
/// `examples` (optional) are worked critique-and-revision turns shown before every conversation `revise` runs.
public struct Constitution: Codable, Sendable, Equatable {
    public struct Principle: Codable, Sendable, Equatable {
        public var name: String
        /// Appended as the human's turn after an answer: "Identify specific ways in which …".
        public var critiqueRequest: String
        /// Appended after the critique: "Please rewrite the response to …".
        public var revisionRequest: String
        /// The judge's question: "Which of these assistant responses is less harmful?".
        public var preferenceQuestion: String

        public init(name: String, critiqueRequest: String, revisionRequest: String, preferenceQuestion: String) {
            (self.name, self.critiqueRequest, self.revisionRequest, self.preferenceQuestion) = (name, critiqueRequest, revisionRequest, preferenceQuestion)
        }

        enum CodingKeys: String, CodingKey {
            case name, critiqueRequest = "critique_request", revisionRequest = "revision_request", preferenceQuestion = "preference_question"
        }
    }

    /// One worked example of a critique and a revision under a principle.
    public struct Example: Codable, Sendable, Equatable {
        public var principle: String
        public var prompt: String
        public var response: String
        public var critique: String
        public var revision: String

        public init(principle: String, prompt: String, response: String, critique: String, revision: String) {
            (self.principle, self.prompt, self.response, self.critique, self.revision) = (principle, prompt, response, critique, revision)
        }
    }

    public var name: String
    public var principles: [Principle]
    public var examples: [Example]

    public init(name: String, principles: [Principle], examples: [Example] = []) {
        (self.name, self.principles, self.examples) = (name, principles, examples)
    }

    enum CodingKeys: String, CodingKey { case name, principles, examples }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        name = try container.decode(String.self, forKey: .name)
        principles = try container.decode([Principle].self, forKey: .principles)
        examples = try container.decodeIfPresent([Example].self, forKey: .examples) ?? []
    }

    /// The constitution in `path`, or the default one (`Constitution.default`) when `path` is empty; a bad file
    /// fails with one line naming the file and the line at fault.
    public static func load(_ path: String) throws -> Constitution {
        guard !path.isEmpty else { return .default }
        let document = try JSONDocument(contentsOf: URL(fileURLWithPath: path))
        let constitution = try document.decode(Constitution.self)
        try constitution.check { path, message in document.error(at: path, message) }
        return constitution
    }

    /// Throws `failure(path, message)` for the first principle or example that cannot be used.
    func check(_ failure: ([String], String) -> Error) throws {
        guard !principles.isEmpty else { throw failure(["principles"], "a constitution needs at least one principle") }
        var seen: Set<String> = []
        for (index, principle) in principles.enumerated() {
            let path = ["principles", String(index)]
            for (key, value) in [("name", principle.name), ("critique_request", principle.critiqueRequest),
                                 ("revision_request", principle.revisionRequest), ("preference_question", principle.preferenceQuestion)]
            where value.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                throw failure(path + [key], "\(key) of principle \(index) is empty")
            }
            guard seen.insert(principle.name).inserted else { throw failure(path + ["name"], "a second principle named \"\(principle.name)\"") }
        }
        for (index, example) in examples.enumerated() where !seen.contains(example.principle) {
            throw failure(["examples", String(index), "principle"], "example \(index) names no principle of this constitution: \"\(example.principle)\"")
        }
    }

    public func principle(named name: String) -> Principle? { principles.first { $0.name == name } }
}
