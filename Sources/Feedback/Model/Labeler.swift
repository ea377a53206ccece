/// Who is calling, as established by the bearer token.
public enum Identity: Sendable, Equatable {
    case admin
    case labeler(Int64)
    /// An end user of the chat (personalization), who sees only their own turns and adapter.
    case user(Int64)
}

/// A person who labels, with the projects they are a member of.
public struct Labeler: Codable, Sendable, Equatable {
    public let id: Int64
    public let name: String
    public let projects: [Int64]
}

/// A newly created labeler and its token: the only time the token is shown, since only its hash is stored.
public struct LabelerCredentials: Codable, Sendable {
    public let id: Int64
    public let token: String
}
