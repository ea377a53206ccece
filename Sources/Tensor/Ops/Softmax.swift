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

    @inline(__always)
    static func dot(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ n: Int) -> Float {
        var total: Float = 0
        for i in 0..<n { total += a[i] * b[i] }
        return total
    }
}
