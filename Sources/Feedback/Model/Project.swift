import Foundation

/// How labelers judge a project's items: rank all completions of an item, or give each a thumb up or down.
public enum ProjectMode: String, Codable, Sendable, CaseIterable {
    case ranking
    case thumbs
}

/// What an admin sets when creating a project (`POST /api/projects`).
public struct ProjectSettings: Codable, Sendable, Equatable {
    public var name: String
    /// Written instructions shown above every item.
    public var guidelines: String
    /// What "better" means here, e.g. "helpfulness" or "harmlessness".
    public var criterion: String
    /// How many distinct labelers judge each item (for consensus).
    public var labelersPerItem: Int
    public var mode: ProjectMode

    public init(name: String, guidelines: String = "", criterion: String = "helpfulness", labelersPerItem: Int = 3,
                mode: ProjectMode = .ranking) {
        self.name = name
        self.guidelines = guidelines
        self.criterion = criterion
        self.labelersPerItem = labelersPerItem
        self.mode = mode
    }

    enum CodingKeys: String, CodingKey {
        case name, guidelines, criterion, mode
        case labelersPerItem = "labelers_per_item"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(name: try container.decode(String.self, forKey: .name),
                  guidelines: try container.decodeIfPresent(String.self, forKey: .guidelines) ?? "",
                  criterion: try container.decodeIfPresent(String.self, forKey: .criterion) ?? "helpfulness",
                  labelersPerItem: try container.decodeIfPresent(Int.self, forKey: .labelersPerItem) ?? 3,
                  mode: try container.decodeIfPresent(ProjectMode.self, forKey: .mode) ?? .ranking)
    }

    func validated() throws -> ProjectSettings {
        guard !name.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else { throw FeedbackError.invalid("\"name\" is empty") }
        guard (1...100).contains(labelersPerItem) else { throw FeedbackError.invalid("\"labelers_per_item\" must be in 1...100") }
        return self
    }
}

/// A stored project, as the API returns it.
public struct Project: Codable, Sendable, Equatable {
    public let id: Int64
    public let settings: ProjectSettings
    public let itemCount: Int

    public init(id: Int64, settings: ProjectSettings, itemCount: Int) {
        self.id = id
        self.settings = settings
        self.itemCount = itemCount
    }

    enum CodingKeys: String, CodingKey {
        case id
        case itemCount = "items"
    }

    public func encode(to encoder: any Encoder) throws {
        try settings.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(itemCount, forKey: .itemCount)
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(id: try container.decode(Int64.self, forKey: .id), settings: try ProjectSettings(from: decoder),
                  itemCount: try container.decode(Int.self, forKey: .itemCount))
    }
}
