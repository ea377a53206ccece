import Tensor

/// Keys and values of every layer for the tokens seen so far, so generation feeds only new tokens.
/// Buffers are allocated once for `capacity` positions per sequence.
public final class KVCache {
    public let batch: Int
    public let capacity: Int
    /// Positions already stored (the same for every layer once a forward pass completes).
    public private(set) var length = 0
    private(set) var keys: [Tensor]
    private(set) var values: [Tensor]

    public init(layers: Int, batch: Int, capacity: Int, kvWidth: Int) {
        self.batch = batch
        self.capacity = capacity
        keys = (0..<layers).map { _ in Tensor.zeros([batch, capacity, kvWidth]) }
        values = keys
    }

    /// Stores this step's keys and values of `layer`, then attends the queries `[B, T, heads·d]` (the last T positions)
    /// over every cached position of that layer; records no gradient.
    public func attend(layer: Int, query: Tensor, key: Tensor, value: Tensor, heads: Int, kvHeads: Int,
                       scores: Tensor.AttentionScores = .causal, keyMask: [Float]?) throws -> Tensor {
        try store(layer: layer, keys: key, values: value)
        return try Tensor.attention(query: query, keyCache: keys[layer], valueCache: values[layer], keyLength: length + query.shape[1],
                                    heads: heads, kvHeads: kvHeads, scores: scores, keyMask: keyMask)
    }

    /// Writes this step's keys and values `[B, T, kvWidth]` of `layer` after the stored positions.
    func store(layer: Int, keys newKeys: Tensor, values newValues: Tensor) throws {
        let (t, width) = (newKeys.shape[1], newKeys.shape[2])
        guard newKeys.shape == [batch, t, keys[layer].shape[2]], newValues.shape == newKeys.shape else {
            throw TensorError.shapeMismatch(op: "KVCache", "keys \(newKeys.shape) for a cache of \(keys[layer].shape)")
        }
        guard length + t <= capacity else {
            throw TensorError.invalidArgument(op: "KVCache", "\(length + t) positions exceed the cache capacity \(capacity)")
        }
        let start = length
        for (source, isKey) in [(newKeys, true), (newValues, false)] {
            source.withUnsafeBufferPointer { src in
                let write = { (buffer: UnsafeMutableBufferPointer<Float>) in
                    for b in 0..<self.batch {
                        let destination = buffer.baseAddress! + (b * self.capacity + start) * width
                        destination.update(from: src.baseAddress! + b * t * width, count: t * width)
                    }
                }
                if isKey { keys[layer].withUnsafeMutableBufferPointer(write) } else { values[layer].withUnsafeMutableBufferPointer(write) }
            }
        }
    }

    /// A cache holding only `rows` (indices into this batch), with what they stored: generation drops finished rows
    /// so later steps compute only the live ones.
    public func keepingRows(_ rows: [Int]) -> KVCache {
        let kept = KVCache(layers: keys.count, batch: rows.count, capacity: capacity, kvWidth: keys[0].shape[2])
        let span = length * keys[0].shape[2], rowStride = capacity * keys[0].shape[2]
        let copy = { (from: UnsafeBufferPointer<Float>, to: UnsafeMutableBufferPointer<Float>) in
            for (slot, row) in rows.enumerated() {
                (to.baseAddress! + slot * rowStride).update(from: from.baseAddress! + row * rowStride, count: span)
            }
        }
        for layer in keys.indices {
            keys[layer].withUnsafeBufferPointer { from in kept.keys[layer].withUnsafeMutableBufferPointer { copy(from, $0) } }
            values[layer].withUnsafeBufferPointer { from in kept.values[layer].withUnsafeMutableBufferPointer { copy(from, $0) } }
        }
        kept.length = length
        return kept
    }

    /// Marks `count` more positions as stored, after every layer has stored them.
    public func advance(by count: Int) { length += count }

    /// Forgets everything stored (the buffers are kept for reuse).
    public func reset() { length = 0 }
}
