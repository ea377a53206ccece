/// Every failure the engine reports instead of trapping: bad shapes, bad indices, bad files.
public enum TensorError: Error, CustomStringConvertible, Equatable {
    case shapeMismatch(op: String, String)
    case invalidArgument(op: String, String)
    case indexOutOfRange(op: String, index: Int, bound: Int)
    case autograd(String)
    case io(path: String, String)

    public var description: String {
        switch self {
        case .shapeMismatch(let op, let detail): return "\(op): shape mismatch: \(detail)"
        case .invalidArgument(let op, let detail): return "\(op): \(detail)"
        case .indexOutOfRange(let op, let index, let bound):
            return "\(op): index \(index) out of range 0..<\(bound)"
        case .autograd(let detail): return "autograd: \(detail)"
        case .io(let path, let detail): return "\(path): \(detail)"
        }
    }
}
