import Tensor

/// Causal self-attention with one fused q/k/v projection (GPT-2's `c_attn`) and an output projection.
public final class FusedCausalSelfAttention: Module {
    public let heads: Int
    public let qkv: Linear
    public let output: Linear

    public init(width: Int, heads: Int, using generator: inout SeededGenerator) {
        self.heads = heads
        qkv = Linear(width, 3 * width, inputMajor: true, using: &generator)
        output = Linear(width, width, inputMajor: true, using: &generator)
    }

    /// x: [B, T, C]; `keyMask` marks real (1) and padding (0) positions, [B·T].
    public func callAsFunction(_ x: Tensor, keyMask: [Float]? = nil) throws -> Tensor {
        let width = x.shape[2]
        let projected = try qkv(x)
        let q = try projected.slice(axis: 2, 0..<width)
        let k = try projected.slice(axis: 2, width..<(2 * width))
        let v = try projected.slice(axis: 2, (2 * width)..<(3 * width))
        let attended = try Tensor.causalAttention(query: q, key: k, value: v, heads: heads, kvHeads: heads, keyMask: keyMask)
        return try output(attended)
    }

    public var namedParameters: [(name: String, parameter: Parameter)] {
        namespaced(("c_attn", qkv.namedParameters), ("c_proj", output.namedParameters))
    }
}

/// Two-layer GELU MLP (GPT-2's `c_fc` → GELU → `c_proj`).
public final class GELUMLP: Module {
    public let up: Linear
    public let down: Linear
    public let approximation: Tensor.GELUApproximation

    public init(width: Int, hidden: Int, approximation: Tensor.GELUApproximation = .tanh,
                                          using generator: inout SeededGenerator) {
        up = Linear(width, hidden, inputMajor: true, using: &generator)
        down = Linear(hidden, width, inputMajor: true, using: &generator)
        self.approximation = approximation
    }

    public func callAsFunction(_ x: Tensor) throws -> Tensor { try down(try up(x).gelu(approximation)) }

    public var namedParameters: [(name: String, parameter: Parameter)] {
        namespaced(("c_fc", up.namedParameters), ("c_proj", down.namedParameters))
    }
}

/// A pre-LayerNorm transformer block as in GPT-2: x + attn(ln_1(x)), then + mlp(ln_2(·)).
public final class PreNormBlock: Module {
    public let norm1: LayerNorm
    public let attention: FusedCausalSelfAttention
    public let norm2: LayerNorm
    public let mlp: GELUMLP

    public init(width: Int, heads: Int, hidden: Int, eps: Float = 1e-5, using generator: inout SeededGenerator) {
        norm1 = LayerNorm(width, eps: eps)
        attention = FusedCausalSelfAttention(width: width, heads: heads, using: &generator)
        norm2 = LayerNorm(width, eps: eps)
        mlp = GELUMLP(width: width, hidden: hidden, using: &generator)
    }

    public func callAsFunction(_ x: Tensor, keyMask: [Float]? = nil) throws -> Tensor {
        let h = try x + attention(norm1(x), keyMask: keyMask)
        return try h + mlp(norm2(h))
    }

    public var namedParameters: [(name: String, parameter: Parameter)] {
        namespaced(("ln_1", norm1.namedParameters), ("attn", attention.namedParameters),
                   ("ln_2", norm2.namedParameters), ("mlp", mlp.namedParameters))
    }
}
