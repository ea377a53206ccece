/// Fused causal self-attention: softmax(Q·Kᵀ/√d + mask)·V per head, through BLAS, with grouped-query heads.
extension Tensor {
    /// - Parameters:
    ///   - query: `[B, Tq, heads·d]`; `key`, `value`: `[B, Tk, kvHeads·d]` (each group of heads/kvHeads query
    ///     heads shares one key/value head).
    ///   - keyMask: optional `[B·Tk]` of 1 (attend) / 0 (padding).
    ///   - positionOffset: absolute position of the first query (Tk − Tq with a KV cache, 0 in training);
    ///     query i sees keys j ≤ positionOffset + i.
    /// - Returns: `[B, Tq, heads·d]`. A query that sees no key outputs zeros.
    public static func causalAttention(query: Tensor, key: Tensor, value: Tensor, heads: Int, kvHeads: Int,
                                       keyMask: [Float]? = nil, positionOffset: Int? = nil) throws -> Tensor {
        let geometry = try AttentionGeometry(query: query, key: key, value: value, heads: heads, kvHeads: kvHeads,
                                             keyLength: nil, keyMask: keyMask, positionOffset: positionOffset)
        let out = Tensor(uninitializedShape: query.shape)
        let probabilities = Tensor(uninitializedShape: [geometry.batch, heads, geometry.tq, geometry.tk])
        withExtendedLifetime((query, key, value)) {
            geometry.forward(q: query.data, k: key.data, v: value.data, p: probabilities.data, out: out.data, keyMask: keyMask)
        }
        let (q, k, v) = (query.detached(), key.detached(), value.detached())
        return Autograd.record(out, inputs: [query.node, key.node, value.node]) { g in
            let (dq, dk, dv) = (Tensor(uninitializedShape: q.shape), Tensor.zeros(k.shape), Tensor.zeros(v.shape))
            geometry.backward(q: q.data, k: k.data, v: v.data, p: probabilities.data, dOut: g.data,
                              dq: dq.data, dk: dk.data, dv: dv.data)
            return [dq, dk, dv]
        }
    }

    /// Attention of new queries over the first `keyLength` rows of preallocated key/value buffers
    /// `[B, capacity, kvHeads·d]` (a KV cache, already holding this step's keys); records no gradient.
    /// The queries are the last `Tq` positions of those `keyLength`.
    public static func causalAttention(query: Tensor, keyCache: Tensor, valueCache: Tensor, keyLength: Int,
                                       heads: Int, kvHeads: Int, keyMask: [Float]? = nil) throws -> Tensor {
        let geometry = try AttentionGeometry(query: query, key: keyCache, value: valueCache, heads: heads, kvHeads: kvHeads,
                                             keyLength: keyLength, keyMask: keyMask, positionOffset: nil)
        let out = Tensor(uninitializedShape: query.shape)
        let probabilities = Tensor(uninitializedShape: [geometry.batch, heads, geometry.tq, geometry.tk])
        withExtendedLifetime((query, keyCache, valueCache)) {
            geometry.forward(q: query.data, k: keyCache.data, v: valueCache.data, p: probabilities.data, out: out.data,
                             keyMask: keyMask)
        }
        return out
    }
}

/// Sizes and strides of one attention call, and its per-batch kernels.
struct AttentionGeometry {
    /// `tk` keys are used of the `kvCapacity` rows each batch has in the key/value buffers.
    let batch, tq, tk, kvCapacity, heads, kvHeads, headDim, offset: Int
    var qRow: Int { heads * headDim }
    var kvRow: Int { kvHeads * headDim }
    var scale: Float { 1 / Float(headDim).squareRoot() }

    init(query: Tensor, key: Tensor, value: Tensor, heads: Int, kvHeads: Int, keyLength: Int?, keyMask: [Float]?,
         positionOffset: Int?) throws {
        guard query.rank == 3, key.rank == 3, key.shape == value.shape, query.shape[0] == key.shape[0] else {
            throw TensorError.shapeMismatch(op: "causalAttention", "query \(query.shape), key \(key.shape), value \(value.shape)")
        }
        guard heads > 0, kvHeads > 0, heads % kvHeads == 0, query.shape[2] % heads == 0 else {
            throw TensorError.invalidArgument(op: "causalAttention", "\(heads) heads, \(kvHeads) kv heads, width \(query.shape[2])")
        }
        (batch, tq, kvCapacity, self.heads, self.kvHeads) = (query.shape[0], query.shape[1], key.shape[1], heads, kvHeads)
        tk = keyLength ?? kvCapacity
        guard tk >= 0, tk <= kvCapacity else {
            throw TensorError.invalidArgument(op: "causalAttention", "key length \(tk) exceeds the \(kvCapacity) cached rows")
        }
        headDim = query.shape[2] / heads
        guard key.shape[2] == kvHeads * headDim else {
            throw TensorError.shapeMismatch(op: "causalAttention", "key width \(key.shape[2]) != \(kvHeads) kv heads × \(headDim)")
        }
        offset = positionOffset ?? (tk - tq)
        guard offset >= 0, offset + tq <= tk else {
            throw TensorError.invalidArgument(op: "causalAttention", "position offset \(offset) with \(tq) queries exceeds \(tk) keys")
        }
        if let keyMask, keyMask.count != batch * tk {
            throw TensorError.shapeMismatch(op: "causalAttention", "key mask has \(keyMask.count) values, expected \(batch * tk)")
        }
    }

    /// How many keys query i may see (causality), before padding.
    @inline(__always) func visibleKeys(_ i: Int) -> Int { offset + i + 1 }

    func forward(q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
                 p: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>, keyMask: [Float]?) {
        Parallel.forChunks(batch * heads, grain: 1) { jobs in
            for job in jobs {
                let (b, h) = (job / heads, job % heads)
                let kvh = h / (heads / kvHeads)
                let (qb, kb, vb) = (q + b * tq * qRow + h * headDim, k + b * kvCapacity * kvRow + kvh * headDim, v + b * kvCapacity * kvRow + kvh * headDim)
                let pb = p + job * tq * tk
                BLAS.sgemm(split: false, transposeA: false, transposeB: true, m: tq, n: tk, k: headDim, alpha: scale,
                           a: qb, lda: qRow, b: kb, ldb: kvRow, c: pb, ldc: tk)
                for i in 0..<tq {
                    let row = pb + i * tk
                    let visible = visibleKeys(i)
                    if let keyMask {
                        for j in 0..<visible where keyMask[b * tk + j] == 0 { row[j] = -.infinity }
                    }
                    if Softmax.max(row, visible) == -.infinity {
                        row.initialize(repeating: 0, count: tk)
                    } else {
                        Softmax.row(row, row, visible)
                        (row + visible).initialize(repeating: 0, count: tk - visible)
                    }
                }
                BLAS.sgemm(split: false, transposeA: false, transposeB: false, m: tq, n: headDim, k: tk,
                           a: pb, lda: tk, b: vb, ldb: kvRow, c: out + b * tq * qRow + h * headDim, ldc: qRow)
            }
        }
    }

    /// One job per (batch, key/value head), so the query heads sharing it accumulate into it on one thread.
    func backward(q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>, p: UnsafePointer<Float>,
                  dOut: UnsafePointer<Float>, dq: UnsafeMutablePointer<Float>, dk: UnsafeMutablePointer<Float>,
                  dv: UnsafeMutablePointer<Float>) {
        let scratchSize = tq * tk
        let group = heads / kvHeads
        Parallel.forChunks(batch * kvHeads, grain: 1) { jobs in
            let dScores = UnsafeMutablePointer<Float>.allocate(capacity: scratchSize)
            defer { dScores.deallocate() }
            for job in jobs {
                let (b, kvh) = (job / kvHeads, job % kvHeads)
                for h in (kvh * group)..<((kvh + 1) * group) {
                    let qOff = b * tq * qRow + h * headDim, kvOff = b * kvCapacity * kvRow + kvh * headDim
                    let pb = p + (b * heads + h) * scratchSize
                    // dV += Pᵀ·dO ; dP = dO·Vᵀ
                    BLAS.sgemm(split: false, transposeA: true, transposeB: false, m: tk, n: headDim, k: tq, a: pb, lda: tk,
                               b: dOut + qOff, ldb: qRow, beta: 1, c: dv + kvOff, ldc: kvRow)
                    BLAS.sgemm(split: false, transposeA: false, transposeB: true, m: tq, n: tk, k: headDim, a: dOut + qOff, lda: qRow,
                               b: v + kvOff, ldb: kvRow, c: dScores, ldc: tk)
                    // dS = P ⊙ (dP − rowsum(dP ⊙ P)) · scale
                    for i in 0..<tq {
                        let (pr, dr) = (pb + i * tk, dScores + i * tk)
                        let visible = visibleKeys(i)
                        let dot = Softmax.dot(dr, pr, visible)
                        for j in 0..<visible { dr[j] = pr[j] * (dr[j] - dot) * scale }
                        (dr + visible).initialize(repeating: 0, count: tk - visible)
                    }
                    // dQ = dS·K ; dK += dSᵀ·Q
                    BLAS.sgemm(split: false, transposeA: false, transposeB: false, m: tq, n: headDim, k: tk, a: dScores, lda: tk,
                               b: k + kvOff, ldb: kvRow, c: dq + qOff, ldc: qRow)
                    BLAS.sgemm(split: false, transposeA: true, transposeB: false, m: tk, n: headDim, k: tq, a: dScores, lda: tk,
                               b: q + qOff, ldb: qRow, beta: 1, c: dk + kvOff, ldc: kvRow)
                }
            }
        }
    }
}
