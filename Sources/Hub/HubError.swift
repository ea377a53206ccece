/// Why a model could not be found in the cache or fetched from the Hub; each reads as one line.
public enum HubError: Error, CustomStringConvertible, Equatable {
    /// `HF_HUB_OFFLINE` is set and the cache lacks what is needed.
    case offline(String)
    /// No such model, revision or file on the Hub.
    case notFound(String)
    /// A gated or private model without a token the Hub accepts.
    case unauthorized(String)
    /// The Hub could not be reached, or answered something unexpected.
    case network(String)
    /// Downloaded bytes that do not match the Hub's checksum, twice.
    case checksum(String)
    /// The cache could not be read or written.
    case cache(String)
    /// The model lacks files RLHFKit needs (e.g. it has only pickled `.bin` weights).
    case incomplete(String)

    public var description: String {
        switch self {
        case .offline(let message), .notFound(let message), .unauthorized(let message), .network(let message),
             .checksum(let message), .cache(let message), .incomplete(let message):
            return message
        }
    }
}
