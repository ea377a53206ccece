import Data
import Foundation

/// AI-labelled preferences (RLAIF): for every pair of a prompt's completions, a judge model answers a principle's
/// multiple-choice question in both orders, and the pair is written as `{"prompt", "chosen", "rejected",
/// "preference", "principle"}` with `preference` = P(chosen is better) ≥ 0.5 — rows `rlhf reward train` and
/// `rlhf dpo` take as soft labels. The principle of a pair depends on the seed and the pair's texts only, not on the
/// order the completions are listed in, so neither is the result.
public struct ConstitutionLabelConfig: JobConfiguration {
    public static let command = "constitution label"

    /// The judge model (directory or Hub id).
    public var judge = ""
    /// JSONL `{"prompt", "completions": [...]}`, the labeling format.
    public var data = ""
    /// A constitution JSON file; empty = RLHFKit's default.
    public var constitution = ""
    /// The pairs (JSONL).
    public var out = ""
    /// Comparisons scored per forward pass.
    public var batchSize = 8
    public var seed: UInt64 = 0

    public init() {}

    public func validate() throws {
        for (value, key) in [(judge, "judge"), (data, "data"), (out, "out")] { try Check.required(value, key) }
        try Check.positive(batchSize, "batch_size")
    }

    /// One labelled pair, as written.
    public struct Pair: Codable, Sendable, Equatable {
        public var prompt: String
        public var chosen: String
        public var rejected: String
        public var preference: Double
        public var principle: String

        public init(prompt: String, chosen: String, rejected: String, preference: Double, principle: String) {
            (self.prompt, self.chosen, self.rejected, self.preference, self.principle) = (prompt, chosen, rejected, preference, principle)
        }
    }

    /// Labels every pair and writes them; `progress` hears "prompts k/N".
    @discardableResult
    public func run(progress: (String) -> Void = { _ in }) throws -> [Pair] {
        try validate()
        let constitution = try Constitution.load(self.constitution)
        let sets = try CompletionSet.load(URL(fileURLWithPath: data))
        let judge = try AIJudge(loading: self.judge, batchSize: batchSize)
        var pairs: [Pair] = []
        for (index, set) in sets.enumerated() {
            progress("prompts \(index + 1)/\(sets.count)")
            pairs += try Self.label(set, judge: judge, constitution: constitution, seed: seed)
        }
        try JSONLines.write(pairs, to: URL(fileURLWithPath: out))
        return pairs
    }

    /// The pairs of one prompt's completions (identical completions are not compared).
    public static func label(_ set: CompletionSet, judge: AIJudge, constitution: Constitution, seed: UInt64) throws -> [Pair] {
        var comparisons: [(AIJudge.Comparison, String)] = []
        for i in set.completions.indices {
            for j in set.completions.indices where j > i && set.completions[i] != set.completions[j] {
                let (a, b) = (set.completions[i], set.completions[j])
                let principle = constitution.principles[Int(StableHash.of([set.prompt] + [a, b].sorted(), seed: seed) % UInt64(constitution.principles.count))]
                comparisons.append((AIJudge.Comparison(prompt: set.prompt, first: a, second: b, question: principle.preferenceQuestion), principle.name))
            }
        }
        let preferences = try judge.preferences(comparisons.map(\.0))
        return zip(comparisons, preferences).map { comparison, p in
            let (c, principle) = comparison
            return p >= 0.5 ? Pair(prompt: c.prompt, chosen: c.first, rejected: c.second, preference: p, principle: principle)
                            : Pair(prompt: c.prompt, chosen: c.second, rejected: c.first, preference: 1 - p, principle: principle)
        }
    }
}

/// FNV-1a over texts: the same on every run and machine (Swift's `Hasher` is seeded per process).
enum StableHash {
    static func of(_ texts: [String], seed: UInt64) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325 ^ seed
        for text in texts {
            for byte in text.utf8 + [0] {
                hash ^= UInt64(byte)
                hash = hash &* 0x100_0000_01b3
            }
        }
        return hash
    }
}
