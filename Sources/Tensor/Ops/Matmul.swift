/// Matrix products, all through BLAS sgemm.
extension Tensor {
    /// `a[..., M, K] · b[K, N]` (b shared by every batch) or `a[B..., M, K] · b[B..., K, N]` (batched);
    /// either operand may be used transposed (its last two axes swapped) without a copy.
    public static func matmul(_ a: Tensor, _ b: Tensor, transposeA: Bool = false, transposeB: Bool = false) throws -> Tensor {
        guard a.rank >= 2, b.rank >= 2 else {
            throw TensorError.shapeMismatch(op: "matmul", "operands need rank >= 2, got \(a.shape) and \(b.shape)")
        }
        let (ar, br) = (a.rank, b.rank)
        let m = transposeA ? a.shape[ar - 1] : a.shape[ar - 2]
        let k = transposeA ? a.shape[ar - 2] : a.shape[ar - 1]
        let kb = transposeB ? b.shape[br - 1] : b.shape[br - 2]
        let n = transposeB ? b.shape[br - 2] : b.shape[br - 1]
        guard k == kb else {
            throw TensorError.shapeMismatch(op: "matmul", "\(a.shape)\(transposeA ? "ᵀ" : "") · \(b.shape)\(transposeB ? "ᵀ" : ""): inner sizes \(k) and \(kb) differ")
        }
        let batchA = Array(a.shape.dropLast(2)), batchB = Array(b.shape.dropLast(2))
        guard br == 2 || batchA == batchB else {
            throw TensorError.shapeMismatch(op: "matmul", "batch axes \(batchA) and \(batchB) differ")
        }
        guard !(br == 2 && ar > 2 && transposeA) else {
            throw TensorError.invalidArgument(op: "matmul", "a batched transposed A needs a batched B")
        }
        let batch = Shape.count(batchA)
        let out = Tensor(uninitializedShape: batchA + [m, n])
        withExtendedLifetime((a, b)) {
            if br == 2 && !transposeA {
                // One tall GEMM over all batches: rows of every batch are contiguous.
                BLAS.sgemm(transposeA: false, transposeB: transposeB, m: batch * m, n: n, k: k,
                           a: a.data, lda: a.shape[ar - 1], b: b.data, ldb: b.shape[1], c: out.data, ldc: n)
            } else {
                let strideB = br == 2 ? 0 : k * n
                for i in 0..<batch {
                    BLAS.sgemm(transposeA: transposeA, transposeB: transposeB, m: m, n: n, k: k,
                               a: a.data + i * m * k, lda: a.shape[ar - 1], b: b.data + i * strideB,
                               ldb: b.shape[br - 1], c: out.data + i * m * n, ldc: n)
                }
            }
        }
        let (ca, cb, needA, needB) = (a.detached(), b.detached(), a.requiresGrad, b.requiresGrad)
        return Autograd.record(out, inputs: [a.node, b.node]) { g in
            // C = op(A)·op(B): dA = dC·op(B)ᵀ (or its transpose), dB = op(A)ᵀ·dC (or its transpose).
            let ga = needA ? (transposeA ? try matmul(cb, g, transposeA: transposeB, transposeB: true)
                                         : try matmul(g, cb, transposeB: !transposeB)) : nil
            var gb: Tensor? = nil
            if needB {
                if br == 2 && ar > 2 {  // B shared by every batch: its gradient sums over all rows at once
                    let g2 = try g.reshaped([batch * m, n]), a2 = try ca.reshaped([batch * m, k])
                    gb = transposeB ? try matmul(g2, a2, transposeA: true) : try matmul(a2, g2, transposeA: true)
                } else {
                    gb = transposeB ? try matmul(g, ca, transposeA: true, transposeB: transposeA)
                                    : try matmul(ca, g, transposeA: !transposeA)
                }
            }
            return [ga, gb]
        }
    }

    /// `x[..., in] · Wᵀ + bias` with `weight` stored `[out, in]` (torch `nn.Linear`). The bias is added inside the GEMM.
    public static func linear(_ x: Tensor, weight: Tensor, bias: Tensor? = nil) throws -> Tensor {
        guard weight.rank == 2, x.rank >= 1 else {
            throw TensorError.shapeMismatch(op: "linear", "input \(x.shape), weight \(weight.shape)")
        }
        let (inFeatures, outFeatures) = (weight.shape[1], weight.shape[0])
        guard x.shape.last == inFeatures else {
            throw TensorError.shapeMismatch(op: "linear", "input \(x.shape) has \(x.shape.last ?? 0) features, weight \(weight.shape) expects \(inFeatures)")
        }
        if let bias, bias.shape != [outFeatures] {
            throw TensorError.shapeMismatch(op: "linear", "bias \(bias.shape), expected [\(outFeatures)]")
        }
        let rows = x.count / inFeatures
        let out = Tensor(uninitializedShape: Array(x.shape.dropLast()) + [outFeatures])
        withExtendedLifetime((x, weight, bias)) {
            if let bias {
                let (b, o) = (bias.data, out.data)
                Parallel.forRows(rows, rowCost: outFeatures) { r in (o + r * outFeatures).update(from: b, count: outFeatures) }
            }
            BLAS.sgemm(transposeA: false, transposeB: true, m: rows, n: outFeatures, k: inFeatures,
                       a: x.data, lda: inFeatures, b: weight.data, ldb: inFeatures,
                       beta: bias == nil ? 0 : 1, c: out.data, ldc: outFeatures)
        }
        let (cx, cw) = (x.detached(), weight.detached())
        let (needX, needW, needB) = (x.requiresGrad, weight.requiresGrad, bias?.requiresGrad ?? false)
        return Autograd.record(out, inputs: [x.node, weight.node, bias?.node]) { g in
            var gx: Tensor? = nil, gw: Tensor? = nil, gb: Tensor? = nil
            withExtendedLifetime((g, cx, cw)) {
                if needX {
                    let t = Tensor(uninitializedShape: cx.shape)
                    BLAS.sgemm(transposeA: false, transposeB: false, m: rows, n: inFeatures, k: outFeatures,
                               a: g.data, lda: outFeatures, b: cw.data, ldb: inFeatures, c: t.data, ldc: inFeatures)
                    gx = t
                }
                if needW {
                    let t = Tensor(uninitializedShape: cw.shape)
                    // dW[out, in] = gᵀ · x
                    BLAS.sgemm(transposeA: true, transposeB: false, m: outFeatures, n: inFeatures, k: rows,
                               a: g.data, lda: outFeatures, b: cx.data, ldb: inFeatures, c: t.data, ldc: inFeatures)
                    gw = t
                }
                if needB { gb = Kernels.columnSums(g.data, rows: rows, columns: outFeatures) }
            }
            return [gx, gw, gb]
        }
    }
}
