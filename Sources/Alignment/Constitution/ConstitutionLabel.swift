import Data
import Foundation

/// AI-labelled preferences (RLAIF): for every pair of a prompt's completions, a judge model answers a principle's
/// multiple-choice question in both orders, and the pair is written as `{"prompt", "chosen", "rejected",
/// "preference", "principle"}` with `preference` = P(chosen is better) ≥ 0.5 — rows `rlhf reward train` and
/// `rlhf dpo` take as soft labels. Each pair is asked in sorted order under a principle drawn from the seed and the
/// pair's texts, so the order the completions are listed in changes nothing.
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

    /// Labels every pair and writes them; `progress` hears "comparisons k/N".
    @discardableResult
    public func run(progress: (String) -> Void = { _ in }) throws -> [Pair] {
        try validate()
        let constitution = try Constitution.load(self.constitution)
        let sets = try CompletionSet.load(URL(fileURLWithPath: data))
        let judge = try AIJudge(loading: self.judge, batchSize: batchSize)
        // All prompts' comparisons go to the judge together, so its batches fill however few completions a prompt has.
        let comparisons = sets.flatMap { Self.comparisons($0, constitution: constitution, seed: seed) }
        var pairs: [Pair] = []
        for start in stride(from: 0, to: comparisons.count, by: 8 * batchSize) {
            let chunk = Array(comparisons[start..<min(comparisons.count, start + 8 * batchSize)])
            progress("comparisons \(start + chunk.count)/\(comparisons.count)")
            pairs += Self.pairs(chunk, preferences: try judge.preferences(chunk.map(\.comparison)))
        }
        try JSONLines.write(pairs, to: URL(fileURLWithPath: out))
        return pairs
    }

    /// The pairs of one prompt's completions.
    public static func label(_ set: CompletionSet, judge: AIJudge, constitution: Constitution, seed: UInt64) throws -> [Pair] {
        let comparisons = comparisons(set, constitution: constitution, seed: seed)
        return pairs(comparisons, preferences: try judge.preferences(comparisons.map(\.comparison)))
    }

    /// One comparison per pair of distinct completion texts (a repeated text is compared once), each pair in sorted
    /// order with a principle drawn from the seed and the pair: the same questions however the completions are listed.
    static func comparisons(_ set: CompletionSet, constitution: Constitution, seed: UInt64) -> [(comparison: AIJudge.Comparison, principle: String)] {
        var seen: Set<String> = []
        let texts = set.completions.filter { seen.insert($0).inserted }.sorted()
        return texts.indices.flatMap { i in
            texts.indices.dropFirst(i + 1).map { j in
                let principle = constitution.principles[Int(StableHash.of([set.prompt, texts[i], texts[j]], seed: seed) % UInt64(constitution.principles.count))]
                return (AIJudge.Comparison(prompt: set.prompt, first: texts[i], second: texts[j], question: principle.preferenceQuestion), principle.name)
            }
        }
    }

    static func pairs(_ comparisons: [(comparison: AIJudge.Comparison, principle: String)], preferences: [Double]) -> [Pair] {
        zip(comparisons, preferences).map { labeled, p in
            let (c, principle) = labeled
            return p >= 0.5 ? Pair(prompt: c.prompt, chosen: c.first, rejected: c.second, preference: p, principle: principle)
                            : Pair(prompt: c.prompt, chosen: c.second, rejected: c.first, preference: 1 - p, principle: principle)
        }
    }
}
