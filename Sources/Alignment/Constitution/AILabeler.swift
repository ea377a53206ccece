import Data
import Feedback
import Foundation

/// An AI labeler in the labeling store: a judge model ranks every item of a ranking project under the constitution,
/// as a labeler named `ai:<judge>`, through the store API the humans' rankings go through. It takes none of the
/// humans' labelers-per-item slots and stays out of the human consensus; `rlhf feedback stats` (and the admin page)
/// then show its Kendall τ against that consensus and against each human, and exports leave it out unless asked.
public struct AILabelConfig: JobConfiguration {
    public static let command = "feedback ai-label"

    /// The SQLite database of `rlhf serve`.
    public var db = ""
    public var project: Int64 = 0
    /// The judge model (directory or Hub id).
    public var judge = ""
    /// A constitution JSON file; empty = RLHFKit's default.
    public var constitution = ""
    /// The labeler's name, which must start with `ai:`; empty = `ai:` and the judge's directory name.
    public var name = ""
    /// Comparisons scored per forward pass.
    public var batchSize = 8
    /// Seed for the principles.
    public var seed: UInt64 = 0

    public init() {}

    public func validate() throws {
        for (value, key) in [(db, "db"), (judge, "judge")] { try Check.required(value, key) }
        try Check.positive(batchSize, "batch_size")
        if !name.isEmpty, !name.hasPrefix(ProjectAnalysis.aiPrefix) { throw JobError("name must start with \(ProjectAnalysis.aiPrefix) (got \(name))") }
    }

    /// The labeler's name as stored.
    public var labelerName: String { name.isEmpty ? ProjectAnalysis.aiPrefix + URL(fileURLWithPath: judge).lastPathComponent : name }

    /// Ranks every item the AI labeler has not ranked yet, with `judge` (default: the model `judge` names); returns
    /// its labeler id and how many items it ranked.
    @discardableResult
    public func run(judge given: AIJudge? = nil, progress: (String) -> Void = { _ in }) throws -> (labeler: Int64, items: Int) {
        try validate()
        let constitution = try Constitution.load(self.constitution)
        let judge = try given ?? AIJudge(loading: self.judge, batchSize: batchSize)  // before anything is written
        let (store, project, name) = (try FeedbackStore(existing: db), project, labelerName)
        let labeler = try runAsync { () async throws -> Int64 in
            guard try await store.snapshot(project: project).project.settings.mode == .ranking else {
                throw JobError("project \(project) collects thumbs: an AI labeler ranks")
            }
            let existing = try await store.labelers().first { $0.name == name }?.id
            let id = if let existing { existing } else { try await store.createLabeler(name: name).id }
            try await store.addMember(labeler: id, project: project)
            return id
        }
        let items = try runAsync { try await store.assignEveryItem(project: project, labeler: labeler) }
        for (index, item) in items.enumerated() {
            progress("items \(index + 1)/\(items.count)")
            let texts = item.completions.map(\.text)
            let pairs = try ConstitutionLabelConfig.label(CompletionSet(id: String(item.itemID), prompt: item.prompt, completions: texts),
                                                          judge: judge, constitution: constitution, seed: seed)
            let ranks = Self.ranks(texts, pairs: pairs)
            let submission = RankingSubmission(ranks: Dictionary(uniqueKeysWithValues: zip(item.completions.map(\.id), ranks)))
            try runAsync { try await store.submitRanking(submission, item: item.itemID, labeler: labeler) }
        }
        return (labeler, items.count)
    }

    /// Ranks (1 = best) from soft pairwise preferences: each distinct text scores its probability of beating each
    /// other one, and scores within 1e-6 share a rank (identical texts always do), so a judge that cannot tell
    /// (every preference 0.5, up to rounding) ties everything.
    public static func ranks(_ completions: [String], pairs: [ConstitutionLabelConfig.Pair]) -> [Int] {
        var score: [String: Double] = [:]
        for pair in pairs {
            score[pair.chosen, default: 0] += pair.preference
            score[pair.rejected, default: 0] += 1 - pair.preference
        }
        let scores = completions.map { score[$0] ?? 0 }
        return scores.map { mine in 1 + scores.filter { $0 > mine + 1e-6 }.count }
    }
}
