import Tensor

/// The fields of a Llama-family config.json (Llama 2/3, Qwen2, Mistral, SmolLM) that shape the model.
public struct LlamaConfig: Codable, Sendable {
    public var modelType: String
    public var hiddenSize: Int
    public var intermediateSize: Int
    public var numHiddenLayers: Int
    public var numAttentionHeads: Int
    public var numKeyValueHeads: Int?
    public var headDim: Int?
    public var vocabSize: Int
    public var rmsNormEps: Float?
    public var hiddenAct: String?
    public var maxPositionEmbeddings: Int?
    public var tieWordEmbeddings: Bool?
    public var attentionBias: Bool?
    public var mlpBias: Bool?
    public var slidingWindow: Int?
    public var useSlidingWindow: Bool?
    public var initializerRange: Float?
    public var bosTokenId: TokenIDList?
    public var eosTokenId: TokenIDList?
    /// transformers ≥ 5 writes rotary settings here; older files use `rope_theta` and `rope_scaling`.
    public var ropeParameters: RopeParameters?
    public var ropeTheta: Float?
    public var ropeScaling: RopeParameters?

    public struct RopeParameters: Codable, Sendable {
        public var ropeType: String?
        public var type: String?
        public var ropeTheta: Float?
        public var factor: Float?
        public var lowFreqFactor: Float?
        public var highFreqFactor: Float?
        public var originalMaxPositionEmbeddings: Int?
    }

    var kvHeads: Int { numKeyValueHeads ?? numAttentionHeads }
    var headWidth: Int { headDim ?? hiddenSize / numAttentionHeads }
    var epsilon: Float { rmsNormEps ?? 1e-6 }
    /// Qwen2 biases q/k/v (never o_proj); Llama's `attention_bias` biases all four.
    var qkvBias: Bool { modelType == "qwen2" || (attentionBias ?? false) }
    var outputBias: Bool { attentionBias ?? false }
    var tied: Bool { tieWordEmbeddings ?? false }
    /// Sliding-window attention only differs from full attention past the window.
    var attentionWindow: Int? { modelType == "qwen2" && useSlidingWindow != true ? nil : slidingWindow }

    func rotaryTable(path: String) throws -> RotaryTable {
        let parameters = ropeParameters ?? ropeScaling
        let theta = ropeParameters?.ropeTheta ?? ropeTheta ?? 10_000
        let scaling: RotaryTable.Scaling?
        switch parameters?.ropeType ?? parameters?.type ?? "default" {
        case "default": scaling = nil
        case "linear": scaling = .linear(factor: parameters?.factor ?? 1)
        case "llama3":
            guard let p = parameters, let factor = p.factor, let low = p.lowFreqFactor, let high = p.highFreqFactor,
                  let context = p.originalMaxPositionEmbeddings else {
                throw ModelError.invalidConfig(path: path, "llama3 rope scaling needs factor, low_freq_factor, high_freq_factor, original_max_position_embeddings")
            }
            scaling = .llama3(factor: factor, lowFrequencyFactor: low, highFrequencyFactor: high, originalContext: context)
        case let other: throw ModelError.unsupported(path: path, "rope_type \"\(other)\" (supported: default, linear, llama3)")
        }
        return try RotaryTable(headDim: headWidth, theta: theta, scaling: scaling)
    }
}
