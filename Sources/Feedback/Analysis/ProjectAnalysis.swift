/// Whose rankings make the consensus: the humans' (the default), the AI labelers' (named `ai:…`), or everyone's.
public enum LabelSource: String, CaseIterable, Codable, Sendable {
    case human, ai, all
}

/// Consensus and labeler quality of one project: its stored rankings fed to the consensus algorithms, with
/// items, labelers and completions identified by their database ids. AI labelers (named `ai:…`) stay out of the
/// human consensus; each is scored against it and against every human instead (`aiLabelers`).
public struct ProjectAnalysis: Sendable {
    public let snapshot: ProjectSnapshot
    /// Labelers whose rankings were left out (including those of the other source).
    public let excluded: Set<Int64>
    public let source: LabelSource
    public let report: ConsensusReport<Int64, Int64, Int64>

    /// The name prefix that marks an AI labeler.
    public static let aiPrefix = "ai:"

    public init(snapshot: ProjectSnapshot, reliabilityThreshold: Double = LabelerReliability<Int64>.defaultThreshold,
                excluding excluded: Set<Int64> = [], source: LabelSource = .human) {
        let ai = Set(snapshot.labelerNames.filter { $0.value.hasPrefix(Self.aiPrefix) }.keys)
        let otherSource: Set<Int64> = switch source {
        case .human: ai
        case .ai: Set(snapshot.labelerNames.keys).union(snapshot.rankings.map(\.labelerID)).union(snapshot.thumbs.map(\.labelerID)).subtracting(ai)
        case .all: []
        }
        let left = excluded.union(otherSource)
        (self.snapshot, self.source, self.excluded) = (snapshot, source, left)
        report = ConsensusReport(rankings: Self.rankings(snapshot.rankings.filter { !left.contains($0.labelerID) }),
                                 reliabilityThreshold: reliabilityThreshold)
    }

    static func rankings(_ stored: [ProjectSnapshot.StoredRanking]) -> [Int64: [Int64: Ranking<Int64>]] {
        stored.reduce(into: [:]) { $0[$1.itemID, default: [:]][$1.labelerID] = Ranking(ranks: $1.ranks, flagged: $1.flagged) }
    }

    /// The same project analysed again without the labelers this analysis reports as unreliable, as exports
    /// do when asked to exclude them.
    public func excludingUnreliable() -> ProjectAnalysis {
        ProjectAnalysis(snapshot: snapshot, reliabilityThreshold: report.reliabilityThreshold,
                        excluding: excluded.union(report.unreliableLabelers), source: source)
    }

    /// How far each AI labeler can be trusted: its mean Kendall τ-b against the human consensus (of this analysis,
    /// when it is the humans'), and against each human over the items both ranked.
    public var aiLabelers: [AILabelerAgreement] {
        let ai = snapshot.labelerNames.filter { $0.value.hasPrefix(Self.aiPrefix) }.keys.sorted()
        guard source == .human, !ai.isEmpty else { return [] }
        let byItem = Self.rankings(snapshot.rankings)
        let humans = Set(snapshot.rankings.map(\.labelerID)).subtracting(ai).subtracting(excluded).sorted()
        return ai.map { labeler in
            let own = Self.rankings(snapshot.rankings.filter { $0.labelerID == labeler })
            let consensus = LabelerReliability.scores(rankings: own, consensus: report.items).first
            let perHuman = humans.compactMap { human -> AILabelerAgreement.WithHuman? in
                let taus = byItem.values.compactMap { rankings -> Double? in
                    guard let mine = rankings[labeler], let theirs = rankings[human] else { return nil }
                    return KendallTau.b(mine.denseRanks, theirs.denseRanks)
                }
                return taus.isEmpty ? nil : .init(labeler: human, tau: taus.reduce(0, +) / Double(taus.count), items: taus.count)
            }
            return AILabelerAgreement(labeler: labeler, tau: consensus?.meanTau, itemsScored: consensus?.itemsScored ?? 0, humans: perHuman)
        }
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

/// An AI labeler's agreement with the humans.
public struct AILabelerAgreement: Sendable, Equatable {
    public struct WithHuman: Sendable, Equatable {
        public let labeler: Int64
        /// Mean Kendall τ-b between the two labelers' rankings of the same items.
        public let tau: Double
        public let items: Int
    }

    public let labeler: Int64
    /// Mean Kendall τ-b against the human consensus; nil when no item gives one.
    public let tau: Double?
    public let itemsScored: Int
    public let humans: [WithHuman]
}
