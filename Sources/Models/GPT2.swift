import NN
import Tensor

/// GPT-2: learned positions, pre-LayerNorm blocks, GELU MLP, Conv1D weight layout, tied LM head.
public final class GPT2: CausalLanguageModel {
    public let config: ModelConfig
    public let settings: GPT2Config
    public let tokenEmbedding: Embedding
    public let positionEmbedding: Embedding
    public let blocks: [GPT2Block]
    public let finalNorm: LayerNorm
    /// Present only when the head is not tied to the token embedding.
    public let head: Linear?
    private let hasLanguageModelHead: Bool

    public init(config: ModelConfig, settings: GPT2Config, initializer: inout WeightInitializer,
                languageModelHead: Bool = true) throws {
        self.config = config
        self.settings = settings
        let std = settings.initializerRange ?? 0.02
        let gelu = try settings.geluApproximation(path: "config.json")
        tokenEmbedding = Embedding(settings.vocabSize, settings.nEmbd, std: std, initializer: &initializer)
        positionEmbedding = Embedding(settings.nPositions, settings.nEmbd, std: std, initializer: &initializer)
        blocks = (0..<settings.nLayer).map { layer in
            GPT2Block(settings: settings, gelu: gelu, layer: layer, initializer: &initializer)
        }
        finalNorm = LayerNorm(settings.nEmbd, eps: settings.epsilon)
        hasLanguageModelHead = languageModelHead || settings.tied
        head = settings.tied || !languageModelHead ? nil : Linear(settings.nEmbd, settings.vocabSize, bias: false, std: std, initializer: &initializer)
    }

    public var vocabularySize: Int { settings.vocabSize }
    public var layerCount: Int { settings.nLayer }
    public var kvWidth: Int { settings.nEmbd }

    public func transform(_ ids: [Int], batch: Int, length: Int, context: AttentionContext) throws -> Tensor {
        var h = try tokenEmbedding(ids, shape: [batch, length]) + positionEmbedding(context.positions, shape: [batch, length])
        for block in blocks { h = try block(h, context: context) }
        return try finalNorm(h)
    }

    public func languageModelHead(_ hidden: Tensor) throws -> Tensor {
        guard hasLanguageModelHead else { throw ModelError.generation("the model was loaded without its LM head") }
        return try Tensor.linear(hidden, weight: (head?.weight ?? tokenEmbedding.weight).value)
    }

    public var namedParameters: [(name: String, parameter: Parameter)] {
        var children = [("transformer.wte", tokenEmbedding.namedParameters), ("transformer.wpe", positionEmbedding.namedParameters)]
        children += blocks.enumerated().map { ("transformer.h.\($0.offset)", $0.element.namedParameters) }
        children.append(("transformer.ln_f", finalNorm.namedParameters))
        if let head { children.append(("lm_head", head.namedParameters)) }
        return namespaced(children)
    }

    /// The blocks' linear layers (the LM head is applied as a plain product, so it takes no adapter).
    public var namedLinears: [(name: String, linear: Linear)] {
        namespacedLinears(blocks.enumerated().map { ("transformer.h.\($0.offset)", $0.element.namedLinears) })
    }
}

/// x + attn(ln_1(x)), then + mlp(ln_2(·)).
public final class GPT2Block: AdaptableModule {
    public let norm1: LayerNorm
    public let attention: FusedCausalSelfAttention
    public let norm2: LayerNorm
    public let mlp: GELUMLP

    init(settings: GPT2Config, gelu: Tensor.GELUApproximation, layer: Int, initializer: inout WeightInitializer) {
        let std = settings.initializerRange ?? 0.02
        norm1 = LayerNorm(settings.nEmbd, eps: settings.epsilon)
        attention = FusedCausalSelfAttention(width: settings.nEmbd, heads: settings.nHead, layer: layer, std: std,
                                             initializer: &initializer)
        norm2 = LayerNorm(settings.nEmbd, eps: settings.epsilon)
        mlp = GELUMLP(width: settings.nEmbd, hidden: settings.hiddenWidth, approximation: gelu, std: std,
                      initializer: &initializer)
    }

    public func callAsFunction(_ x: Tensor, context: AttentionContext) throws -> Tensor {
        let h = try x + attention(norm1(x), context: context)
        return try h + mlp(norm2(h))
    }

    public var namedParameters: [(name: String, parameter: Parameter)] {
        namespaced(("ln_1", norm1.namedParameters), ("attn", attention.namedParameters),
                   ("ln_2", norm2.namedParameters), ("mlp", mlp.namedParameters))
    }

    public var namedLinears: [(name: String, linear: Linear)] {
        namespacedLinears([("attn", attention.namedLinears), ("mlp", mlp.namedLinears)])
    }
}
