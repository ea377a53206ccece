/// How well one labeler agrees with the consensus: Kendall's τ-b between its ranking and the
/// consensus ranks of each item it labelled, averaged over those items.
public struct LabelerReliability<Labeler: Hashable & Comparable & Sendable>: Hashable, Sendable {
    /// Below this mean τ a labeler is reported as unreliable. A careful labeler agrees with the
    /// consensus far above chance (τ = 0); 0.2 leaves room for genuinely hard items while catching
    /// labelers who rank at random (τ ≈ 0) or in reverse (τ ≈ −1).
    public static var defaultThreshold: Double { 0.2 }

    public let labeler: Labeler
    /// Mean τ-b over the items where it is defined; nil when it is defined for none (every ranking
    /// a single completion or all ties).
    public let meanTau: Double?
    /// Items that contributed to `meanTau`.
    public let itemsScored: Int

    public init(labeler: Labeler, meanTau: Double?, itemsScored: Int) {
        self.labeler = labeler
        self.meanTau = meanTau
        self.itemsScored = itemsScored
    }

    /// One entry per labeler, sorted by labeler. `rankings` holds each item's rankings by labeler,
    /// `consensus` each item's consensus.
    public static func scores<Item: Hashable, Completion>(
        rankings: [Item: [Labeler: Ranking<Completion>]], consensus: [Item: ItemConsensus<Completion>]
    ) -> [LabelerReliability] {
        var taus: [Labeler: [Double]] = [:]
        for (item, byLabeler) in rankings {
            for (labeler, ranking) in byLabeler {
                let tau = consensus[item].flatMap { KendallTau.b(ranking.denseRanks, $0.ranks) }
                // A labeler with no defined τ is still listed, with meanTau nil.
                taus[labeler, default: []] += tau.map { [$0] } ?? []
            }
        }
        return taus.keys.sorted().map { labeler in
            let scored = taus[labeler]!
            let mean = scored.isEmpty ? nil : scored.reduce(0, +) / Double(scored.count)
            return LabelerReliability(labeler: labeler, meanTau: mean, itemsScored: scored.count)
        }
    }
}
