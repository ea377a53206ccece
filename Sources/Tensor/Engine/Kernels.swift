/// Multi-threaded elementwise loops shared by the ops; each runs 8 lanes at a time with no allocation inside.
enum Kernels {
    typealias Vector = VectorMath.Vector

    /// out[i] = f(x[i])
    static func map(_ x: Tensor, _ f: (Vector) -> Vector) -> Tensor {
        let out = Tensor(uninitializedShape: x.shape)
        let src = x.data, dst = out.data
        withExtendedLifetime(x) {
            Parallel.forChunks(x.count, grain: Parallel.minimumWork) { r in
                VectorMath.map(src + r.lowerBound, dst + r.lowerBound, count: r.count, f)
            }
        }
        return out
    }

    /// out[i] = f(x[i], y[i]) for equal shapes.
    static func zip(_ x: Tensor, _ y: Tensor, _ f: (Vector, Vector) -> Vector) -> Tensor {
        let out = Tensor(uninitializedShape: x.shape)
        zip(x.data, y.data, into: out.data, count: x.count, f)
        withExtendedLifetime((x, y)) {}
        return out
    }

    static func zip(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, into out: UnsafeMutablePointer<Float>,
                    count: Int, _ f: (Vector, Vector) -> Vector) {
        Parallel.forChunks(count, grain: Parallel.minimumWork) { r in
            var i = r.lowerBound
            while i + 8 <= r.upperBound {
                let va = UnsafeRawPointer(a + i).loadUnaligned(as: Vector.self)
                let vb = UnsafeRawPointer(b + i).loadUnaligned(as: Vector.self)
                UnsafeMutableRawPointer(out + i).storeBytes(of: f(va, vb), as: Vector.self)
                i += 8
            }
            while i < r.upperBound {
                out[i] = f(Vector(repeating: a[i]), Vector(repeating: b[i]))[0]
                i += 1
            }
        }
    }

    /// out[i] = f(x[i], y[i], z[i]) for equal shapes.
    static func zip3(_ x: Tensor, _ y: Tensor, _ z: Tensor, _ f: (Vector, Vector, Vector) -> Vector) -> Tensor {
        let out = Tensor(uninitializedShape: x.shape)
        let a = x.data, b = y.data, c = z.data, o = out.data
        withExtendedLifetime((x, y, z)) {
            Parallel.forChunks(x.count, grain: Parallel.minimumWork) { r in
                var i = r.lowerBound
                while i + 8 <= r.upperBound {
                    let va = UnsafeRawPointer(a + i).loadUnaligned(as: Vector.self)
                    let vb = UnsafeRawPointer(b + i).loadUnaligned(as: Vector.self)
                    let vc = UnsafeRawPointer(c + i).loadUnaligned(as: Vector.self)
                    UnsafeMutableRawPointer(o + i).storeBytes(of: f(va, vb, vc), as: Vector.self)
                    i += 8
                }
                while i < r.upperBound {
                    o[i] = f(Vector(repeating: a[i]), Vector(repeating: b[i]), Vector(repeating: c[i]))[0]
                    i += 1
                }
            }
        }
        return out
    }

    /// Broadcasting binary loop: walks the output row by row (last axis innermost), each input
    /// advancing with its own stride (0 on broadcast axes).
    static func broadcast(_ x: Tensor, _ y: Tensor, to shape: [Int], _ f: (Vector, Vector) -> Vector) -> Tensor {
        if x.shape == shape && y.shape == shape { return zip(x, y, f) }
        let out = Tensor(uninitializedShape: shape)
        let sx = Shape.broadcastStrides(x.shape, to: shape), sy = Shape.broadcastStrides(y.shape, to: shape)
        let rank = shape.count
        let inner = rank == 0 ? 1 : shape[rank - 1]
        let rows = inner == 0 ? 0 : out.count / inner
        let ix = rank == 0 ? 0 : sx[rank - 1], iy = rank == 0 ? 0 : sy[rank - 1]
        let a = x.data, b = y.data, o = out.data
        withExtendedLifetime((x, y)) {
            Parallel.forRows(rows, rowCost: inner) { row in
                var rem = row, offX = 0, offY = 0
                for axis in stride(from: rank - 2, through: 0, by: -1) {
                    let index = rem % shape[axis]
                    rem /= shape[axis]
                    offX += index * sx[axis]
                    offY += index * sy[axis]
                }
                let dst = o + row * inner
                if ix == 1 && iy == 1 {
                    zipSerial(a + offX, b + offY, dst, inner, f)
                } else {
                    for i in 0..<inner {
                        dst[i] = f(Vector(repeating: a[offX + i * ix]), Vector(repeating: b[offY + i * iy]))[0]
                    }
                }
            }
        }
        return out
    }

    @inline(__always)
    static func zipSerial(_ a: UnsafePointer<Float>, _ b: UnsafePointer<Float>, _ o: UnsafeMutablePointer<Float>,
                          _ n: Int, _ f: (Vector, Vector) -> Vector) {
        var i = 0
        while i + 8 <= n {
            let va = UnsafeRawPointer(a + i).loadUnaligned(as: Vector.self)
            let vb = UnsafeRawPointer(b + i).loadUnaligned(as: Vector.self)
            UnsafeMutableRawPointer(o + i).storeBytes(of: f(va, vb), as: Vector.self)
            i += 8
        }
        while i < n {
            o[i] = f(Vector(repeating: a[i]), Vector(repeating: b[i]))[0]
            i += 1
        }
    }

    /// Repeats `x` along its size-1 axes up to `shape`.
    static func expand(_ x: Tensor, to shape: [Int]) -> Tensor {
        broadcast(x, Tensor(0), to: shape) { value, _ in value }
    }

    /// Sums `x` down to `shape` (the inverse of broadcasting it up), as backward passes need.
    static func sum(_ x: Tensor, toShape shape: [Int]) -> Tensor {
        if x.shape == shape { return x.detached() }
        let out = Tensor.zeros(shape)
        let strides = Shape.broadcastStrides(shape, to: x.shape)
        let rank = x.rank
        let inner = x.shape[rank - 1]
        let rows = x.count / max(inner, 1)
        let innerStride = strides[rank - 1]
        let src = x.data, dst = out.data
        withExtendedLifetime(x) {
            for row in 0..<rows {
                var rem = row, off = 0
                for axis in stride(from: rank - 2, through: 0, by: -1) {
                    off += (rem % x.shape[axis]) * strides[axis]
                    rem /= x.shape[axis]
                }
                let s = src + row * inner
                if innerStride == 1 {
                    let d = dst + off
                    for i in 0..<inner { d[i] += s[i] }
                } else {
                    var acc: Float = 0
                    for i in 0..<inner { acc += s[i] }
                    dst[off] += acc
                }
            }
        }
        return out
    }
}

extension Kernels {
    /// Sums a [rows, columns] matrix over its rows (bias gradients), splitting columns across cores.
    static func columnSums(_ x: UnsafePointer<Float>, rows: Int, columns: Int) -> Tensor {
        let out = Tensor.zeros([columns])
        let o = out.data
        Parallel.forChunks(columns, grain: max(8, Parallel.minimumWork / max(rows, 1))) { cols in
            for r in 0..<rows {
                let row = x + r * columns
                for c in cols { o[c] += row[c] }
            }
        }
        return out
    }
}
