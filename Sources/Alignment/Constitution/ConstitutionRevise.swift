import Data
import Foundation
import Models
import Tokenizer

/// Constitutional AI's supervised stage: the model answers each (red-team) prompt, then for `rounds` rounds is asked
/// a sampled principle's critique request, critiques its last answer, is asked the revision request and revises it —
/// one conversation in the model's chat template, after the constitution's worked examples. The final revisions are
/// SFT data (`{"prompt", "completion"}` lines in `out`, empty ones left out); `trace` gets every intermediate text and
/// principle.
public struct ConstitutionReviseConfig: JobConfiguration {
    public static let command = "constitution revise"

    /// The model that answers, critiques and revises (directory or Hub id).
    public var model = ""
    /// Prompts (JSONL {"prompt", "id"?}).
    public var prompts = ""
    /// A constitution JSON file; empty = RLHFKit's default.
    public var constitution = ""
    /// SFT data out (JSONL).
    public var out = ""
    /// The audit trail (JSONL); empty = `out` with `.trace.jsonl` for its extension.
    public var trace = ""
    /// Critique-and-revision rounds per prompt.
    public var rounds = 1
    /// Prompts per batch.
    public var batchPrompts = 8
    public var maxNewTokens = 128
    /// 0 = greedy.
    public var temperature: Float = 0.7
    public var seed: UInt64 = 0

    public init() {}

    public func validate() throws {
        for (value, key) in [(model, "model"), (prompts, "prompts"), (out, "out")] { try Check.required(value, key) }
        for (value, key) in [(rounds, "rounds"), (batchPrompts, "batch_prompts"), (maxNewTokens, "max_new_tokens")] { try Check.positive(value, key) }
        try Check.nonNegative(temperature, "temperature")
    }

    /// Where the trace goes.
    public var tracePath: String {
        guard trace.isEmpty else { return trace }
        let url = URL(fileURLWithPath: out)
        return url.deletingPathExtension().appendingPathExtension("trace.jsonl").path
    }

    /// One prompt's way from the first answer to the final revision.
    public struct Trace: Codable, Sendable, Equatable {
        public struct Round: Codable, Sendable, Equatable {
            public var principle: String
            public var critiqueRequest: String
            public var critique: String
            public var revisionRequest: String
            public var revision: String

            enum CodingKeys: String, CodingKey {
                case principle, critiqueRequest = "critique_request", critique, revisionRequest = "revision_request", revision
            }
        }

        public var id: String
        public var prompt: String
        public var response: String
        public var rounds: [Round]
        /// The last revision: the SFT completion.
        public var final: String
    }

    /// Revises every prompt's answer and writes the SFT data and the trace. `progress` hears "prompts k/N";
    /// `rendered` hears every text the model is given, as its chat template renders it.
    @discardableResult
    public func run(progress: (String) -> Void = { _ in }, rendered: (String) -> Void = { _ in }) throws -> [Trace] {
        try validate()
        let constitution = try Constitution.load(self.constitution)
        let records = try PromptRecord.load(URL(fileURLWithPath: prompts))
        let directory = try ModelDirectory.locate(model)
        let (network, tokenizer) = (try ModelDirectory.load(directory), try Tokenizer(directory: directory))
        let generator = TextGenerator(model: network)
        let examples = Self.exampleTurns(constitution)
        var traces: [Trace] = []
        var calls: UInt64 = 0
        for start in stride(from: 0, to: records.count, by: batchPrompts) {
            let batch = Array(records[start..<min(records.count, start + batchPrompts)])
            progress("prompts \(start + batch.count)/\(records.count)")
            var conversations = batch.map { examples + [ChatMessage(role: "user", content: $0.prompt)] }
            func reply(_ conversations: [[ChatMessage]]) throws -> [String] {
                calls += 1
                let sampling = SamplingOptions(temperature: temperature, seed: seed &+ calls &* 1_000_003)
                return try Self.reply(conversations, generator: generator, tokenizer: tokenizer, rendered: rendered,
                                      options: TextGenerator.Options(maxNewTokens: maxNewTokens, sampling: sampling,
                                                                     stopTokenIDs: tokenizer.eosTokenIDs, padTokenID: tokenizer.paddingID))
            }
            let responses = try reply(conversations)
            var batchTraces = zip(batch, responses).map { Trace(id: $0.id, prompt: $0.prompt, response: $1, rounds: [], final: $1) }
            for row in conversations.indices { conversations[row].append(ChatMessage(role: "assistant", content: responses[row])) }
            for round in 0..<rounds {
                let principles = batch.map { Self.principle(for: $0.prompt, round: round, in: constitution, seed: seed) }
                for row in conversations.indices { conversations[row].append(ChatMessage(role: "user", content: principles[row].critiqueRequest)) }
                let critiques = try reply(conversations)
                for row in conversations.indices {
                    conversations[row] += [ChatMessage(role: "assistant", content: critiques[row]),
                                           ChatMessage(role: "user", content: principles[row].revisionRequest)]
                }
                let revisions = try reply(conversations)
                for row in conversations.indices {
                    conversations[row].append(ChatMessage(role: "assistant", content: revisions[row]))
                    let principle = principles[row]
                    batchTraces[row].rounds.append(Trace.Round(principle: principle.name, critiqueRequest: principle.critiqueRequest,
                                                               critique: critiques[row], revisionRequest: principle.revisionRequest,
                                                               revision: revisions[row]))
                    batchTraces[row].final = revisions[row]
                }
            }
            traces += batchTraces
        }
        struct Demonstration: Encodable { let prompt: String, completion: String }
        // An empty final revision teaches nothing (and SFT refuses empty completions): it stays in the trace only.
        try JSONLines.write(traces.filter { !$0.final.isEmpty }.map { Demonstration(prompt: $0.prompt, completion: $0.final) },
                            to: URL(fileURLWithPath: out))
        try JSONLines.write(traces, to: URL(fileURLWithPath: tracePath))
        return traces
    }

    /// The principle of a prompt's round: the same for the same prompt, round and seed on every run.
    public static func principle(for prompt: String, round: Int, in constitution: Constitution, seed: UInt64) -> Constitution.Principle {
        constitution.principles[Int(StableHash.of([prompt, String(round)], seed: seed) % UInt64(constitution.principles.count))]
    }

    /// The worked examples as the turns every conversation starts with.
    public static func exampleTurns(_ constitution: Constitution) -> [ChatMessage] {
        constitution.examples.flatMap { example -> [ChatMessage] in
            guard let principle = constitution.principle(named: example.principle) else { return [] }
            return [("user", example.prompt), ("assistant", example.response), ("user", principle.critiqueRequest),
                    ("assistant", example.critique), ("user", principle.revisionRequest), ("assistant", example.revision)]
                .map { ChatMessage(role: $0.0, content: $0.1) }
        }
    }

    /// The model's next turn in each conversation (its text up to a stop token; without a chat template, up to the
    /// next turn it starts writing itself).
    static func reply(_ conversations: [[ChatMessage]], generator: TextGenerator, tokenizer: Tokenizer, rendered: (String) -> Void,
                      options: TextGenerator.Options) throws -> [String] {
        let prompts = try conversations.map { conversation -> [Int] in
            let text = try tokenizer.applyChatTemplate(conversation, addGenerationPrompt: true)
            rendered(text)
            return tokenizer.encode(text, addSpecialTokens: false)
        }
        return try generator.generate(prompts, options: options).map { ids in
            let text = tokenizer.decodeCompletion(ids, stopTokenIDs: options.stopTokenIDs)
            let reply = tokenizer.hasChatTemplate ? text : String(text.components(separatedBy: "\nuser:")[0])
            return reply.trimmingCharacters(in: .whitespacesAndNewlines)
        }
    }
}
