/// The consensus of several labelers' rankings of one item.
///
/// A completion flagged by a strict majority of the item's labelers is dropped first (the
/// guidelines' "F": nonsensical or irrelevant, so not worth ordering); the remaining completions
/// that any labeler ranked or flagged are merged with ranked pairs. A minority's flag still votes:
/// each labeler's order is its `denseRanks`, where an unranked flagged completion comes last.
public struct ItemConsensus<Completion: Hashable & Comparable & Sendable>: Hashable, Sendable {
    /// Consensus rank of every kept completion: 1 is best, dense, equal ranks are ties.
    public let ranks: [Completion: Int]
    /// Completions flagged by a strict majority of the item's labelers.
    public let dropped: Set<Completion>

    /// `rankings` holds one ranking per labeler of the item.
    public init(rankings: [Ranking<Completion>]) {
        let flags = rankings.flatMap(\.flagged).reduce(into: [Completion: Int]()) { $0[$1, default: 0] += 1 }
        dropped = Set(flags.filter { 2 * $0.value > rankings.count }.keys)
        let judged = Set(rankings.flatMap { $0.ranks.keys } + rankings.flatMap(\.flagged))
        ranks = RankedPairs(rankings: rankings, candidates: judged.subtracting(dropped)).ranks
    }
}
