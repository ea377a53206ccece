import Foundation

/// An end user of the chat: their replies come from their own adapter once it has learnt from their feedback.
public struct ChatUser: Codable, Sendable, Equatable {
    public let id: Int64
    public let name: String
    /// The adapter version serving this user; 0 is the base model.
    public let adapterVersion: Int

    enum CodingKeys: String, CodingKey {
        case id, name, adapterVersion = "adapter_version"
    }
}

/// A new chat user and its token, shown this once (only its hash is stored).
public struct ChatUserCredentials: Codable, Sendable {
    public let id: Int64
    public let token: String
}

/// One message of a conversation as the client sends it.
public struct ChatTurnMessage: Codable, Sendable, Equatable {
    public let role: String
    public let content: String

    public init(role: String, content: String) { (self.role, self.content) = (role, content) }
}

/// Two replies to choose between, or one to rate.
public enum ChatMode: String, Codable, Sendable {
    case compare, single
}

/// A turn as stored and answered: its id and the replies' ids and texts.
public struct StoredChatTurn: Codable, Sendable, Equatable {
    public struct Reply: Codable, Sendable, Equatable {
        public let id: Int64
        public let text: String
    }

    public let turn: Int64
    public let replies: [Reply]
}

/// What a user says about a turn: the preferred of two replies, a thumb on one, or the reply they wanted instead.
public enum ChatFeedback: Decodable, Sendable, Equatable {
    case choice(chosen: Int64)
    case thumb(reply: Int64, up: Bool)
    case correction(reply: Int64, text: String)

    enum CodingKeys: String, CodingKey {
        case chosen, reply, thumb, correction
    }

    public init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        if let chosen = try container.decodeIfPresent(Int64.self, forKey: .chosen) {
            self = .choice(chosen: chosen)
            return
        }
        guard let reply = try container.decodeIfPresent(Int64.self, forKey: .reply) else {
            throw FeedbackError.invalid("feedback needs {\"chosen\": REPLY_ID}, {\"reply\": ID, \"thumb\": \"up\"|\"down\"} "
                                        + "or {\"reply\": ID, \"correction\": TEXT}")
        }
        if let thumb = try container.decodeIfPresent(String.self, forKey: .thumb) {
            guard thumb == "up" || thumb == "down" else { throw FeedbackError.invalid("\"thumb\" must be \"up\" or \"down\"") }
            self = .thumb(reply: reply, up: thumb == "up")
        } else if let text = try container.decodeIfPresent(String.self, forKey: .correction) {
            guard !text.allSatisfy(\.isWhitespace) else { throw FeedbackError.invalid("\"correction\" is empty") }
            self = .correction(reply: reply, text: text)
        } else {
            throw FeedbackError.invalid("feedback on a reply needs \"thumb\" or \"correction\"")
        }
    }
}

/// A user's feedback as training data, all of it up to `lastEventID`: pairs from choices (the chosen reply over the
/// other one), thumbs, and corrections (the text the user wanted instead).
public struct PersonalFeedback: Sendable {
    public struct Pair: Sendable, Equatable {
        public let prompt, chosen, rejected: String
        public init(prompt: String, chosen: String, rejected: String) { (self.prompt, self.chosen, self.rejected) = (prompt, chosen, rejected) }
    }

    public struct Thumb: Sendable, Equatable {
        public let prompt, completion: String
        public let up: Bool
        public init(prompt: String, completion: String, up: Bool) { (self.prompt, self.completion, self.up) = (prompt, completion, up) }
    }

    public struct Correction: Sendable, Equatable {
        public let prompt, text: String
        public init(prompt: String, text: String) { (self.prompt, self.text) = (prompt, text) }
    }

    public var pairs: [Pair] = []
    public var thumbs: [Thumb] = []
    public var corrections: [Correction] = []
    /// The newest event included (0 when there is none).
    public var lastEventID: Int64 = 0

    public var events: Int { pairs.count + thumbs.count + corrections.count }

    public init() {}
}

/// A trained adapter version of a user.
public struct AdapterVersionRecord: Codable, Sendable, Equatable {
    public let version: Int
    /// Feedback events it learnt from.
    public let events: Int
    public let lastEventID: Int64
    public let seconds: Double
    public let createdAt: String

    enum CodingKeys: String, CodingKey {
        case version, events, seconds, lastEventID = "last_event_id", createdAt = "created_at"
    }
}

/// Everything stored about a user, for an admin's export (right of access).
public struct PersonalDataExport: Codable, Sendable {
    public struct Turn: Codable, Sendable {
        public let id: Int64
        public let messages: [ChatTurnMessage]
        public let prompt: String
        public let mode: ChatMode
        public let adapterVersion: Int
        public let createdAt: String
        public let replies: [StoredChatTurn.Reply]

        enum CodingKeys: String, CodingKey {
            case id, messages, prompt, mode, replies, adapterVersion = "adapter_version", createdAt = "created_at"
        }
    }

    public struct Event: Codable, Sendable {
        public let id: Int64
        public let turn: Int64
        public let kind: String
        public let reply: Int64
        public let up: Bool?
        public let correction: String?
        public let createdAt: String

        enum CodingKeys: String, CodingKey {
            case id, turn, kind, reply, up, correction, createdAt = "created_at"
        }
    }

    public let user: ChatUser
    public let turns: [Turn]
    public let events: [Event]
    public let adapterVersions: [AdapterVersionRecord]
    /// The adapter files of each version (name → base64), filled in by the server that keeps them.
    public var adapterFiles: [String: [String: String]] = [:]

    enum CodingKeys: String, CodingKey {
        case user, turns, events, adapterVersions = "adapter_versions", adapterFiles = "adapter_files"
    }
}
