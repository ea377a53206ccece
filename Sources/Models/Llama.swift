import NN
import Tensor

/// The Llama family (Llama 2/3, Qwen2, Mistral, SmolLM): RMSNorm, rotary positions, SwiGLU MLP,
/// grouped-query attention, optionally tied LM head.
public final class Llama: CausalLanguageModel {
    public let config: ModelConfig
    public let settings: LlamaConfig
    public let tokenEmbedding: Embedding
    public let layers: [LlamaBlock]
    public let finalNorm: RMSNorm
    public let head: Linear?
    private let hasLanguageModelHead: Bool

    public init(config: ModelConfig, settings: LlamaConfig, initializer: inout WeightInitializer,
                languageModelHead: Bool = true) throws {
        self.config = config
        self.settings = settings
        let std = settings.initializerRange ?? 0.02
        let rotary = try settings.rotaryTable(path: "config.json")
        tokenEmbedding = Embedding(settings.vocabSize, settings.hiddenSize, std: std, initializer: &initializer)
        layers = (0..<settings.numHiddenLayers).map { layer in
            LlamaBlock(settings: settings, rotary: rotary, layer: layer, initializer: &initializer)
        }
        finalNorm = RMSNorm(settings.hiddenSize, eps: settings.epsilon)
        hasLanguageModelHead = languageModelHead || settings.tied
        head = settings.tied || !languageModelHead ? nil : Linear(settings.hiddenSize, settings.vocabSize, bias: false, std: std, initializer: &initializer)
    }

    public var vocabularySize: Int { settings.vocabSize }
    public var layerCount: Int { settings.numHiddenLayers }
    public var kvWidth: Int { settings.kvHeads * settings.headWidth }

    public func transform(_ ids: [Int], batch: Int, length: Int, context: AttentionContext) throws -> Tensor {
        if let window = settings.attentionWindow, (context.cache?.length ?? 0) + length > window {
            throw ModelError.generation("sequence longer than the \(window)-token sliding window, which RLHFKit does not implement")
        }
        var h = try tokenEmbedding(ids, shape: [batch, length])
        for layer in layers { h = try layer(h, context: context) }
        return try finalNorm(h)
    }

    public func languageModelHead(_ hidden: Tensor) throws -> Tensor {
        guard hasLanguageModelHead else { throw ModelError.generation("the model was loaded without its LM head") }
        return try Tensor.linear(hidden, weight: (head?.weight ?? tokenEmbedding.weight).value)
    }

    public var namedParameters: [(name: String, parameter: Parameter)] {
        var children = [("model.embed_tokens", tokenEmbedding.namedParameters)]
        children += layers.enumerated().map { ("model.layers.\($0.offset)", $0.element.namedParameters) }
        children.append(("model.norm", finalNorm.namedParameters))
        if let head { children.append(("lm_head", head.namedParameters)) }
        return namespaced(children)
    }

    /// The layers' linear layers (the LM head is applied as a plain product, so it takes no adapter).
    public var namedLinears: [(name: String, linear: Linear)] {
        namespacedLinears(layers.enumerated().map { ("model.layers.\($0.offset)", $0.element.namedLinears) })
    }
}

/// x + attn(input_layernorm(x)), then + mlp(post_attention_layernorm(·)).
public final class LlamaBlock: AdaptableModule {
    public let inputNorm: RMSNorm
    public let attention: GroupedQueryAttention
    public let postAttentionNorm: RMSNorm
    public let mlp: SwiGLUMLP

    init(settings: LlamaConfig, rotary: RotaryTable, layer: Int, initializer: inout WeightInitializer) {
        let std = settings.initializerRange ?? 0.02
        inputNorm = RMSNorm(settings.hiddenSize, eps: settings.epsilon)
        attention = GroupedQueryAttention(width: settings.hiddenSize, heads: settings.numAttentionHeads,
                                          kvHeads: settings.kvHeads, headDim: settings.headWidth,
                                          qkvBias: settings.qkvBias, outputBias: settings.outputBias,
                                          rotary: rotary, layer: layer, std: std, initializer: &initializer)
        postAttentionNorm = RMSNorm(settings.hiddenSize, eps: settings.epsilon)
        mlp = SwiGLUMLP(width: settings.hiddenSize, hidden: settings.intermediateSize, bias: settings.mlpBias ?? false,
                        std: std, initializer: &initializer)
    }

    public func callAsFunction(_ x: Tensor, context: AttentionContext) throws -> Tensor {
        let h = try x + attention(inputNorm(x), context: context)
        return try h + mlp(postAttentionNorm(h))
    }

    public var namedParameters: [(name: String, parameter: Parameter)] {
        namespaced(("input_layernorm", inputNorm.namedParameters), ("self_attn", attention.namedParameters),
                   ("post_attention_layernorm", postAttentionNorm.namedParameters), ("mlp", mlp.namedParameters))
    }

    public var namedLinears: [(name: String, linear: Linear)] {
        namespacedLinears([("self_attn", attention.namedLinears), ("mlp", mlp.namedLinears)])
    }
}
