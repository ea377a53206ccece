/// clamp, minimum, maximum and where: the pieces of PPO's clipped objectives and of masking.
extension Tensor {
    /// Values limited to [low, high] (torch.clamp); the gradient passes only where the value was inside.
    public func clamped(min low: Float = -.infinity, max high: Float = .infinity) -> Tensor {
        let out = Kernels.map(self) { x in
            var r = x
            r.replace(with: low, where: x .< low)
            r.replace(with: high, where: r .> high)  // torch: min(max(x, low), high), so high wins when low > high
            return r
        }
        let x = detached()
        return Autograd.record(out, inputs: [node]) { g in
            [Kernels.zip(g, x) { g, x in
                var r = g
                r.replace(with: 0, where: (x .< low) .| (x .> high))
                return r
            }]
        }
    }

    /// Elementwise minimum with broadcasting; ties send the gradient to `a`.
    public static func minimum(_ a: Tensor, _ b: Tensor) throws -> Tensor {
        try `where`(try choose(a, b, op: "minimum") { $0 .<= $1 }, a, b)
    }

    /// Elementwise maximum with broadcasting; ties send the gradient to `a`.
    public static func maximum(_ a: Tensor, _ b: Tensor) throws -> Tensor {
        try `where`(try choose(a, b, op: "maximum") { $0 .>= $1 }, a, b)
    }

    /// 1 where `takeA(a, b)` holds, else 0, at the broadcast shape.
    private static func choose(_ a: Tensor, _ b: Tensor, op: String,
                               _ takeA: (VectorMath.Vector, VectorMath.Vector) -> SIMDMask<SIMD8<Int32>>) throws -> Tensor {
        Kernels.broadcast(a, b, to: try Shape.broadcast(a.shape, b.shape, op: op)) { a, b in
            var m = VectorMath.Vector(repeating: 0)
            m.replace(with: 1, where: takeA(a, b))
            return m
        }
    }
    /// `condition ? a : b` elementwise (condition holds 0 or non-zero), broadcasting all three.
    public static func `where`(_ condition: Tensor, _ a: Tensor, _ b: Tensor) throws -> Tensor {
        let shape = try Shape.broadcast(try Shape.broadcast(condition.shape, a.shape, op: "where"), b.shape, op: "where")
        let mask = Kernels.expand(condition, to: shape)
        let (ea, eb) = (Kernels.expand(a, to: shape), Kernels.expand(b, to: shape))
        let out = Kernels.zip3(mask, ea, eb) { m, a, b in
            var r = b
            r.replace(with: a, where: m .!= 0)
            return r
        }
        let (sa, sb, needA, needB) = (a.shape, b.shape, a.requiresGrad, b.requiresGrad)
        return Autograd.record(out, inputs: [a.node, b.node]) { g in
            [needA ? Kernels.sum(Kernels.zip(g, mask) { g, m in var r = g; r.replace(with: 0, where: m .== 0); return r }, toShape: sa) : nil,
             needB ? Kernels.sum(Kernels.zip(g, mask) { g, m in var r = g; r.replace(with: 0, where: m .!= 0); return r }, toShape: sb) : nil]
        }
    }

    /// Sets elements where `mask` is zero to `value` (e.g. −∞ before a softmax); no gradient flows there.
    public func masked(keeping mask: Tensor, fill value: Float) throws -> Tensor {
        try Tensor.where(mask, self, Tensor(value))
    }
}
