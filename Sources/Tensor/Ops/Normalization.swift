import Foundation

/// Fused LayerNorm and RMSNorm over the last axis; forward saves the per-row statistics backward needs.
extension Tensor {
    /// (x − mean) / √(var + eps) · weight + bias, with the biased variance as torch computes it.
    public func layerNorm(weight: Tensor, bias: Tensor?, eps: Float = 1e-5) throws -> Tensor {
        let (rows, n) = try normRows(weight: weight, bias: bias, op: "layerNorm")
        let out = Tensor(uninitializedShape: shape)
        var meanRows = [Float](repeating: 0, count: rows), rstdRows = [Float](repeating: 0, count: rows)
        meanRows.withUnsafeMutableBufferPointer { meanBuffer in
            rstdRows.withUnsafeMutableBufferPointer { rstdBuffer in
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
        // Constants for the backward: captured `var`s would be boxed and checked for exclusive access per element.
        let (mean, rstd) = (meanRows, rstdRows)
        return Autograd.record(out, inputs: [node, weight.node, bias?.node]) { g in
            let gx: Tensor? = needX ? Normalization.inputGradient(g, x: cx, weight: cw, rows: rows, n: n, mean: mean, rstd: rstd) : nil
            let gw: Tensor? = needW ? Normalization.weightGradient(g, x: cx, rows: rows, n: n, mean: mean, rstd: rstd) : nil
            let gb: Tensor? = needB ? Kernels.columnSums(g.data, rows: rows, columns: n) : nil
            return [gx, gw, gb]
        }
    }

    /// x / √(mean(x²) + eps) · weight (Llama's RMSNorm).
    public func rmsNorm(weight: Tensor, eps: Float = 1e-6) throws -> Tensor {
        let (rows, n) = try normRows(weight: weight, bias: nil, op: "rmsNorm")
        let out = Tensor(uninitializedShape: shape)
        var rstdRows = [Float](repeating: 0, count: rows)
        rstdRows.withUnsafeMutableBufferPointer { rstdBuffer in
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
        let rstd = rstdRows
        return Autograd.record(out, inputs: [node, weight.node]) { g in
            let gx: Tensor? = needX ? Normalization.inputGradient(g, x: cx, weight: cw, rows: rows, n: n, mean: nil, rstd: rstd) : nil
            let gw: Tensor? = needW ? Normalization.weightGradient(g, x: cx, rows: rows, n: n, mean: nil, rstd: rstd) : nil
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

/// The backward of both norms, over x̂ = (x − mean) · rstd (mean nil: RMSNorm, uncentred).
enum Normalization {
    /// dx = rstd · (ĝ − mean(ĝ) − x̂ · mean(ĝ · x̂)) with ĝ = g · weight; the mean(ĝ) term only when centred.
    static func inputGradient(_ g: Tensor, x: Tensor, weight: Tensor, rows: Int, n: Int, mean: [Float]?, rstd: [Float]) -> Tensor {
        let dx = Tensor(uninitializedShape: g.shape)
        let (gp, xp, w, d) = (g.data, x.data, weight.data, dx.data)
        withExtendedLifetime((g, x, weight)) {
            Parallel.forRows(rows, rowCost: n * 4) { r in
                let (m, s) = (mean?[r] ?? 0, rstd[r])
                let (gr, xr, dr) = (gp + r * n, xp + r * n, d + r * n)
                var meanG: Float = 0, meanGX: Float = 0
                for i in 0..<n {
                    let gi = gr[i] * w[i]
                    meanG += gi
                    meanGX += gi * ((xr[i] - m) * s)
                }
                meanG = mean == nil ? 0 : meanG / Float(n)
                meanGX /= Float(n)
                for i in 0..<n { dr[i] = s * (gr[i] * w[i] - meanG - ((xr[i] - m) * s) * meanGX) }
            }
        }
        return dx
    }

    /// dweight = Σ_rows g · x̂, columns split across cores.
    static func weightGradient(_ g: Tensor, x: Tensor, rows: Int, n: Int, mean: [Float]?, rstd: [Float]) -> Tensor {
        let out = Tensor.zeros([n])
        let (o, gp, xp) = (out.data, g.data, x.data)
        withExtendedLifetime((g, x)) {
            Parallel.forChunks(n, grain: max(8, Parallel.minimumWork / max(rows, 1))) { cols in
                for r in 0..<rows {
                    let (m, s) = (mean?[r] ?? 0, rstd[r])
                    for i in cols { o[i] += gp[r * n + i] * ((xp[r * n + i] - m) * s) }
                }
            }
        }
        return out
    }
}
