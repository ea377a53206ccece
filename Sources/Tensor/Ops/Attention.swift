/// Fused attention: softmax(scale·Q·Kᵀ + bias + mask)·V per head, through BLAS, with grouped-query heads;
/// causal (decoders) or bidirectional (encoders, cross-attention), with an optional additive score bias
/// (T5's relative position buckets, DeBERTa's disentangled terms) that receives a gradient.
extension Tensor {
    /// How scores are formed besides Q·Kᵀ.
    public struct AttentionScores {
        /// Query i sees only keys j ≤ positionOffset + i.
        public var causal: Bool
        /// Multiplies Q·Kᵀ; nil means 1/√d (T5 uses 1).
        public var scale: Float?
        /// Added to the scaled scores: `[1 or B, 1 or heads, Tq, Tk]`.
        public var bias: Tensor?

        public init(causal: Bool = true, scale: Float? = nil, bias: Tensor? = nil) {
            (self.causal, self.scale, self.bias) = (causal, scale, bias)
        }

        public static var causal: AttentionScores { AttentionScores() }
    }

    /// - Parameters:
    ///   - query: `[B, Tq, heads·d]`; `key`, `value`: `[B, Tk, kvHeads·d]` (each group of heads/kvHeads query
    ///     heads shares one key/value head).
    ///   - keyMask: optional `[B·Tk]` of 1 (attend) / 0 (padding).
    ///   - positionOffset: absolute position of the first query (Tk − Tq with a KV cache, 0 in training);
    ///     with causal scores, query i sees keys j ≤ positionOffset + i.
    /// - Returns: `[B, Tq, heads·d]`. A query that sees no key outputs zeros.
    public static func attention(query: Tensor, key: Tensor, value: Tensor, heads: Int, kvHeads: Int,
                                 scores: AttentionScores = .causal, keyMask: [Float]? = nil,
                                 positionOffset: Int? = nil) throws -> Tensor {
        let geometry = try AttentionGeometry(query: query, key: key, value: value, heads: heads, kvHeads: kvHeads,
                                             keyLength: nil, keyMask: keyMask, positionOffset: positionOffset, scores: scores)
        let out = Tensor(uninitializedShape: query.shape)
        let probabilities = Tensor(uninitializedShape: [geometry.batch, heads, geometry.tq, geometry.tk])
        let bias = scores.bias
        withExtendedLifetime((query, key, value, bias)) {
            geometry.forward(q: query.data, k: key.data, v: value.data, bias: bias?.data, p: probabilities.data,
                             out: out.data, keyMask: keyMask)
        }
        let (q, k, v) = (query.detached(), key.detached(), value.detached())
        let biasShape = bias?.shape, needsBiasGradient = bias?.requiresGrad ?? false
        let inputs = [query.node, key.node, value.node] + (bias.map { [$0.node] } ?? [])
        return Autograd.record(out, inputs: inputs) { g in
            let (dq, dk, dv) = (Tensor(uninitializedShape: q.shape), Tensor.zeros(k.shape), Tensor.zeros(v.shape))
            let dScores = needsBiasGradient ? Tensor(uninitializedShape: probabilities.shape) : nil
            geometry.backward(q: q.data, k: k.data, v: v.data, p: probabilities.data, dOut: g.data,
                              dq: dq.data, dk: dk.data, dv: dv.data, dScores: dScores?.data)
            guard let biasShape else { return [dq, dk, dv] }
            guard let dScores else { return [dq, dk, dv, nil] }
            // A bias shared by every batch row or head gets the sum of their score gradients.
            var dBias = biasShape[0] == geometry.batch ? dScores : try dScores.sum(axis: 0, keepDims: true)
            if biasShape[1] == 1 { dBias = try dBias.sum(axis: 1, keepDims: true) }
            return [dq, dk, dv, dBias]
        }
    }

    /// Causal attention with 1/√d scaling and no bias (decoder-only models' self-attention).
    public static func causalAttention(query: Tensor, key: Tensor, value: Tensor, heads: Int, kvHeads: Int,
                                       keyMask: [Float]? = nil, positionOffset: Int? = nil) throws -> Tensor {
        try attention(query: query, key: key, value: value, heads: heads, kvHeads: kvHeads, keyMask: keyMask,
                      positionOffset: positionOffset)
    }

    /// Attention of new queries over the first `keyLength` rows of preallocated key/value buffers
    /// `[B, capacity, kvHeads·d]` (a KV cache, already holding this step's keys); records no gradient.
    /// The queries are the last `Tq` positions of those `keyLength`; a bias is `[1 or B, 1 or heads, Tq, keyLength]`.
    public static func attention(query: Tensor, keyCache: Tensor, valueCache: Tensor, keyLength: Int,
                                 heads: Int, kvHeads: Int, scores: AttentionScores = .causal,
                                 keyMask: [Float]? = nil) throws -> Tensor {
        let geometry = try AttentionGeometry(query: query, key: keyCache, value: valueCache, heads: heads, kvHeads: kvHeads,
                                             keyLength: keyLength, keyMask: keyMask, positionOffset: nil, scores: scores)
        let out = Tensor(uninitializedShape: query.shape)
        let probabilities = Tensor(uninitializedShape: [geometry.batch, heads, geometry.tq, geometry.tk])
        let bias = scores.bias
        withExtendedLifetime((query, keyCache, valueCache, bias)) {
            geometry.forward(q: query.data, k: keyCache.data, v: valueCache.data, bias: bias?.data, p: probabilities.data,
                             out: out.data, keyMask: keyMask)
        }
        return out
    }
}

/// Sizes and strides of one attention call, and its per-batch kernels.
struct AttentionGeometry {
    /// `tk` keys are used of the `kvCapacity` rows each batch has in the key/value buffers.
    let batch, tq, tk, kvCapacity, heads, kvHeads, headDim, offset: Int
    let causal: Bool
    let scale: Float
    /// Floats between one batch row's (or head's) bias and the next: 0 when every row (head) shares it.
    let biasBatchStride, biasHeadStride: Int
    var qRow: Int { heads * headDim }
    var kvRow: Int { kvHeads * headDim }

    init(query: Tensor, key: Tensor, value: Tensor, heads: Int, kvHeads: Int, keyLength: Int?, keyMask: [Float]?,
         positionOffset: Int?, scores: Tensor.AttentionScores) throws {
        guard query.rank == 3, key.rank == 3, key.shape == value.shape, query.shape[0] == key.shape[0] else {
            throw TensorError.shapeMismatch(op: "attention", "query \(query.shape), key \(key.shape), value \(value.shape)")
        }
        guard heads > 0, kvHeads > 0, heads % kvHeads == 0, query.shape[2] % heads == 0 else {
            throw TensorError.invalidArgument(op: "attention", "\(heads) heads, \(kvHeads) kv heads, width \(query.shape[2])")
        }
        (batch, tq, kvCapacity, self.heads, self.kvHeads) = (query.shape[0], query.shape[1], key.shape[1], heads, kvHeads)
        tk = keyLength ?? kvCapacity
        guard tk >= 0, tk <= kvCapacity else {
            throw TensorError.invalidArgument(op: "attention", "key length \(tk) exceeds the \(kvCapacity) cached rows")
        }
        headDim = query.shape[2] / heads
        guard key.shape[2] == kvHeads * headDim else {
            throw TensorError.shapeMismatch(op: "attention", "key width \(key.shape[2]) != \(kvHeads) kv heads × \(headDim)")
        }
        causal = scores.causal
        scale = scores.scale ?? 1 / Float(headDim).squareRoot()
        offset = positionOffset ?? (tk - tq)
        guard !causal || (offset >= 0 && offset + tq <= tk) else {
            throw TensorError.invalidArgument(op: "attention", "position offset \(offset) with \(tq) queries exceeds \(tk) keys")
        }
        if let keyMask, keyMask.count != batch * tk {
            throw TensorError.shapeMismatch(op: "attention", "key mask has \(keyMask.count) values, expected \(batch * tk)")
        }
        if let bias = scores.bias {
            guard bias.rank == 4, bias.shape[0] == 1 || bias.shape[0] == batch, bias.shape[1] == 1 || bias.shape[1] == heads,
                  Array(bias.shape.dropFirst(2)) == [tq, tk] else {
                throw TensorError.shapeMismatch(op: "attention", "score bias \(bias.shape), expected [1 or \(batch), 1 or \(heads), \(tq), \(tk)]")
            }
            biasHeadStride = bias.shape[1] == 1 ? 0 : tq * tk
            biasBatchStride = bias.shape[0] == 1 ? 0 : bias.shape[1] * tq * tk
        } else {
            (biasBatchStride, biasHeadStride) = (0, 0)
        }
    }

    /// How many keys query i may see (causality), before padding.
    @inline(__always) func visibleKeys(_ i: Int) -> Int { causal ? offset + i + 1 : tk }

    func forward(q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>, bias: UnsafePointer<Float>?,
                 p: UnsafeMutablePointer<Float>, out: UnsafeMutablePointer<Float>, keyMask: [Float]?) {
        Parallel.forChunks(batch * heads, grain: 1) { jobs in
            for job in jobs {
                let (b, h) = (job / heads, job % heads)
                let kvh = h / (heads / kvHeads)
                let (qb, kb, vb) = (q + b * tq * qRow + h * headDim, k + b * kvCapacity * kvRow + kvh * headDim, v + b * kvCapacity * kvRow + kvh * headDim)
                let pb = p + job * tq * tk
                BLAS.sgemm(split: false, transposeA: false, transposeB: true, m: tq, n: tk, k: headDim, alpha: scale,
                           a: qb, lda: qRow, b: kb, ldb: kvRow, c: pb, ldc: tk)
                let biasBlock = bias.map { $0 + b * biasBatchStride + h * biasHeadStride }
                for i in 0..<tq {
                    let row = pb + i * tk
                    let visible = visibleKeys(i)
                    if let biasBlock {
                        let biasRow = biasBlock + i * tk
                        for j in 0..<visible { row[j] += biasRow[j] }
                    }
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
    /// With `dScores` (`[B, heads, Tq, Tk]`), the gradient of the pre-softmax scores is kept there (the bias's).
    func backward(q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>, p: UnsafePointer<Float>,
                  dOut: UnsafePointer<Float>, dq: UnsafeMutablePointer<Float>, dk: UnsafeMutablePointer<Float>,
                  dv: UnsafeMutablePointer<Float>, dScores keptScores: UnsafeMutablePointer<Float>?) {
        let scratchSize = tq * tk
        let group = heads / kvHeads
        Parallel.forChunks(batch * kvHeads, grain: 1) { jobs in
            let scratch = keptScores == nil ? UnsafeMutablePointer<Float>.allocate(capacity: scratchSize) : nil
            defer { scratch?.deallocate() }
            for job in jobs {
                let (b, kvh) = (job / kvHeads, job % kvHeads)
                for h in (kvh * group)..<((kvh + 1) * group) {
                    let qOff = b * tq * qRow + h * headDim, kvOff = b * kvCapacity * kvRow + kvh * headDim
                    let pb = p + (b * heads + h) * scratchSize
                    let dScores = keptScores.map { $0 + (b * heads + h) * scratchSize } ?? scratch!
                    // dV += Pᵀ·dO ; dP = dO·Vᵀ
                    BLAS.sgemm(split: false, transposeA: true, transposeB: false, m: tk, n: headDim, k: tq, a: pb, lda: tk,
                               b: dOut + qOff, ldb: qRow, beta: 1, c: dv + kvOff, ldc: kvRow)
                    BLAS.sgemm(split: false, transposeA: false, transposeB: true, m: tq, n: tk, k: headDim, a: dOut + qOff, lda: qRow,
                               b: v + kvOff, ldb: kvRow, c: dScores, ldc: tk)
                    // dS = P ⊙ (dP − rowsum(dP ⊙ P)): the bias's gradient; Q·Kᵀ's is dS · scale.
                    for i in 0..<tq {
                        let (pr, dr) = (pb + i * tk, dScores + i * tk)
                        let visible = visibleKeys(i)
                        let dot = Softmax.dot(dr, pr, visible)
                        for j in 0..<visible { dr[j] = pr[j] * (dr[j] - dot) }
                        (dr + visible).initialize(repeating: 0, count: tk - visible)
                    }
                    // dQ = scale·dS·K ; dK += scale·dSᵀ·Q
                    BLAS.sgemm(split: false, transposeA: false, transposeB: false, m: tq, n: headDim, k: tk, alpha: scale,
                               a: dScores, lda: tk, b: k + kvOff, ldb: kvRow, c: dq + qOff, ldc: qRow)
                    BLAS.sgemm(split: false, transposeA: true, transposeB: false, m: tk, n: headDim, k: tq, alpha: scale,
                               a: dScores, lda: tk, b: q + qOff, ldb: qRow, beta: 1, c: dk + kvOff, ldc: kvRow)
                }
            }
        }
    }
}
