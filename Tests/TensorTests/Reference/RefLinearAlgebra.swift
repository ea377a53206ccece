/// Matrix products by the triple loop.
extension Ref {
    /// op(A)·op(B) over the leading (batch) axes, op swapping the last two axes when transposed.
    /// A rank-2 `b` is shared by every batch of `a`; otherwise the batch axes must be equal.
    static func matmul(_ a: RefTensor, _ b: RefTensor, transposeA: Bool = false, transposeB: Bool = false) -> RefTensor {
        let batchShape = Array(a.shape.dropLast(2))
        let shared = b.rank == 2
        precondition(a.rank >= 2 && (shared || Array(b.shape.dropLast(2)) == batchShape), "matmul \(a.shape) \(b.shape)")
        let (aRows, aCols) = (a.shape[a.rank - 2], a.shape[a.rank - 1])
        let (bRows, bCols) = (b.shape[b.rank - 2], b.shape[b.rank - 1])
        let (m, k) = transposeA ? (aCols, aRows) : (aRows, aCols)
        let (kb, n) = transposeB ? (bCols, bRows) : (bRows, bCols)
        precondition(k == kb, "inner sizes \(k) and \(kb)")

        /// op(X) of one batch as a row-major [rows, columns] matrix.
        func matrix(_ x: RefTensor, batch: Int, rows: Int, columns: Int, transposed: Bool) -> [Double] {
            let base = batch * rows * columns
            var out = [Double](repeating: 0, count: rows * columns)
            for r in 0..<rows {
                for c in 0..<columns {
                    out[transposed ? c * rows + r : r * columns + c] = x.values[base + r * columns + c]
                }
            }
            return out
        }
        var out = RefTensor(shape: batchShape + [m, n], repeating: 0)
        for batch in 0..<batchShape.reduce(1, *) {
            let opA = matrix(a, batch: batch, rows: aRows, columns: aCols, transposed: transposeA)  // [m, k]
            let opB = matrix(b, batch: shared ? 0 : batch, rows: bRows, columns: bCols, transposed: transposeB)  // [k, n]
            for i in 0..<m {
                for j in 0..<n {
                    var total = 0.0
                    for p in 0..<k { total += opA[i * k + p] * opB[p * n + j] }
                    out.values[(batch * m + i) * n + j] = total
                }
            }
        }
        return out
    }

    /// y[..., o] = Σ_i x[..., i]·W[o, i] + bias[o], with W stored [out, in] (torch).
    static func linear(_ x: RefTensor, weight: RefTensor, bias: RefTensor?) -> RefTensor {
        let (inFeatures, outFeatures) = (weight.shape[1], weight.shape[0])
        precondition(x.shape.last == inFeatures && (bias?.shape ?? [outFeatures]) == [outFeatures])
        let rows = x.count / inFeatures
        var out = RefTensor(shape: Array(x.shape.dropLast()) + [outFeatures], repeating: 0)
        for r in 0..<rows {
            for o in 0..<outFeatures {
                var total = bias?.values[o] ?? 0
                for i in 0..<inFeatures {
                    total += x.values[r * inFeatures + i] * weight.values[o * inFeatures + i]
                }
                out.values[r * outFeatures + o] = total
            }
        }
        return out
    }
}
