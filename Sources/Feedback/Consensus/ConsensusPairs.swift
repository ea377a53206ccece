/// One pairwise comparison for reward modelling: `chosen` is preferred over `rejected`.
public struct ConsensusPair<Completion: Hashable & Comparable & Sendable>: Hashable, Sendable {
    public let chosen: Completion
    public let rejected: Completion
    /// Rank difference, at least 1; larger means a clearer preference.
    public let margin: Int

    public init(chosen: Completion, rejected: Completion, margin: Int) {
        self.chosen = chosen
        self.rejected = rejected
        self.margin = margin
    }

    /// Every pair of completions (N choose 2) whose consensus ranks differ, preferred first; tied
    /// pairs carry no preference and are dropped. Ordered by the chosen completion's rank, then the
    /// rejected one's, then ids, so exports are reproducible.
    public static func all(ranks: [Completion: Int]) -> [ConsensusPair] {
        let ordered = ranks.sorted { ($0.value, $0.key) < ($1.value, $1.key) }
        var pairs: [ConsensusPair] = []
        for (index, better) in ordered.enumerated() {
            for worse in ordered[(index + 1)...] where worse.value > better.value {
                pairs.append(ConsensusPair(chosen: better.key, rejected: worse.key, margin: worse.value - better.value))
            }
        }
        return pairs
    }
}
