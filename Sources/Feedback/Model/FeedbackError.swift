/// A request the feedback store refuses, with the one line a person needs. The server maps the case to an HTTP
/// status; the CLI prints the message.
public enum FeedbackError: Error, Equatable, Sendable, CustomStringConvertible {
    /// Malformed or invalid input (HTTP 400).
    case invalid(String)
    /// The caller is known but may not do this (HTTP 403).
    case forbidden(String)
    /// No such project, item, labeler... (HTTP 404).
    case notFound(String)
    /// The request clashes with what is stored, e.g. a duplicate item id (HTTP 409).
    case conflict(String)

    public var description: String {
        switch self {
        case .invalid(let message), .forbidden(let message), .notFound(let message), .conflict(let message): message
        }
    }
}
