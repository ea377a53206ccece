/// A labeler's ranking of one item (`POST /api/items/{id}/ranking`): 1 is best, equal ranks are a tie, and flagged
/// completions are nonsensical or irrelevant. Every completion must be ranked or flagged.
public struct RankingSubmission: Codable, Sendable, Equatable {
    public var ranks: [String: Int]
    public var flagged: [String]

    public init(ranks: [String: Int], flagged: [String] = []) {
        self.ranks = ranks
        self.flagged = flagged
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(ranks: try container.decode([String: Int].self, forKey: .ranks),
                  flagged: try container.decodeIfPresent([String].self, forKey: .flagged) ?? [])
    }
}

/// A thumb up or down on one completion (`POST /api/items/{id}/thumb`).
public struct ThumbSubmission: Codable, Sendable, Equatable {
    public var completionID: String
    public var up: Bool

    public init(completionID: String, up: Bool) {
        self.completionID = completionID
        self.up = up
    }

    enum CodingKeys: String, CodingKey {
        case up
        case completionID = "completion_id"
    }
}
