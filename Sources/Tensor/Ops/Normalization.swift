import Foundation

/// Fused LayerNorm and RMSNorm over the last axis; forward saves the per-row statistics backward needs.
extension Tensor {
    /// (x − mean) / √(var + eps) · weight + bias, with the biased variance as torch computes it.
    public func layerNorm(weight: Tensor, bias: Tensor?, eps: Float = 1e-5) throws -> Tensor {
        let (rows, n) = try normRows(weight: weight, bias: bias, op: "layerNorm")
        let out = Tensor(uninitializedShape: shape)
        var mean = [Float](repeating: 0, count: rows), rstd = [Float](repeating: 0, count: rows)
        mean.withUnsafeMutableBufferPointer { meanBuffer in
            rstd.withUnsafeMutableBufferPointer { rstdBuffer in
                let (x, y, w, b, mu, rs) = (data, out.data, weight.data, bias?.data, meanBuffer.baseAddress!, rstdBuffer.baseAddress!)
                withExtendedLifetime((self, weight, bias)) {
                    Parallel.forRows(rows, rowCost: n * 3) { r in
                        let (xr, yr) = (x + r * n, y + r * n)
                        var sum: Float = 0
                        for i in 0..<n { sum += xr[i] }
                        let m = sum / Float(n)
                        var sq: Float = 0
                        for i in 0..<n { sq += (xr[i] - m) * (xr[i] - m) }
                        let s = 1 / (sq / Float(n) + eps).squareRoot()
                        mu[r] = m
                        rs[r] = s
                        if let b {
                            for i in 0..<n { yr[i] = (xr[i] - m) * s * w[i] + b[i] }
                        } else {
                            for i in 0..<n { yr[i] = (xr[i] - m) * s * w[i] }
                        }
                    }
                }
            }
        }
        let (cx, cw) = (detached(), weight.detached())
        let (needX, needW, needB) = (requiresGrad, weight.requiresGrad, bias?.requiresGrad ?? false)
        return Autograd.record(out, inputs: [node, weight.node, bias?.node]) { g in
            let normalized = { (r: Int, i: Int) in (cx.data[r * n + i] - mean[r]) * rstd[r] }
            let gx: Tensor? = needX ? Normalization.inputGradient(g, weight: cw, rows: rows, n: n, centered: true,
                                                                   rstd: rstd, normalized: normalized) : nil
            let gw: Tensor? = needW ? Normalization.columnSums(rows: rows, n: n) { r, i in g.data[r * n + i] * normalized(r, i) } : nil
            let gb: Tensor? = needB ? Kernels.columnSums(g.data, rows: rows, columns: n) : nil
            return [gx, gw, gb]
        }
    }

    /// x / √(mean(x²) + eps) · weight (Llama's RMSNorm).
    public func rmsNorm(weight: Tensor, eps: Float = 1e-6) throws -> Tensor {
        let (rows, n) = try normRows(weight: weight, bias: nil, op: "rmsNorm")
        let out = Tensor(uninitializedShape: shape)
        var rstd = [Float](repeating: 0, count: rows)
        rstd.withUnsafeMutableBufferPointer { rstdBuffer in
            let (x, y, w, rs) = (data, out.data, weight.data, rstdBuffer.baseAddress!)
            withExtendedLifetime((self, weight)) {
                Parallel.forRows(rows, rowCost: n * 2) { r in
                    let (xr, yr) = (x + r * n, y + r * n)
                    var sq: Float = 0
                    for i in 0..<n { sq += xr[i] * xr[i] }
                    let s = 1 / (sq / Float(n) + eps).squareRoot()
                    rs[r] = s
                    for i in 0..<n { yr[i] = xr[i] * s * w[i] }
                }
            }
        }
        let (cx, cw) = (detached(), weight.detached())
        let (needX, needW) = (requiresGrad, weight.requiresGrad)
        return Autograd.record(out, inputs: [node, weight.node]) { g in
            let normalized = { (r: Int, i: Int) in cx.data[r * n + i] * rstd[r] }
            let gx: Tensor? = needX ? Normalization.inputGradient(g, weight: cw, rows: rows, n: n, centered: false,
                                                                   rstd: rstd, normalized: normalized) : nil
            let gw: Tensor? = needW ? Normalization.columnSums(rows: rows, n: n) { r, i in g.data[r * n + i] * normalized(r, i) } : nil
            return [gx, gw]
        }
    }

    private func normRows(weight: Tensor, bias: Tensor?, op: String) throws -> (Int, Int) {
        let (rows, n) = try lastAxisRows(op: op)
        guard weight.shape == [n], bias.map({ $0.shape == [n] }) ?? true else {
            throw TensorError.shapeMismatch(op: op, "input \(shape) needs weight [\(n)], got \(weight.shape)\(bias.map { " and bias \($0.shape)" } ?? "")")
        }
        return (rows, n)
    }
}

enum Normalization {
    /// dx = rstd · (ĝ − mean(ĝ) − x̂ · mean(ĝ · x̂)) with ĝ = g · weight; the mean(ĝ) term only when centred.
    static func inputGradient(_ g: Tensor, weight: Tensor, rows: Int, n: Int, centered: Bool, rstd: [Float],
                              normalized: (Int, Int) -> Float) -> Tensor {
        let dx = Tensor(uninitializedShape: g.shape)
        let (gp, w, d) = (g.data, weight.data, dx.data)
        Parallel.forRows(rows, rowCost: n * 4) { r in
            var meanG: Float = 0, meanGX: Float = 0
            for i in 0..<n {
                let gi = gp[r * n + i] * w[i]
                meanG += gi
                meanGX += gi * normalized(r, i)
            }
            meanG = centered ? meanG / Float(n) : 0
            meanGX /= Float(n)
            for i in 0..<n {
                d[r * n + i] = rstd[r] * (gp[r * n + i] * w[i] - meanG - normalized(r, i) * meanGX)
            }
        }
        return dx
    }

    /// Σ_rows f(row, column) for every column, columns split across cores.
    static func columnSums(rows: Int, n: Int, _ f: (Int, Int) -> Float) -> Tensor {
        let out = Tensor.zeros([n])
        let o = out.data
        Parallel.forChunks(n, grain: max(8, Parallel.minimumWork / max(rows, 1))) { cols in
            for r in 0..<rows { for i in cols { o[i] += f(r, i) } }
        }
        return out
    }
}
