/// Consensus and quality for a whole project: each item's consensus, each labeler's agreement
/// with it, the labelers below the reliability threshold, and the overall agreement among labelers.
/// To exclude unreliable labelers from an export, build a new report without their rankings.
public struct ConsensusReport<
    Item: Hashable & Sendable, Labeler: Hashable & Comparable & Sendable, Completion: Hashable & Comparable & Sendable
>: Sendable {
    public let items: [Item: ItemConsensus<Completion>]
    /// One entry per labeler, sorted by labeler.
    public let labelers: [LabelerReliability<Labeler>]
    public let reliabilityThreshold: Double
    /// Krippendorff's α (ordinal) over every item's rankings: the units are the item's completions
    /// and the values the dense ranks the labelers gave them. Nil when undefined (no two labelers
    /// ranked a completion, or every rank given was the same).
    public let agreement: Double?

    /// `rankings` holds each item's rankings by labeler.
    public init(rankings: [Item: [Labeler: Ranking<Completion>]], reliabilityThreshold: Double = LabelerReliability<Labeler>.defaultThreshold) {
        items = rankings.mapValues { ItemConsensus(rankings: Array($0.values)) }
        labelers = LabelerReliability.scores(rankings: rankings, consensus: items)
        self.reliabilityThreshold = reliabilityThreshold
        agreement = KrippendorffAlpha.ordinal(units: rankings.values.flatMap { byLabeler in
            let dense = byLabeler.values.map(\.denseRanks)
            let completions = Set(dense.flatMap(\.keys))
            return completions.map { completion in dense.compactMap { $0[completion] } }
        })
    }

    /// Labelers whose mean τ is below the threshold, sorted.
    public var unreliableLabelers: [Labeler] {
        labelers.filter { ($0.meanTau ?? .infinity) < reliabilityThreshold }.map(\.labeler)
    }
}
