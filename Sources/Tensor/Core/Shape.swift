/// Shape arithmetic shared by the ops.
public enum Shape {
    public static func count(_ shape: [Int]) -> Int { shape.reduce(1, *) }

    /// Resolves a possibly negative axis against `rank`.
    public static func axis(_ axis: Int, rank: Int, op: String) throws -> Int {
        let resolved = axis < 0 ? axis + rank : axis
        guard resolved >= 0, resolved < rank else {
            throw TensorError.invalidArgument(op: op, "axis \(axis) out of range for rank \(rank)")
        }
        return resolved
    }

    /// NumPy broadcasting of two shapes.
    public static func broadcast(_ a: [Int], _ b: [Int], op: String) throws -> [Int] {
        let rank = max(a.count, b.count)
        var result = [Int](repeating: 1, count: rank)
        for i in 0..<rank {
            let da = i < rank - a.count ? 1 : a[i - (rank - a.count)]
            let db = i < rank - b.count ? 1 : b[i - (rank - b.count)]
            guard da == db || da == 1 || db == 1 else {
                throw TensorError.shapeMismatch(op: op, "\(a) and \(b) do not broadcast")
            }
            result[i] = da == 1 ? db : da
        }
        return result
    }

    /// Row-major strides of `shape` aligned to the trailing axes of `target`, 0 where broadcast.
    static func broadcastStrides(_ shape: [Int], to target: [Int]) -> [Int] {
        var strides = [Int](repeating: 0, count: target.count)
        var step = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) {
            let t = i + target.count - shape.count
            strides[t] = shape[i] == 1 ? 0 : step
            step *= shape[i]
        }
        return strides
    }

    /// Splits `shape` around `axis` into (outer, length, inner) for axis-wise kernels.
    static func split(_ shape: [Int], axis: Int) -> (outer: Int, length: Int, inner: Int) {
        (count(Array(shape[..<axis])), shape[axis], count(Array(shape[(axis + 1)...])))
    }
}
