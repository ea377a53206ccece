import Tensor

/// What attention needs besides the hidden states: where each token sits and what it may see.
public struct AttentionContext {
    /// Absolute position of every token, B·T values (for rotary or learned position embeddings).
    public var positions: [Int]
    /// 1 for real tokens and 0 for padding, for every key: B·(cached + T) values; nil when nothing is padded.
    public var keyMask: [Float]?
    /// Present during generation: keys and values of earlier tokens.
    public var cache: KVCache?
    /// Added to every head's causal scores, `[B, 1, T, T]` (no cache): what lets sequences packed into one row see
    /// only their own tokens (`PackedSequences`).
    public var scoreBias: Tensor?

    public init(positions: [Int], keyMask: [Float]? = nil, cache: KVCache? = nil, scoreBias: Tensor? = nil) {
        self.positions = positions
        self.keyMask = keyMask
        self.cache = cache
        self.scoreBias = scoreBias
    }

    /// Positions 0..<length for every sequence of a batch, nothing padded, no cache (training).
    public static func training(batch: Int, length: Int) -> AttentionContext {
        AttentionContext(positions: (0..<(batch * length)).map { $0 % length })
    }

    /// Causal attention of q `[B, T, heads·d]` over k, v `[B, T, kvHeads·d]` and, with a cache, the
    /// keys and values stored for earlier positions of `layer`.
    func attend(_ q: Tensor, _ k: Tensor, _ v: Tensor, heads: Int, kvHeads: Int, layer: Int) throws -> Tensor {
        guard let cache else {
            return try Tensor.attention(query: q, key: k, value: v, heads: heads, kvHeads: kvHeads,
                                        scores: .init(causal: true, bias: scoreBias), keyMask: keyMask)
        }
        return try cache.attend(layer: layer, query: q, key: k, value: v, heads: heads, kvHeads: kvHeads, keyMask: keyMask)
    }
}

/// GPT-2's attention: one fused q/k/v projection (`c_attn`, Conv1D layout) and an output projection.
public final class FusedCausalSelfAttention: AdaptableModule {
    public let heads: Int
    public let layer: Int
    public let qkv: Linear
    public let output: Linear

    public init(width: Int, heads: Int, layer: Int, std: Float = 0.02, initializer: inout WeightInitializer) {
        self.heads = heads
        self.layer = layer
        qkv = Linear(width, 3 * width, conv1D: true, std: std, initializer: &initializer)
        output = Linear(width, width, conv1D: true, std: std, initializer: &initializer)
    }

    public func callAsFunction(_ x: Tensor, context: AttentionContext) throws -> Tensor {
        let width = x.shape[2]
        let projected = try qkv(x)
        let q = try projected.slice(axis: 2, 0..<width)
        let k = try projected.slice(axis: 2, width..<(2 * width))
        let v = try projected.slice(axis: 2, (2 * width)..<(3 * width))
        return try output(context.attend(q, k, v, heads: heads, kvHeads: heads, layer: layer))
    }

    public var namedParameters: [(name: String, parameter: Parameter)] {
        namespaced(("c_attn", qkv.namedParameters), ("c_proj", output.namedParameters))
    }

    public var namedLinears: [(name: String, linear: Linear)] { [("c_attn", qkv), ("c_proj", output)] }
}

/// Llama-family attention: separate q/k/v projections (optionally biased, as in Qwen2), rotary position
/// embeddings, grouped-query heads, and an unbiased output projection.
public final class GroupedQueryAttention: AdaptableModule {
    public let heads: Int, kvHeads: Int, headDim: Int, layer: Int
    public let rotary: RotaryTable
    public let query: Linear, key: Linear, value: Linear, output: Linear

    public init(width: Int, heads: Int, kvHeads: Int, headDim: Int, qkvBias: Bool, outputBias: Bool,
                rotary: RotaryTable, layer: Int, std: Float = 0.02, initializer: inout WeightInitializer) {
        (self.heads, self.kvHeads, self.headDim, self.layer, self.rotary) = (heads, kvHeads, headDim, layer, rotary)
        query = Linear(width, heads * headDim, bias: qkvBias, std: std, initializer: &initializer)
        key = Linear(width, kvHeads * headDim, bias: qkvBias, std: std, initializer: &initializer)
        value = Linear(width, kvHeads * headDim, bias: qkvBias, std: std, initializer: &initializer)
        output = Linear(heads * headDim, width, bias: outputBias, std: std, initializer: &initializer)
    }

    public func callAsFunction(_ x: Tensor, context: AttentionContext) throws -> Tensor {
        let q = try query(x).rotated(heads: heads, positions: context.positions, table: rotary)
        let k = try key(x).rotated(heads: kvHeads, positions: context.positions, table: rotary)
        return try output(context.attend(q, k, try value(x), heads: heads, kvHeads: kvHeads, layer: layer))
    }

    public var namedParameters: [(name: String, parameter: Parameter)] {
        namespaced(("q_proj", query.namedParameters), ("k_proj", key.namedParameters),
                   ("v_proj", value.namedParameters), ("o_proj", output.namedParameters))
    }

    public var namedLinears: [(name: String, linear: Linear)] {
        [("q_proj", query), ("k_proj", key), ("v_proj", value), ("o_proj", output)]
    }
}
