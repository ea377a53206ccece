import Foundation
import NN
import Tensor

/// T5's relative position buckets for one stack: a [buckets, heads] table (stored in the stack's first layer) read
/// as an additive score bias; the encoder's buckets tell direction apart, the decoder's look only backwards.
final class T5PositionBias: Module {
    let table: Embedding
    let bidirectional: Bool
    let buckets: Int, maxDistance: Int, heads: Int

    init(_ config: T5Config, bidirectional: Bool, initializer: inout WeightInitializer) {
        (buckets, maxDistance, heads, self.bidirectional) = (config.buckets, config.maxDistance, config.numHeads, bidirectional)
        table = Embedding(buckets, heads, std: (config.initializerFactor ?? 1) / Float(config.dModel).squareRoot(), initializer: &initializer)
    }

    /// The bias [1, heads, queries, keys] of queries at positions `first..<first + queries` over keys 0..<keys.
    func callAsFunction(first: Int, queries: Int, keys: Int) throws -> Tensor {
        var ids = [Int](repeating: 0, count: queries * keys)
        for i in 0..<queries {
            for j in 0..<keys { ids[i * keys + j] = bucket(j - (first + i)) }
        }
        return try table(ids, shape: [queries, keys]).transposed(1, 2).transposed(0, 1).reshaped([1, heads, queries, keys])
    }

    /// transformers' `_relative_position_bucket` of `relative` = key position − query position, in float32 as torch.
    func bucket(_ relative: Int) -> Int {
        var count = buckets, result = 0, distance: Int
        if bidirectional {
            count /= 2
            if relative > 0 { result += count }
            distance = abs(relative)
        } else {
            distance = -min(relative, 0)
        }
        let exact = count / 2
        if distance < exact { return result + distance }
        let scaled = logf(Float(distance) / Float(exact)) / Float(log(Double(maxDistance) / Double(exact))) * Float(count - exact)
        return result + min(exact + Int(scaled), count - 1)
    }

    var namedParameters: [(name: String, parameter: Parameter)] { namespaced(("relative_attention_bias", table.namedParameters)) }
}

/// T5 attention: unbiased q/k/v/o projections and no 1/√d scaling (folded into the initialisation).
final class T5Attention: AdaptableModule {
    let heads: Int
    let query: Linear, key: Linear, value: Linear, output: Linear
    /// The stack's position buckets, in its first layer only.
    let positionBias: T5PositionBias?

    init(_ config: T5Config, positionBias: T5PositionBias?, initializer: inout WeightInitializer) {
        let (width, inner) = (config.dModel, config.numHeads * config.dKv)
        let std = (config.initializerFactor ?? 1) / Float(width).squareRoot()
        heads = config.numHeads
        query = Linear(width, inner, bias: false, std: std / Float(config.dKv).squareRoot(), initializer: &initializer)
        key = Linear(width, inner, bias: false, std: std, initializer: &initializer)
        value = Linear(width, inner, bias: false, std: std, initializer: &initializer)
        output = Linear(inner, width, bias: false, std: 1 / Float(inner).squareRoot(), initializer: &initializer)
        self.positionBias = positionBias
    }

    /// Self-attention of `x` with the stack's position `bias`; with a `cache` (decoding), over the cached keys too.
    func selfAttention(_ x: Tensor, bias: Tensor, causal: Bool, keyMask: [Float]?, cache: KVCache?, layer: Int) throws -> Tensor {
        let scores = Tensor.AttentionScores(causal: causal, scale: 1, bias: bias)
        let (q, k, v) = (try query(x), try key(x), try value(x))
        guard let cache else {
            return try output(Tensor.attention(query: q, key: k, value: v, heads: heads, kvHeads: heads, scores: scores,
                                               keyMask: keyMask, positionOffset: 0))
        }
        return try output(cache.attend(layer: layer, query: q, key: k, value: v, heads: heads, kvHeads: heads, scores: scores, keyMask: keyMask))
    }

    /// Attention of the decoder's `x` over the encoder's projected keys and values (no position bias).
    func crossAttention(_ x: Tensor, keys: Tensor, values: Tensor, keyMask: [Float]?) throws -> Tensor {
        try output(Tensor.attention(query: query(x), key: keys, value: values, heads: heads, kvHeads: heads,
                                    scores: .init(causal: false, scale: 1), keyMask: keyMask, positionOffset: 0))
    }

    var namedParameters: [(name: String, parameter: Parameter)] {
        namespaced(("q", query.namedParameters), ("k", key.namedParameters), ("v", value.namedParameters),
                   ("o", output.namedParameters), ("", positionBias?.namedParameters ?? []))
    }

    var namedLinears: [(name: String, linear: Linear)] { [("q", query), ("k", key), ("v", value), ("o", output)] }
}

/// `DenseReluDense`: wo(act(wi·x)) in T5 v1.0, wo(act(wi_0·x) ⊙ wi_1·x) in the gated v1.1 / FLAN-T5.
final class T5FeedForward: AdaptableModule {
    let input: Linear, gate: Linear?, output: Linear
    let activation: EncoderConfig.Activation

    init(_ config: T5Config, activation: EncoderConfig.Activation, initializer: inout WeightInitializer) {
        let factor = config.initializerFactor ?? 1
        let inStd = factor / Float(config.dModel).squareRoot()
        input = Linear(config.dModel, config.dFf, bias: false, std: inStd, initializer: &initializer)
        gate = config.gated ? Linear(config.dModel, config.dFf, bias: false, std: inStd, initializer: &initializer) : nil
        output = Linear(config.dFf, config.dModel, bias: false, std: factor / Float(config.dFf).squareRoot(), initializer: &initializer)
        self.activation = activation
    }

    func callAsFunction(_ x: Tensor) throws -> Tensor {
        let h = activation(try input(x))
        return try output(gate.map { try h * $0(x) } ?? h)
    }

    var namedParameters: [(name: String, parameter: Parameter)] {
        gate == nil ? namespaced(("wi", input.namedParameters), ("wo", output.namedParameters))
            : namespaced(("wi_0", input.namedParameters), ("wi_1", gate!.namedParameters), ("wo", output.namedParameters))
    }

    var namedLinears: [(name: String, linear: Linear)] {
        gate == nil ? [("wi", input), ("wo", output)] : [("wi_0", input), ("wi_1", gate!), ("wo", output)]
    }
}

/// One T5 block: pre-norm (RMS, no bias) residual sublayers — self-attention, cross-attention in the decoder, then
/// the feed-forward.
final class T5Block: AdaptableModule {
    let selfAttention: T5Attention, selfNorm: RMSNorm
    let crossAttention: T5Attention?, crossNorm: RMSNorm?
    let feedForward: T5FeedForward, feedForwardNorm: RMSNorm

    init(_ config: T5Config, decoder: Bool, positionBias: T5PositionBias?, activation: EncoderConfig.Activation,
         initializer: inout WeightInitializer) {
        selfAttention = T5Attention(config, positionBias: positionBias, initializer: &initializer)
        selfNorm = RMSNorm(config.dModel, eps: config.epsilon)
        crossAttention = decoder ? T5Attention(config, positionBias: nil, initializer: &initializer) : nil
        crossNorm = decoder ? RMSNorm(config.dModel, eps: config.epsilon) : nil
        feedForward = T5FeedForward(config, activation: activation, initializer: &initializer)
        feedForwardNorm = RMSNorm(config.dModel, eps: config.epsilon)
    }

    var namedParameters: [(name: String, parameter: Parameter)] {
        var children = [("layer.0.SelfAttention", selfAttention.namedParameters), ("layer.0.layer_norm", selfNorm.namedParameters)]
        let last = crossAttention == nil ? 1 : 2
        if let crossAttention, let crossNorm {
            children += [("layer.1.EncDecAttention", crossAttention.namedParameters), ("layer.1.layer_norm", crossNorm.namedParameters)]
        }
        children += [("layer.\(last).DenseReluDense", feedForward.namedParameters), ("layer.\(last).layer_norm", feedForwardNorm.namedParameters)]
        return namespaced(children)
    }

    var namedLinears: [(name: String, linear: Linear)] {
        let last = crossAttention == nil ? 1 : 2
        return namespacedLinears([("layer.0.SelfAttention", selfAttention.namedLinears)]
                                 + (crossAttention.map { [("layer.1.EncDecAttention", $0.namedLinears)] } ?? [])
                                 + [("layer.\(last).DenseReluDense", feedForward.namedLinears)])
    }
}
