/// add, sub, mul, div with NumPy broadcasting, and their scalar forms.
extension Tensor {
    public static func + (a: Tensor, b: Tensor) throws -> Tensor {
        let shape = try Shape.broadcast(a.shape, b.shape, op: "add")
        let out = Kernels.broadcast(a, b, to: shape) { $0 + $1 }
        let (sa, sb) = (a.shape, b.shape)
        return Autograd.record(out, inputs: [a.node, b.node]) { g in
            [Kernels.sum(g, toShape: sa), Kernels.sum(g, toShape: sb)]
        }
    }

    public static func - (a: Tensor, b: Tensor) throws -> Tensor {
        let shape = try Shape.broadcast(a.shape, b.shape, op: "sub")
        let out = Kernels.broadcast(a, b, to: shape) { $0 - $1 }
        let (sa, sb, needB) = (a.shape, b.shape, b.requiresGrad)
        return Autograd.record(out, inputs: [a.node, b.node]) { g in
            [Kernels.sum(g, toShape: sa), needB ? Kernels.sum(g, toShape: sb).negated() : nil]
        }
    }

    public static func * (a: Tensor, b: Tensor) throws -> Tensor {
        let shape = try Shape.broadcast(a.shape, b.shape, op: "mul")
        let out = Kernels.broadcast(a, b, to: shape) { $0 * $1 }
        let (ca, cb) = (a.detached(), b.detached())
        let (needA, needB) = (a.requiresGrad, b.requiresGrad)
        return Autograd.record(out, inputs: [a.node, b.node]) { g in
            [needA ? Kernels.sum(Kernels.broadcast(g, cb, to: g.shape) { $0 * $1 }, toShape: ca.shape) : nil,
             needB ? Kernels.sum(Kernels.broadcast(g, ca, to: g.shape) { $0 * $1 }, toShape: cb.shape) : nil]
        }
    }

    public static func / (a: Tensor, b: Tensor) throws -> Tensor {
        let shape = try Shape.broadcast(a.shape, b.shape, op: "div")
        let out = Kernels.broadcast(a, b, to: shape) { $0 / $1 }
        let (cb, result) = (b.detached(), out.detached())
        let (needA, needB, sa) = (a.requiresGrad, b.requiresGrad, a.shape)
        return Autograd.record(out, inputs: [a.node, b.node]) { g in
            let gOverB = Kernels.broadcast(g, cb, to: g.shape) { $0 / $1 }
            return [needA ? Kernels.sum(gOverB, toShape: sa) : nil,
                    needB ? Kernels.sum(Kernels.zip(gOverB, result) { -$0 * $1 }, toShape: cb.shape) : nil]
        }
    }

    public static func + (a: Tensor, s: Float) -> Tensor {
        Autograd.record(Kernels.map(a) { $0 + s }, inputs: [a.node]) { g in [g] }
    }

    public static func + (s: Float, a: Tensor) -> Tensor { a + s }
    public static func - (a: Tensor, s: Float) -> Tensor { a + (-s) }
    public static func - (s: Float, a: Tensor) -> Tensor { a.negated() + s }

    public static func * (a: Tensor, s: Float) -> Tensor {
        Autograd.record(Kernels.map(a) { $0 * s }, inputs: [a.node]) { g in [Kernels.map(g) { $0 * s }] }
    }

    public static func * (s: Float, a: Tensor) -> Tensor { a * s }
    public static func / (a: Tensor, s: Float) -> Tensor { a * (1 / s) }

    public static prefix func - (a: Tensor) -> Tensor { a.negated() }

    public func negated() -> Tensor {
        Autograd.record(Kernels.map(self) { -$0 }, inputs: [node]) { g in [Kernels.map(g) { -$0 }] }
    }

    /// Adds `other` into this tensor's storage when it is not shared (gradient accumulation).
    mutating func addInPlace(_ other: Tensor) throws {
        guard shape == other.shape else {
            throw TensorError.shapeMismatch(op: "accumulate", "\(shape) vs \(other.shape)")
        }
        let src = other.data
        withUnsafeMutableBufferPointer { dst in
            Kernels.zip(dst.baseAddress!, src, into: dst.baseAddress!, count: dst.count) { $0 + $1 }
        }
        withExtendedLifetime(other) {}
    }
}
