/// One completion of an item to add, optionally with the model that wrote it (for Bradley–Terry ratings).
public struct NewCompletion: Sendable, Equatable {
    public var text: String
    public var model: String?

    public init(text: String, model: String? = nil) {
        self.text = text
        self.model = model
    }
}

/// One item to add: a prompt and the completions to judge, with an optional caller-given id.
public struct NewItem: Sendable, Equatable {
    public var externalID: String?
    public var prompt: String
    public var completions: [NewCompletion]

    public init(externalID: String? = nil, prompt: String, completions: [NewCompletion]) {
        self.externalID = externalID
        self.prompt = prompt
        self.completions = completions
    }
}

/// An item as a labeler sees it (`GET /api/projects/{id}/next`). Completion ids are strings because they are the
/// keys of a ranking's `ranks` object.
public struct LabelingItem: Codable, Sendable, Equatable {
    public struct Completion: Codable, Sendable, Equatable {
        public let id: String
        public let text: String
    }

    public let itemID: Int64
    public let prompt: String
    public let completions: [Completion]

    enum CodingKeys: String, CodingKey {
        case prompt, completions
        case itemID = "item_id"
    }
}

/// An item with the caller's own earlier judgment, for editing it (`GET /api/items/{id}`).
public struct LabeledItem: Codable, Sendable, Equatable {
    public let item: LabelingItem
    /// Null (not left out) when the caller has not ranked the item.
    public let ranking: RankingSubmission?
    public let thumbs: [String: Bool]

    enum CodingKeys: String, CodingKey { case item, ranking, thumbs }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(item, forKey: .item)
        try container.encode(ranking, forKey: .ranking)
        try container.encode(thumbs, forKey: .thumbs)
    }
}

/// How far one labeler is in a project: items judged, and items judged plus those still open to them.
public struct LabelerProgress: Codable, Sendable, Equatable {
    public let done: Int
    public let total: Int
}

/// One of a labeler's judged items, newest first in lists.
public struct SubmissionSummary: Codable, Sendable, Equatable {
    public let itemID: Int64
    public let submittedAt: String

    enum CodingKeys: String, CodingKey {
        case itemID = "item_id"
        case submittedAt = "submitted_at"
    }
}
