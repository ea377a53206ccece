/// Why a model could not be loaded, built or run.
public enum ModelError: Error, CustomStringConvertible, Equatable {
    /// A config.json value or architecture RLHFKit does not support.
    case unsupported(path: String, String)
    /// config.json is missing or malformed.
    case invalidConfig(path: String, String)
    /// The weights do not match the architecture (missing, unexpected or misshapen tensors).
    case checkpoint(path: String, String)
    case generation(String)
    /// An output directory the job may not write to.
    case output(String)
    /// A model argument that is no directory, nor a Hub model the cache or the Hub could give.
    case notFound(String)
    /// A classifier label that is neither one of its `id2label` names nor an index.
    case unknownLabel(String)

    public var description: String {
        switch self {
        case .unsupported(let path, let detail): return "\(path): unsupported: \(detail)"
        case .invalidConfig(let path, let detail): return "\(path): invalid config: \(detail)"
        case .checkpoint(let path, let detail): return "\(path): \(detail)"
        case .generation(let detail): return "generation: \(detail)"
        case .output(let detail), .notFound(let detail), .unknownLabel(let detail): return detail
        }
    }
}
