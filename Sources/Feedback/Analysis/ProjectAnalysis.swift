/// Consensus and labeler quality of one project: its stored rankings fed to the consensus algorithms, with
/// items, labelers and completions identified by their database ids.
public struct ProjectAnalysis: Sendable {
    public let snapshot: ProjectSnapshot
    /// Labelers whose rankings were left out.
    public let excluded: Set<Int64>
    public let report: ConsensusReport<Int64, Int64, Int64>

    public init(snapshot: ProjectSnapshot, reliabilityThreshold: Double = LabelerReliability<Int64>.defaultThreshold,
                excluding excluded: Set<Int64> = []) {
        self.snapshot = snapshot
        self.excluded = excluded
        var rankings: [Int64: [Int64: Ranking<Int64>]] = [:]
        for stored in snapshot.rankings where !excluded.contains(stored.labelerID) {
            rankings[stored.itemID, default: [:]][stored.labelerID] = Ranking(ranks: stored.ranks, flagged: stored.flagged)
        }
        report = ConsensusReport(rankings: rankings, reliabilityThreshold: reliabilityThreshold)
    }

    /// The same project analysed again without the labelers this analysis reports as unreliable, as exports
    /// do when asked to exclude them.
    public func excludingUnreliable() -> ProjectAnalysis {
        ProjectAnalysis(snapshot: snapshot, reliabilityThreshold: report.reliabilityThreshold,
                        excluding: excluded.union(report.unreliableLabelers))
    }

    /// Each ranked item with its consensus preference pairs (tied pairs and majority-flagged completions left
    /// out), in item order.
    public var consensusPairs: [(item: ProjectSnapshot.Item, pairs: [ConsensusPair<Int64>])] {
        snapshot.items.compactMap { item in
            report.items[item.id].map { (item, ConsensusPair.all(ranks: $0.ranks)) }
        }
    }

    /// The rankings that count here, in item then labeler order.
    public var includedRankings: [ProjectSnapshot.StoredRanking] {
        snapshot.rankings.filter { !excluded.contains($0.labelerID) }
    }
}
