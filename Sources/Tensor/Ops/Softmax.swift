import Foundation

/// Softmax and log-softmax over the last axis, numerically stable (max subtracted first).
extension Tensor {
    public func softmax() throws -> Tensor {
        let (rows, n) = try lastAxisRows(op: "softmax")
        let out = Tensor(uninitializedShape: shape)
        let (src, dst) = (data, out.data)
        withExtendedLifetime(self) {
            Parallel.forRows(rows, rowCost: n * 4) { r in Softmax.row(src + r * n, dst + r * n, n) }
        }
        let y = out.detached()
        return Autograd.record(out, inputs: [node]) { g in
            let dx = Tensor(uninitializedShape: y.shape)
            Parallel.forRows(rows, rowCost: n * 2) { r in
                let (yr, gr, d) = (y.data + r * n, g.data + r * n, dx.data + r * n)
                let dot = Softmax.dot(gr, yr, n)
                for i in 0..<n { d[i] = yr[i] * (gr[i] - dot) }
            }
            return [dx]
        }
    }

    public func logSoftmax() throws -> Tensor {
        let (rows, n) = try lastAxisRows(op: "logSoftmax")
        let out = Tensor(uninitializedShape: shape)
        let (src, dst) = (data, out.data)
        withExtendedLifetime(self) {
            Parallel.forRows(rows, rowCost: n * 4) { r in
                let lse = Softmax.logSumExp(src + r * n, n)
                let (s, d) = (src + r * n, dst + r * n)
                for i in 0..<n { d[i] = s[i] - lse }
            }
        }
        let y = out.detached()
        return Autograd.record(out, inputs: [node]) { g in
            let dx = Tensor(uninitializedShape: y.shape)
            Parallel.forRows(rows, rowCost: n * 4) { r in
                let (yr, gr, d) = (y.data + r * n, g.data + r * n, dx.data + r * n)
                var total: Float = 0
                for i in 0..<n { total += gr[i] }
                VectorMath.map(yr, d, count: n) { VectorMath.exp($0) }
                for i in 0..<n { d[i] = gr[i] - d[i] * total }
            }
            return [dx]
        }
    }

    /// The entropy of the softmax over the last axis, H = −Σ p·log p with p = softmax(x): [..., V] → [...].
    /// Fused, so that neither p nor log p is materialised: one pass over x forward (after its max), one backward,
    /// which keeps only `x` and each row's H and log Σ exp and gives ∂H/∂x_i = −p_i·(log p_i + H). `x` may be any
    /// logits of the distribution, log-softmax outputs included.
    public func softmaxEntropy() throws -> Tensor {
        let (rows, n) = try lastAxisRows(op: "softmaxEntropy")
        let out = Tensor(uninitializedShape: Array(shape.dropLast()))
        let logSumExps = Tensor(uninitializedShape: [rows])
        let (src, dst, lse) = (data, out.data, logSumExps.data)
        withExtendedLifetime(self) {
            Parallel.forRows(rows, rowCost: n * 4) { r in (dst[r], lse[r]) = Softmax.entropy(src + r * n, n) }
        }
        let (x, h) = (detached(), out.detached())
        return Autograd.record(out, inputs: [node]) { g in
            let dx = Tensor(uninitializedShape: x.shape)
            withExtendedLifetime((x, h, logSumExps)) {
                Parallel.forRows(rows, rowCost: n * 4) { r in
                    let (lse, entropy, scale) = (logSumExps.data[r], h.data[r], -g.data[r])
                    VectorMath.map(x.data + r * n, dx.data + r * n, count: n) { v in
                        let logp = v - lse, p = VectorMath.exp(logp)
                        var grad = p * (logp + entropy) * scale
                        grad.replace(with: 0, where: p .== 0)  // its limit as p → 0, also at x = −∞
                        return grad
                    }
                }
            }
            return [dx]
        }
    }

    /// (rows, row length) for kernels working on the last axis.
    func lastAxisRows(op: String) throws -> (Int, Int) {
        guard let n = shape.last, n > 0 else { throw TensorError.invalidArgument(op: op, "needs a non-empty last axis, got \(shape)") }
        return (count / n, n)
    }
}

/// Row kernels shared by softmax, log-softmax, cross-entropy and attention.
enum Softmax {
    @inline(__always)
    static func max(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
        var m = -Float.infinity
        for i in 0..<n where x[i] > m { m = x[i] }
        return m
    }

    /// dst = softmax(src) for one row of length n (src and dst may alias).
    @inline(__always)
    static func row(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<Float>, _ n: Int) {
        let m = max(src, n)
        VectorMath.map(src, dst, count: n) { VectorMath.exp($0 - m) }
        var total: Float = 0
        for i in 0..<n { total += dst[i] }
        let scale = 1 / total
        for i in 0..<n { dst[i] *= scale }
    }

    /// log Σ exp(x) for one row, without materialising the exponentials.
    @inline(__always)
    static func logSumExp(_ x: UnsafePointer<Float>, _ n: Int) -> Float {
        let m = max(x, n)
        var acc = VectorMath.Vector(repeating: 0)
        var i = 0
        while i + 8 <= n {
            acc += VectorMath.exp(UnsafeRawPointer(x + i).loadUnaligned(as: VectorMath.Vector.self) - m)
            i += 8
        }
        var total = acc.sum()
        while i < n {
            total += VectorMath.exp(VectorMath.Vector(repeating: x[i] - m))[0]
            i += 1
        }
        return m + Foundation.log(total)
    }

    /// The entropy of softmax(x) for one row, and log Σ exp(x), in one pass after the max m: with
    /// S = Σ e^(x−m) ≥ 1 and T = Σ e^(x−m)·(x−m) ≤ 0, H = log S − T/S, a sum of two non-negative terms.
    @inline(__always)
    static func entropy(_ x: UnsafePointer<Float>, _ n: Int) -> (entropy: Float, logSumExp: Float) {
        let m = max(x, n)
        var (s, t) = (VectorMath.Vector(repeating: 0), VectorMath.Vector(repeating: 0))
        func add(_ v: VectorMath.Vector, lanes: Int = 8) {
            let d = v - m
            var e = VectorMath.exp(d)
            if lanes < 8 { for lane in lanes..<8 { e[lane] = 0 } }
            var ed = e * d
            ed.replace(with: 0, where: e .== 0)  // e·d → 0 as e → 0, also at x = −∞
            (s, t) = (s + e, t + ed)
        }
        var i = 0
        while i + 8 <= n {
            add(UnsafeRawPointer(x + i).loadUnaligned(as: VectorMath.Vector.self))
            i += 8
        }
        if i < n {
            var v = VectorMath.Vector(repeating: m)
            for lane in 0..<(n - i) { v[lane] = x[i + lane] }
            add(v, lanes: n - i)
        }
        let (total, weighted) = (s.sum(), t.sum())
        let logTotal = Foundation.log(total)
        return (logTotal - weighted / total, m + logTotal)
    }

    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
        var total: Float = 0
        for i in 0..<n { total += a[i] * b[i] }
        return total
    }
}
