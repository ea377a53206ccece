import Foundation

/// Pointwise nonlinearities; each backward uses the saved input or output, whichever is cheaper.
extension Tensor {
    public func exp() -> Tensor {
        let y = Kernels.map(self, VectorMath.exp)
        let saved = y.detached()
        return Autograd.record(y, inputs: [node]) { g in [Kernels.zip(g, saved) { $0 * $1 }] }
    }

    public func log() -> Tensor {
        let y = Self.scalarMap(self) { Foundation.log($0) }
        let x = detached()
        return Autograd.record(y, inputs: [node]) { g in [Kernels.zip(g, x) { $0 / $1 }] }
    }

    public func sqrt() -> Tensor {
        let y = Kernels.map(self) { $0.squareRoot() }
        let saved = y.detached()
        return Autograd.record(y, inputs: [node]) { g in [Kernels.zip(g, saved) { 0.5 * $0 / $1 }] }
    }

    public func tanh() -> Tensor {
        let y = Kernels.map(self, VectorMath.tanh)
        let saved = y.detached()
        return Autograd.record(y, inputs: [node]) { g in [Kernels.zip(g, saved) { $0 * (1 - $1 * $1) }] }
    }

    /// max(x, 0) (T5 v1.0's feed-forward); the gradient at 0 is 0, as torch's.
    public func relu() -> Tensor {
        let y = Kernels.map(self) { $0.replacing(with: 0, where: $0 .< 0) }
        let saved = y.detached()
        return Autograd.record(y, inputs: [node]) { g in [Kernels.zip(g, saved) { $0.replacing(with: 0, where: $1 .<= 0) }] }
    }

    public func sigmoid() -> Tensor {
        let y = Kernels.map(self, VectorMath.sigmoid)
        let saved = y.detached()
        return Autograd.record(y, inputs: [node]) { g in [Kernels.zip(g, saved) { $0 * $1 * (1 - $1) }] }
    }

    /// log σ(x) = min(x, 0) − log(1 + e^{−|x|}), stable for large |x|.
    public func logSigmoid() -> Tensor {
        let y = Self.scalarMap(self) { Swift.min($0, 0) - Foundation.log1p(Foundation.exp(-Swift.abs($0))) }
        let x = detached()
        return Autograd.record(y, inputs: [node]) { g in
            [Kernels.zip(g, x) { g, x in g * VectorMath.sigmoid(-x) }]
        }
    }

    /// x·σ(x), the SwiGLU gate of Llama-family MLPs.
    public func silu() -> Tensor {
        let y = Kernels.map(self) { $0 * VectorMath.sigmoid($0) }
        let x = detached()
        return Autograd.record(y, inputs: [node]) { g in
            [Kernels.zip(g, x) { g, x in
                let s = VectorMath.sigmoid(x)
                return g * s * (1 + x * (1 - s))
            }]
        }
    }

    public enum GELUApproximation: Sendable { case tanh, exact }

    /// GELU; `.tanh` is GPT-2's "gelu_new", `.exact` uses erf.
    public func gelu(_ approximation: GELUApproximation = .tanh) -> Tensor {
        let x = detached()
        switch approximation {
        case .tanh:
            let y = NativeKernels.geluTanh(self) ?? Kernels.map(self) { x in 0.5 * x * (1 + VectorMath.tanh(Self.geluInner(x))) }
            return Autograd.record(y, inputs: [node]) { g in
                [NativeKernels.geluTanhGradient(g, x) ?? Kernels.zip(g, x) { g, x in
                    let t = VectorMath.tanh(Self.geluInner(x))
                    let du = Self.sqrt2OverPi * (1 + 3 * 0.044715 * x * x)
                    return g * (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * du)
                }]
            }
        case .exact:
            let y = Self.scalarMap(self) { 0.5 * $0 * (1 + Foundation.erf($0 * Self.inverseSqrt2)) }
            return Autograd.record(y, inputs: [node]) { g in
                let slope = Self.scalarMap(x) { x -> Float in
                    let cdf = 0.5 * (1 + Foundation.erf(x * Self.inverseSqrt2))
                    let pdf = Foundation.exp(-0.5 * x * x) * Self.inverseSqrt2Pi
                    return cdf + x * pdf
                }
                return [Kernels.zip(g, slope) { $0 * $1 }]
            }
        }
    }

    static let sqrt2OverPi: Float = 0.797_884_560_8
    static let inverseSqrt2: Float = 0.707_106_781_2
    static let inverseSqrt2Pi: Float = 0.398_942_280_4

    @inline(__always)
    static func geluInner(_ x: VectorMath.Vector) -> VectorMath.Vector {
        sqrt2OverPi * (x + 0.044715 * x * x * x)
    }

    /// Elementwise libm call for functions without a vector kernel (used on small tensors).
    static func scalarMap(_ x: Tensor, _ f: (Float) -> Float) -> Tensor {
        let out = Tensor(uninitializedShape: x.shape)
        let src = x.data, dst = out.data
        withExtendedLifetime(x) {
            Parallel.forChunks(x.count, grain: Parallel.minimumWork / 8) { r in
                for i in r { dst[i] = f(src[i]) }
            }
        }
        return out
    }
}
