/// What `GET /api/projects/{id}/stats` and `rlhf feedback stats` report: progress, agreement, each labeler's
/// agreement with the consensus, and model ratings when completions name their model.
public struct ProjectStats: Codable, Sendable {
    public struct Progress: Codable, Sendable, Equatable {
        public let items: Int
        /// Items judged by `labelers_per_item` labelers.
        public let itemsComplete: Int
        public let submissions: Int
        /// items × labelers_per_item.
        public let submissionsNeeded: Int
        /// submissions / submissions_needed, at most 1.
        public let fraction: Double

        enum CodingKeys: String, CodingKey {
            case items, submissions, fraction
            case itemsComplete = "items_complete"
            case submissionsNeeded = "submissions_needed"
        }
    }

    public struct LabelerQuality: Codable, Sendable, Equatable {
        public let id: Int64
        public let name: String
        public let submissions: Int
        /// Mean Kendall τ-b against the consensus (an AI labeler's: against the human consensus); nil when no item
        /// of theirs gives one.
        public let tau: Double?
        public let itemsScored: Int
        public let unreliable: Bool
        /// An AI labeler (named `ai:…`), kept out of the human consensus.
        public let ai: Bool
        /// An AI labeler's mean τ-b against each human, over the items both ranked.
        public let agreementWithHumans: [HumanAgreement]

        public struct HumanAgreement: Codable, Sendable, Equatable {
            public let id: Int64
            public let name: String
            public let tau: Double
            public let items: Int
        }

        enum CodingKeys: String, CodingKey {
            case id, name, submissions, tau, unreliable, ai
            case itemsScored = "items_scored"
            case agreementWithHumans = "agreement_with_humans"
        }

        /// `tau` is written as null when undefined, not left out.
        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try container.encode(name, forKey: .name)
            try container.encode(submissions, forKey: .submissions)
            try container.encode(tau, forKey: .tau)
            try container.encode(itemsScored, forKey: .itemsScored)
            try container.encode(unreliable, forKey: .unreliable)
            try container.encode(ai, forKey: .ai)
            try container.encode(agreementWithHumans, forKey: .agreementWithHumans)
        }
    }

    public let project: Project
    public let progress: Progress
    /// Krippendorff's α (ordinal) over all rankings; nil when undefined (e.g. too few overlapping rankings).
    public let agreement: Double?
    public let reliabilityThreshold: Double
    public let labelers: [LabelerQuality]
    /// Ids of labelers whose τ is below the threshold (an AI labeler's τ against the human consensus, an undefined one
    /// counting as below: a judge that ties everything cannot be trusted).
    public let unreliable: [Int64]
    public let ratings: [ModelRating]

    enum CodingKeys: String, CodingKey {
        case project, progress, agreement, labelers, unreliable, ratings
        case reliabilityThreshold = "reliability_threshold"
    }

    /// `agreement` is written as null when undefined, not left out.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(project, forKey: .project)
        try container.encode(progress, forKey: .progress)
        try container.encode(agreement, forKey: .agreement)
        try container.encode(reliabilityThreshold, forKey: .reliabilityThreshold)
        try container.encode(labelers, forKey: .labelers)
        try container.encode(unreliable, forKey: .unreliable)
        try container.encode(ratings, forKey: .ratings)
    }

    public init(_ analysis: ProjectAnalysis) {
        let snapshot = analysis.snapshot
        let settings = snapshot.project.settings
        let ai = Dictionary(uniqueKeysWithValues: analysis.aiLabelers.map { ($0.labeler, $0) })
        let isAI = { (id: Int64) in snapshot.labelerNames[id]?.hasPrefix(ProjectAnalysis.aiPrefix) ?? false }
        // Progress is the humans' work: an AI labeler judges every item outside the quota.
        let human = snapshot.submissions.filter { !isAI($0.labelerID) }
        let submissionsPerItem = human.reduce(into: [Int64: Int]()) { $0[$1.itemID, default: 0] += 1 }
        let submissionsPerLabeler = snapshot.submissions.reduce(into: [Int64: Int]()) { $0[$1.labelerID, default: 0] += 1 }
        let needed = snapshot.items.count * settings.labelersPerItem
        progress = Progress(items: snapshot.items.count,
                            itemsComplete: submissionsPerItem.values.count { $0 >= settings.labelersPerItem },
                            submissions: human.count, submissionsNeeded: needed,
                            fraction: needed == 0 ? 0 : min(1, Double(human.count) / Double(needed)))
        project = snapshot.project
        agreement = analysis.report.agreement
        reliabilityThreshold = analysis.report.reliabilityThreshold
        let unreliableAI = analysis.aiLabelers.filter { ($0.tau ?? -.infinity) < analysis.report.reliabilityThreshold }.map(\.labeler)
        unreliable = (analysis.report.unreliableLabelers + unreliableAI).sorted()
        let reliability = Dictionary(uniqueKeysWithValues: analysis.report.labelers.map { ($0.labeler, $0) })
        labelers = snapshot.labelerNames.keys.sorted().map { id in
            if let agreement = ai[id] {
                return LabelerQuality(id: id, name: snapshot.labelerNames[id]!, submissions: submissionsPerLabeler[id] ?? 0,
                                      tau: agreement.tau, itemsScored: agreement.itemsScored,
                                      unreliable: unreliableAI.contains(id), ai: true,
                                      agreementWithHumans: agreement.humans.map {
                                          .init(id: $0.labeler, name: snapshot.labelerNames[$0.labeler] ?? "#\($0.labeler)", tau: $0.tau, items: $0.items)
                                      })
            }
            return LabelerQuality(id: id, name: snapshot.labelerNames[id]!, submissions: submissionsPerLabeler[id] ?? 0,
                                  tau: reliability[id]?.meanTau, itemsScored: reliability[id]?.itemsScored ?? 0,
                                  unreliable: analysis.report.unreliableLabelers.contains(id), ai: isAI(id), agreementWithHumans: [])
        }
        ratings = analysis.modelRatings()
    }
}

extension ProjectStats {
    /// The stats as lines for a person, as `rlhf feedback stats` prints them: progress, agreement, each labeler's τ
    /// (unreliable ones marked), each model's rating.
    public var report: String {
        let format = { (value: Double) in String(format: "%.3f", value) }
        let lines = ["project \(project.id) \"\(project.settings.name)\": \(progress.submissions)/\(progress.submissionsNeeded) judgments, "
                     + "\(progress.itemsComplete)/\(progress.items) items complete",
                     "agreement (Krippendorff's α, ordinal): \(agreement.map(format) ?? "undefined")"]
            + labelers.map { labeler in
                let agreement = labeler.agreementWithHumans.map { "\($0.name) \(format($0.tau)) over \($0.items)" }.joined(separator: ", ")
                return "  \(labeler.name) (#\(labeler.id)\(labeler.ai ? ", AI" : "")): \(labeler.submissions) judgments, "
                    + (labeler.ai ? "τ vs the human consensus " : "τ ") + (labeler.tau.map(format) ?? "–")
                    + (labeler.unreliable ? "  UNRELIABLE" : "") + (agreement.isEmpty ? "" : "; with each human: \(agreement)")
            }
            + ratings.map { rating in
                "  model \(rating.model): \(Int(rating.rating.rounded())) Elo [\(Int(rating.low.rounded())), \(Int(rating.high.rounded()))], "
                    + "\(rating.comparisons) comparisons"
            }
        return lines.joined(separator: "\n")
    }
}
