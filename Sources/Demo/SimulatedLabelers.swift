import Feedback
import Foundation
import Tensor

/// Stand-ins for the humans of step 2: each labeler takes items from the feedback store exactly as the labeling
/// app's users do (`nextItem`, `submitRanking`), judges by the hidden rubric with some personal noise, ties only
/// replies it cannot tell apart, and flags replies that are not finished sentences. An unreliable labeler ranks
/// at random, which the store's agreement statistics should expose.
public struct SimulatedLabeler: Sendable {
    public let name: String
    /// Standard deviation of the labeler's noise, in rubric points.
    public let noise: Double
    public let reliable: Bool
    /// Whether unfinished replies get flagged (reliable labelers only).
    public let flagsNonsense: Bool

    public init(name: String, noise: Double, reliable: Bool = true, flagsNonsense: Bool = true) {
        (self.name, self.noise, self.reliable, self.flagsNonsense) = (name, noise, reliable, flagsNonsense)
    }

    /// Three labelers per item, one of them unreliable. Without flagging, even the gibberish of an undertrained
    /// model gets ranked (for plumbing checks such as `rlhf demo --quick`).
    public static func demoPanel(flagsNonsense: Bool = true) -> [SimulatedLabeler] {
        [SimulatedLabeler(name: "ada", noise: 8, flagsNonsense: flagsNonsense),
         SimulatedLabeler(name: "ben", noise: 12, flagsNonsense: flagsNonsense),
         SimulatedLabeler(name: "cy", noise: 0, reliable: false)]
    }

    /// Ranks for one item's completions (1 is best, ties share a rank) and the ids to flag.
    func judge(_ item: LabelingItem, using generator: inout SeededGenerator) -> RankingSubmission {
        let flagged = reliable && flagsNonsense ? item.completions.filter { !Self.isFinishedSentence($0.text) }.map(\.id) : []
        let ranked = item.completions.filter { !flagged.contains($0.id) }
        let perceived = ranked.map { completion -> Double in
            guard reliable else { return Double.random(in: 0..<100, using: &generator) }
            return Rubric.grade(prompt: item.prompt, reply: completion.text).score + noise * generator.nextGaussian()
        }
        // Replies within 5 points of each other look equally good: they share a rank.
        let buckets = perceived.map { ($0 / 5).rounded() }
        let distinct = Set(buckets).sorted(by: >)
        var ranks: [String: Int] = [:]
        for (completion, bucket) in zip(ranked, buckets) { ranks[completion.id] = distinct.firstIndex(of: bucket)! + 1 }
        return RankingSubmission(ranks: ranks, flagged: flagged)
    }

    static func isFinishedSentence(_ text: String) -> Bool {
        guard let last = text.trimmingCharacters(in: .whitespaces).last else { return false }
        return ".!?".contains(last)
    }
}

extension FeedbackStore {
    /// Every labeler of `panel` joins `project` (a labeler of the same name already in it carries on) and labels
    /// until the store has nothing left for them; the labelers take turns item by item, as people working at once
    /// would. Returns the labelers' ids in panel order.
    @discardableResult
    public func label(project: Int64, with panel: [SimulatedLabeler], seed: UInt64) async throws -> [Int64] {
        let existing = try await labelers().filter { $0.projects.contains(project) }
        var ids: [Int64] = []
        for labeler in panel {
            if let known = existing.first(where: { $0.name == labeler.name }) {
                ids.append(known.id)
                continue
            }
            let id = try await createLabeler(name: labeler.name).id
            try await addMember(labeler: id, project: project)
            ids.append(id)
        }
        var generator = SeededGenerator(seed: seed)
        var active = Array(zip(panel, ids))
        while !active.isEmpty {
            var stillActive: [(SimulatedLabeler, Int64)] = []
            for (labeler, id) in active {
                guard let item = try await nextItem(project: project, labeler: id) else { continue }
                try await submitRanking(labeler.judge(item, using: &generator), item: item.itemID, labeler: id)
                stillActive.append((labeler, id))
            }
            active = stillActive
        }
        return ids
    }
}
