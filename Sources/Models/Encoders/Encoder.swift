import NN
import Tensor

/// What every layer of an encoder needs besides the hidden states: which keys are padding and, for DeBERTa,
/// the relative positions of every (query, key) pair.
struct EncoderContext {
    var batch, length: Int
    /// 1 for real tokens and 0 for padding, B·T values; nil when nothing is padded.
    var keyMask: [Float]?
    var relative: RelativePositions?
}

/// Self-attention of one encoder layer, listed under `attention.self`.
protocol EncoderSelfAttention: AdaptableModule {
    func callAsFunction(_ x: Tensor, context: EncoderContext) throws -> Tensor
}

extension EncoderConfig.Activation {
    func callAsFunction(_ x: Tensor) -> Tensor {
        switch self {
        case .gelu(let approximation): return x.gelu(approximation)
        case .relu: return x.relu()
        case .tanh: return x.tanh()
        }
    }
}

/// BERT's self-attention: biased query/key/value projections, every real key visible.
final class BertSelfAttention: EncoderSelfAttention {
    let heads: Int
    let query: Linear, key: Linear, value: Linear

    init(_ config: EncoderConfig, initializer: inout WeightInitializer) {
        let (width, inner, std) = (config.hiddenSize, config.numAttentionHeads * config.headWidth, config.initializerRange ?? 0.02)
        heads = config.numAttentionHeads
        query = Linear(width, inner, std: std, initializer: &initializer)
        key = Linear(width, inner, std: std, initializer: &initializer)
        value = Linear(width, inner, std: std, initializer: &initializer)
    }

    func callAsFunction(_ x: Tensor, context: EncoderContext) throws -> Tensor {
        try Tensor.attention(query: query(x), key: key(x), value: value(x), heads: heads, kvHeads: heads,
                             scores: .init(causal: false), keyMask: context.keyMask, positionOffset: 0)
    }

    var namedParameters: [(name: String, parameter: Parameter)] {
        namespaced(("query", query.namedParameters), ("key", key.namedParameters), ("value", value.namedParameters))
    }

    var namedLinears: [(name: String, linear: Linear)] { [("query", query), ("key", key), ("value", value)] }
}

/// A post-norm encoder layer (BERT, RoBERTa, DeBERTa): h = LN(x + W_o·attention(x)), then LN(h + W_2·act(W_1·h)).
final class EncoderLayer: AdaptableModule {
    let attention: any EncoderSelfAttention
    let attentionOutput: Linear, attentionNorm: LayerNorm
    let intermediate: Linear, output: Linear, outputNorm: LayerNorm
    let activation: EncoderConfig.Activation

    init(_ config: EncoderConfig, attention: any EncoderSelfAttention, activation: EncoderConfig.Activation,
         initializer: inout WeightInitializer) {
        let (width, inner, std) = (config.hiddenSize, config.numAttentionHeads * config.headWidth, config.initializerRange ?? 0.02)
        self.attention = attention
        self.activation = activation
        attentionOutput = Linear(inner, width, std: std, initializer: &initializer)
        attentionNorm = LayerNorm(width, eps: config.epsilon)
        intermediate = Linear(width, config.intermediateSize, std: std, initializer: &initializer)
        output = Linear(config.intermediateSize, width, std: std, initializer: &initializer)
        outputNorm = LayerNorm(width, eps: config.epsilon)
    }

    func callAsFunction(_ x: Tensor, context: EncoderContext) throws -> Tensor {
        let h = try attentionNorm(x + attentionOutput(attention(x, context: context)))
        return try outputNorm(h + output(activation(intermediate(h))))
    }

    var namedParameters: [(name: String, parameter: Parameter)] {
        namespaced(("attention.self", attention.namedParameters), ("attention.output.dense", attentionOutput.namedParameters),
                   ("attention.output.LayerNorm", attentionNorm.namedParameters), ("intermediate.dense", intermediate.namedParameters),
                   ("output.dense", output.namedParameters), ("output.LayerNorm", outputNorm.namedParameters))
    }

    var namedLinears: [(name: String, linear: Linear)] {
        namespacedLinears([("attention.self", attention.namedLinears)])
            + [("attention.output.dense", attentionOutput), ("intermediate.dense", intermediate), ("output.dense", output)]
    }
}

/// Token (+ position, + token type) embeddings, an optional projection to the hidden width, then LayerNorm.
final class EncoderEmbeddings: Module {
    let config: EncoderConfig
    let word: Embedding
    let position: Embedding?
    let tokenType: Embedding?
    let projection: Linear?
    let norm: LayerNorm

    init(_ config: EncoderConfig, initializer: inout WeightInitializer) {
        self.config = config
        let std = config.initializerRange ?? 0.02
        let width = config.family == .debertaV2 ? config.embeddingSize ?? config.hiddenSize : config.hiddenSize
        word = Embedding(config.vocabSize, width, std: std, initializer: &initializer)
        let positioned = config.family != .debertaV2 || config.positionBiasedInput ?? true
        position = positioned ? Embedding(config.maxPositionEmbeddings, width, std: std, initializer: &initializer) : nil
        let types = config.typeVocabSize ?? (config.family == .debertaV2 ? 0 : 2)
        tokenType = types > 0 ? Embedding(types, width, std: std, initializer: &initializer) : nil
        projection = width != config.hiddenSize ? Linear(width, config.hiddenSize, bias: false, std: std, initializer: &initializer) : nil
        norm = LayerNorm(config.hiddenSize, eps: config.epsilon)
    }

    func callAsFunction(_ ids: [Int], context: EncoderContext) throws -> Tensor {
        let shape = [context.batch, context.length]
        var h = try word(ids, shape: shape)
        if let position { h = try h + position(positions(ids, context: context), shape: shape) }
        if let tokenType { h = try h + tokenType(Array(repeating: 0, count: ids.count), shape: shape) }
        if let projection { h = try projection(h) }
        h = try norm(h)
        // DeBERTa zeroes the padding rows' embeddings.
        if config.family == .debertaV2, let mask = context.keyMask {
            h = try h * Tensor(shape: shape + [1], scalars: mask)
        }
        return h
    }

    /// BERT and DeBERTa count from 0; RoBERTa numbers real tokens from padding_idx + 1 and gives padding padding_idx.
    private func positions(_ ids: [Int], context: EncoderContext) -> [Int] {
        guard config.family == .roberta else { return ids.indices.map { $0 % context.length } }
        let pad = config.padTokenId ?? 1
        var positions = [Int](repeating: pad, count: ids.count)
        for row in 0..<context.batch {
            var next = pad + 1
            for t in 0..<context.length where ids[row * context.length + t] != pad {
                positions[row * context.length + t] = next
                next += 1
            }
        }
        return positions
    }

    var namedParameters: [(name: String, parameter: Parameter)] {
        var children = [("word_embeddings", word.namedParameters)]
        if let position { children.append(("position_embeddings", position.namedParameters)) }
        if let tokenType { children.append(("token_type_embeddings", tokenType.namedParameters)) }
        if let projection { children.append(("embed_proj", projection.namedParameters)) }
        children.append(("LayerNorm", norm.namedParameters))
        return namespaced(children)
    }
}

/// A bidirectional Transformer encoder: BERT, RoBERTa / XLM-R, or DeBERTa-v2 (disentangled attention).
public final class TransformerEncoder: AdaptableModule {
    public let config: EncoderConfig
    let embeddings: EncoderEmbeddings
    let layers: [EncoderLayer]
    let relative: RelativePositionEmbedding?

    init(_ config: EncoderConfig, initializer: inout WeightInitializer, path: String) throws {
        try config.validate(path: path)
        self.config = config
        embeddings = EncoderEmbeddings(config, initializer: &initializer)
        let activation = try config.activation(config.hiddenAct, path: path)
        let disentangled = config.family == .debertaV2 && config.relativeAttention == true
        relative = disentangled ? RelativePositionEmbedding(config, initializer: &initializer) : nil
        layers = (0..<config.numHiddenLayers).map { _ in
            let attention: any EncoderSelfAttention = disentangled
                ? DisentangledSelfAttention(config, initializer: &initializer)
                : BertSelfAttention(config, initializer: &initializer)
            return EncoderLayer(config, attention: attention, activation: activation, initializer: &initializer)
        }
    }

    /// Final hidden states [B, T, hidden] of `ids` laid out [B, T]; `keyMask` holds 1 for real tokens, 0 for padding.
    public func callAsFunction(_ ids: [Int], batch: Int, length: Int, keyMask: [Float]) throws -> Tensor {
        guard ids.count == batch * length, keyMask.count == ids.count else {
            throw ModelError.generation("\(ids.count) ids and \(keyMask.count) mask values for a \(batch) × \(length) batch")
        }
        if let bad = ids.first(where: { $0 < 0 || $0 >= config.vocabSize }) {
            throw TensorError.indexOutOfRange(op: "token id", index: bad, bound: config.vocabSize)
        }
        guard length <= config.maxTokens else {
            throw ModelError.generation("\(length) tokens are more than the encoder's \(config.maxTokens) positions")
        }
        var context = EncoderContext(batch: batch, length: length, keyMask: keyMask.contains(0) ? keyMask : nil)
        context.relative = try relative?.positions(length: length)
        var h = try embeddings(ids, context: context)
        for layer in layers { h = try layer(h, context: context) }
        return h
    }

    public var namedParameters: [(name: String, parameter: Parameter)] {
        var children = [("embeddings", embeddings.namedParameters)]
        children += layers.enumerated().map { ("encoder.layer.\($0.offset)", $0.element.namedParameters) }
        if let relative { children.append(("encoder", relative.namedParameters)) }
        return namespaced(children)
    }

    public var namedLinears: [(name: String, linear: Linear)] {
        namespacedLinears(layers.enumerated().map { ("encoder.layer.\($0.offset)", $0.element.namedLinears) })
    }
}
