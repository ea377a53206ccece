/// Integer-indexed ops: embedding lookup and gather along the last axis.
extension Tensor {
    /// Rows of `table[V, D]` for `ids` (shape `idsShape`), giving `idsShape + [D]`; backward scatter-adds.
    public static func embedding(_ table: Tensor, ids: [Int], shape idsShape: [Int]) throws -> Tensor {
        guard table.rank == 2 else { throw TensorError.shapeMismatch(op: "embedding", "table must be [V, D], got \(table.shape)") }
        guard Shape.count(idsShape) == ids.count else {
            throw TensorError.shapeMismatch(op: "embedding", "\(ids.count) ids for shape \(idsShape)")
        }
        let (vocab, dim) = (table.shape[0], table.shape[1])
        if let bad = ids.first(where: { $0 < 0 || $0 >= vocab }) {
            throw TensorError.indexOutOfRange(op: "embedding", index: bad, bound: vocab)
        }
        let out = Tensor(uninitializedShape: idsShape + [dim])
        let (src, dst) = (table.data, out.data)
        withExtendedLifetime(table) {
            Parallel.forRows(ids.count, rowCost: dim) { r in (dst + r * dim).update(from: src + ids[r] * dim, count: dim) }
        }
        let tableShape = table.shape
        return Autograd.record(out, inputs: [table.node]) { g in
            let grad = Tensor.zeros(tableShape)
            // Rows are split by destination id so two threads never add into the same row.
            Parallel.forChunks(vocab, grain: Swift.max(1, vocab / 64)) { range in
                for (r, id) in ids.enumerated() where range.contains(id) {
                    let (d, s) = (grad.data + id * dim, g.data + r * dim)
                    for i in 0..<dim { d[i] += s[i] }
                }
            }
            return [grad]
        }
    }

    /// `out[..., 0] = self[..., indices[row]]`: picks one value per row of the last axis
    /// (log-probabilities of chosen tokens). Returns the shape without the last axis.
    public func gather(lastAxis indices: [Int]) throws -> Tensor {
        let (rows, n) = try lastAxisRows(op: "gather")
        guard indices.count == rows else {
            throw TensorError.shapeMismatch(op: "gather", "\(indices.count) indices for \(rows) rows of \(shape)")
        }
        if let bad = indices.first(where: { $0 < 0 || $0 >= n }) {
            throw TensorError.indexOutOfRange(op: "gather", index: bad, bound: n)
        }
        let out = Tensor(uninitializedShape: Array(shape.dropLast()))
        for r in 0..<rows { out.data[r] = data[r * n + indices[r]] }
        let inputShape = shape
        return Autograd.record(out, inputs: [node]) { g in
            let grad = Tensor.zeros(inputShape)
            for r in 0..<rows { grad.data[r * n + indices[r]] = g.data[r] }
            return [grad]
        }
    }

    /// `out[..., i, j] = self[..., i, index[i·K + j]]` for `self` `[..., R, S]` and one index table `[R, K]`
    /// shared by every leading position (DeBERTa's relative-position lookups). Returns `[..., R, K]`.
    public func gather(rows index: [Int], width k: Int) throws -> Tensor {
        guard rank >= 2, k > 0, index.count == shape[rank - 2] * k else {
            throw TensorError.shapeMismatch(op: "gather", "an index of \(index.count) values in rows of \(k) for \(shape)")
        }
        let (r, s) = (shape[rank - 2], shape[rank - 1])
        if let bad = index.first(where: { $0 < 0 || $0 >= s }) {
            throw TensorError.indexOutOfRange(op: "gather", index: bad, bound: s)
        }
        let groups = count / Swift.max(r * s, 1)
        let out = Tensor(uninitializedShape: Array(shape.dropLast()) + [k])
        withExtendedLifetime(self) {
            Parallel.forRows(groups, rowCost: r * k) { g in
                let (src, dst) = (data + g * r * s, out.data + g * r * k)
                for i in 0..<r { for j in 0..<k { dst[i * k + j] = src[i * s + index[i * k + j]] } }
            }
        }
        let inputShape = shape
        return Autograd.record(out, inputs: [node]) { grad in
            let input = Tensor.zeros(inputShape)
            Parallel.forRows(groups, rowCost: r * k) { g in
                let (src, dst) = (grad.data + g * r * k, input.data + g * r * s)
                for i in 0..<r { for j in 0..<k { dst[i * s + index[i * k + j]] += src[i * k + j] } }
            }
            return [input]
        }
    }
}
