import Foundation
import NN
import Tensor

/// DeBERTa's relative-position table (`encoder.rel_embeddings`, 2·span rows, optionally LayerNorm'ed) and the
/// bucketing of (query, key) distances into it.
final class RelativePositionEmbedding: Module {
    let span: Int, buckets: Int, maxDistance: Int
    let table: Embedding
    let norm: LayerNorm?

    init(_ config: EncoderConfig, initializer: inout WeightInitializer) {
        span = config.relativeSpan
        buckets = config.positionBuckets ?? -1
        maxDistance = (config.maxRelativePositions ?? -1) < 1 ? config.maxPositionEmbeddings : config.maxRelativePositions!
        table = Embedding(2 * span, config.hiddenSize, std: config.initializerRange ?? 0.02, initializer: &initializer)
        norm = (config.normRelEbd ?? "none").contains("layer_norm") ? LayerNorm(config.hiddenSize, eps: config.epsilon) : nil
    }

    /// The (normalised) table and, for `length` tokens, every pair's bucketed distance i − j.
    func positions(length: Int) throws -> RelativePositions {
        let embeddings = try norm.map { try $0(table.weight.value) } ?? table.weight.value
        var distances = [Int](repeating: 0, count: length * length)
        for i in 0..<length {
            for j in 0..<length { distances[i * length + j] = bucket(i - j) }
        }
        return RelativePositions(embeddings: embeddings, span: span, distances: distances, length: length)
    }

    /// transformers' `make_log_bucket_position`: exact within ±buckets/2, logarithmic beyond, in float32 as torch.
    func bucket(_ distance: Int) -> Int {
        guard buckets > 0, maxDistance > 0 else { return distance }
        let mid = buckets / 2
        guard abs(distance) > mid else { return distance }
        let scaled = Float(abs(distance)) / Float(mid)
        let ratio = logf(scaled) / logf(Float(Double(maxDistance - 1) / Double(mid)))
        let logPosition = Int((ratio * Float(mid - 1)).rounded(.up)) + mid
        return distance < 0 ? -logPosition : logPosition
    }

    var namedParameters: [(name: String, parameter: Parameter)] {
        namespaced(("rel_embeddings", table.namedParameters), ("LayerNorm", norm?.namedParameters ?? []))
    }
}

/// Relative positions of one forward pass, shared by every layer.
struct RelativePositions {
    /// [2·span, hidden].
    let embeddings: Tensor
    let span: Int
    /// Bucketed i − j for every query i and key j, row-major [T, T].
    let distances: [Int]
    let length: Int

    /// Column of the content→position scores each (i, j) reads: clamp(δ(i, j) + span).
    var contentToPosition: [Int] { distances.map { Swift.min(Swift.max($0 + span, 0), 2 * span - 1) } }
    /// For key j and query i (row-major [T, T]): clamp(−δ(j, i) + span), as transformers indexes p2c.
    var positionToContent: [Int] { distances.map { Swift.min(Swift.max(-$0 + span, 0), 2 * span - 1) } }
}

/// DeBERTa-v2's disentangled self-attention: content→content plus content→position (c2p) and position→content
/// (p2c) scores against the relative-position table, all scaled by 1/√(d·(1 + number of extra terms)).
final class DisentangledSelfAttention: EncoderSelfAttention {
    let heads: Int, headDim: Int
    let query: Linear, key: Linear, value: Linear
    /// Separate projections of the position table when `share_att_key` is off.
    let positionKey: Linear?, positionQuery: Linear?
    let contentToPosition: Bool, positionToContent: Bool

    init(_ config: EncoderConfig, initializer: inout WeightInitializer) {
        let (width, std) = (config.hiddenSize, config.initializerRange ?? 0.02)
        (heads, headDim) = (config.numAttentionHeads, config.headWidth)
        let inner = heads * headDim
        query = Linear(width, inner, std: std, initializer: &initializer)
        key = Linear(width, inner, std: std, initializer: &initializer)
        value = Linear(width, inner, std: std, initializer: &initializer)
        contentToPosition = config.attendsContentToPosition
        positionToContent = config.attendsPositionToContent
        let separate = !(config.shareAttKey ?? false)
        positionKey = separate && contentToPosition ? Linear(width, inner, std: std, initializer: &initializer) : nil
        positionQuery = separate && positionToContent ? Linear(width, inner, std: std, initializer: &initializer) : nil
    }

    func callAsFunction(_ x: Tensor, context: EncoderContext) throws -> Tensor {
        guard let relative = context.relative else { throw ModelError.generation("DeBERTa attention without relative positions") }
        let (q, k) = (try query(x), try key(x))
        let terms = 1 + (contentToPosition ? 1 : 0) + (positionToContent ? 1 : 0)
        let scale = 1 / Float(headDim * terms).squareRoot()
        var bias: Tensor? = nil
        if contentToPosition {
            let positions = try (positionKey ?? key)(relative.embeddings)
            let scores = try headwiseScores(q, positions, context: context)  // [B, H, Tq, 2·span]
            bias = try scores.gather(rows: relative.contentToPosition, width: context.length)
        }
        if positionToContent {
            let positions = try (positionQuery ?? query)(relative.embeddings)
            let scores = try headwiseScores(k, positions, context: context)  // [B, H, Tk, 2·span]
            let term = try scores.gather(rows: relative.positionToContent, width: context.length).transposed(2, 3)
            bias = try bias.map { try $0 + term } ?? term
        }
        return try Tensor.attention(query: q, key: k, value: value(x), heads: heads, kvHeads: heads,
                                    scores: .init(causal: false, scale: scale, bias: bias.map { $0 * scale }),
                                    keyMask: context.keyMask, positionOffset: 0)
    }

    /// Per head, every token's projection `[B, T, H·d]` against every row of a projected table `[R, H·d]`: `[B, H, T, R]`.
    private func headwiseScores(_ tokens: Tensor, _ table: Tensor, context: EncoderContext) throws -> Tensor {
        let (batch, length, rows) = (context.batch, context.length, table.shape[0])
        let perHead = try tokens.reshaped([batch * length, heads, headDim]).transposed(0, 1)  // [H, B·T, d]
        let tablePerHead = try table.reshaped([rows, heads, headDim]).transposed(0, 1)      // [H, R, d]
        let scores = try Tensor.matmul(perHead, tablePerHead, transposeB: true)               // [H, B·T, R]
        return try scores.reshaped([heads, batch, length, rows]).transposed(0, 1)
    }

    var namedParameters: [(name: String, parameter: Parameter)] {
        var children = [("query_proj", query.namedParameters), ("key_proj", key.namedParameters), ("value_proj", value.namedParameters)]
        if let positionKey { children.append(("pos_key_proj", positionKey.namedParameters)) }
        if let positionQuery { children.append(("pos_query_proj", positionQuery.namedParameters)) }
        return namespaced(children)
    }

    var namedLinears: [(name: String, linear: Linear)] {
        [("query_proj", query), ("key_proj", key), ("value_proj", value)]
            + (positionKey.map { [("pos_key_proj", $0)] } ?? []) + (positionQuery.map { [("pos_query_proj", $0)] } ?? [])
    }
}
