/// Ranked pairs (Tideman 1987, "Independence of clones as a criterion for voting rules"), with
/// labelers as voters and one item's completions as candidates.
///
/// 1. Every pair of candidates with a strict pairwise majority becomes a `Majority`; a ranking that
///    ties the two, or leaves either out, votes for neither. Rankings are read as `denseRanks`.
/// 2. Majorities are sorted strongest first: more winning votes, then fewer losing votes, then
///    (the deterministic tie-break) the smaller winner id, then the smaller loser id.
/// 3. Each majority is locked in that order unless its loser already reaches its winner through
///    locked majorities, which would close a cycle.
/// 4. A candidate's rank is one more than the longest chain of locked majorities above it, so
///    candidates that no locked chain separates share a rank and ties survive.
public struct RankedPairs<Completion: Hashable & Comparable & Sendable>: Sendable {
    public struct Majority: Hashable, Sendable {
        public let winner: Completion
        public let loser: Completion
        /// Rankings that put `winner` above `loser`.
        public let votesFor: Int
        /// Rankings that put `loser` above `winner`.
        public let votesAgainst: Int
    }

    /// Every pairwise majority, strongest first.
    public let majorities: [Majority]
    /// The majorities that were locked, in locking order; the others would have closed a cycle.
    public let locked: [Majority]
    /// Consensus rank of every candidate: 1 is best, dense, equal ranks are ties.
    public let ranks: [Completion: Int]

    public init(rankings: [Ranking<Completion>], candidates: Set<Completion>) {
        majorities = Self.majorities(orders: rankings.map(\.denseRanks), candidates: candidates.sorted())
        locked = Self.lock(majorities)
        ranks = Self.ranks(of: candidates, locked: locked)
    }

    private static func majorities(orders: [[Completion: Int]], candidates: [Completion]) -> [Majority] {
        var result: [Majority] = []
        for (index, a) in candidates.enumerated() {
            for b in candidates[(index + 1)...] {
                let aOverB = orders.count(where: { prefers($0, a, over: b) })
                let bOverA = orders.count(where: { prefers($0, b, over: a) })
                if aOverB > bOverA {
                    result.append(Majority(winner: a, loser: b, votesFor: aOverB, votesAgainst: bOverA))
                } else if bOverA > aOverB {
                    result.append(Majority(winner: b, loser: a, votesFor: bOverA, votesAgainst: aOverB))
                }
            }
        }
        return result.sorted { x, y in
            if x.votesFor != y.votesFor { return x.votesFor > y.votesFor }
            if x.votesAgainst != y.votesAgainst { return x.votesAgainst < y.votesAgainst }
            if x.winner != y.winner { return x.winner < y.winner }
            return x.loser < y.loser
        }
    }

    private static func prefers(_ order: [Completion: Int], _ a: Completion, over b: Completion) -> Bool {
        guard let rankA = order[a], let rankB = order[b] else { return false }
        return rankA < rankB
    }

    private static func lock(_ majorities: [Majority]) -> [Majority] {
        var beats: [Completion: Set<Completion>] = [:]
        var locked: [Majority] = []
        for majority in majorities where !reaches(majority.loser, majority.winner, in: beats) {
            beats[majority.winner, default: []].insert(majority.loser)
            locked.append(majority)
        }
        return locked
    }

    private static func reaches(_ start: Completion, _ target: Completion, in beats: [Completion: Set<Completion>]) -> Bool {
        var stack = [start]
        var seen: Set<Completion> = [start]
        while let next = stack.popLast() {
            if next == target { return true }
            for loser in beats[next, default: []] where seen.insert(loser).inserted {
                stack.append(loser)
            }
        }
        return false
    }

    private static func ranks(of candidates: Set<Completion>, locked: [Majority]) -> [Completion: Int] {
        var beatenBy: [Completion: [Completion]] = [:]
        for majority in locked { beatenBy[majority.loser, default: []].append(majority.winner) }
        var ranks: [Completion: Int] = [:]
        // The locked graph is acyclic, so this recursion ends; its depth is at most the candidate count.
        func rank(_ candidate: Completion) -> Int {
            if let known = ranks[candidate] { return known }
            let rank = 1 + (beatenBy[candidate, default: []].map(rank).max() ?? 0)
            ranks[candidate] = rank
            return rank
        }
        for candidate in candidates { _ = rank(candidate) }
        return ranks
    }
}
