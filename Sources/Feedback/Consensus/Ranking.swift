/// One labeler's ranking of one item's completions.
///
/// `ranks` maps each completion the labeler ranked to its rank: 1 is best and equal ranks are a
/// tie. Ranks need not be dense (1, 1, 3 and 1, 1, 2 mean the same order). `flagged` holds the
/// completions the labeler marked as nonsensical or irrelevant; they may be ranked or not.
public struct Ranking<Completion: Hashable & Comparable & Sendable>: Hashable, Sendable {
    public var ranks: [Completion: Int]
    public var flagged: Set<Completion>

    public init(ranks: [Completion: Int], flagged: Set<Completion> = []) {
        self.ranks = ranks
        self.flagged = flagged
    }

    /// The labeler's order with ranks 1, 2, 3, ... and no gaps, so every labeler uses the same
    /// scale. A flagged completion the labeler did not rank comes last, tied with any others like
    /// it: the flag says it is worse than every sensible completion.
    public var denseRanks: [Completion: Int] {
        let levels = Set(ranks.values).sorted()
        let dense = Dictionary(uniqueKeysWithValues: levels.enumerated().map { ($1, $0 + 1) })
        var result = ranks.mapValues { dense[$0]! }
        for completion in flagged where ranks[completion] == nil { result[completion] = levels.count + 1 }
        return result
    }
}
