import Foundation
import Tensor

/// The fields of a BERT, RoBERTa, XLM-R or DeBERTa-v2 config.json that shape the encoder.
public struct EncoderConfig: Codable, Sendable {
    public enum Family: Sendable { case bert, roberta, debertaV2 }

    public var modelType: String
    public var vocabSize: Int
    public var hiddenSize: Int
    public var numHiddenLayers: Int
    public var numAttentionHeads: Int
    public var intermediateSize: Int
    public var hiddenAct: String?
    public var maxPositionEmbeddings: Int
    public var typeVocabSize: Int?
    public var layerNormEps: Float?
    public var padTokenId: Int?
    public var positionEmbeddingType: String?
    public var initializerRange: Float?
    // DeBERTa-v2 / v3
    public var relativeAttention: Bool?
    public var posAttType: NameList?
    public var positionBuckets: Int?
    public var maxRelativePositions: Int?
    public var normRelEbd: String?
    public var shareAttKey: Bool?
    public var positionBiasedInput: Bool?
    public var embeddingSize: Int?
    public var convKernelSize: Int?
    public var poolerHiddenSize: Int?
    public var poolerHiddenAct: String?
    public var attentionHeadSize: Int?

    public var family: Family {
        switch modelType {
        case "roberta", "xlm-roberta": return .roberta
        case "deberta-v2": return .debertaV2
        default: return .bert
        }
    }

    static let modelTypes: Set<String> = ["bert", "roberta", "xlm-roberta", "deberta-v2"]

    var epsilon: Float { layerNormEps ?? 1e-12 }
    var headWidth: Int { attentionHeadSize ?? hiddenSize / numAttentionHeads }
    /// Key prefix of the encoder's weights in the `*ForSequenceClassification` checkpoint.
    var prefix: String { ["bert": "bert", "roberta": "roberta", "xlm-roberta": "roberta", "deberta-v2": "deberta"][modelType]! }

    /// DeBERTa: how far apart two positions may be told apart (2·span relative embeddings).
    var relativeSpan: Int {
        if let buckets = positionBuckets, buckets > 0 { return buckets }
        if let far = maxRelativePositions, far > 0 { return far }
        return maxPositionEmbeddings
    }

    var attendsContentToPosition: Bool { posAttType?.names.contains("c2p") ?? false }
    var attendsPositionToContent: Bool { posAttType?.names.contains("p2c") ?? false }

    /// The longest sequence of token ids, special tokens included (RoBERTa's positions start after padding_idx).
    public var maxTokens: Int {
        switch family {
        case .roberta: return maxPositionEmbeddings - (padTokenId ?? 1) - 1
        case .bert: return maxPositionEmbeddings
        case .debertaV2: return positionBiasedInput ?? true ? maxPositionEmbeddings : Int.max
        }
    }

    func activation(_ name: String?, path: String) throws -> Activation {
        switch name ?? "gelu" {
        case "gelu": return .gelu(.exact)
        case "gelu_new", "gelu_pytorch_tanh": return .gelu(.tanh)
        case "relu": return .relu
        case "tanh": return .tanh
        default: throw ModelError.unsupported(path: path, "hidden_act \"\(name ?? "")\"")
        }
    }

    /// Every setting this implementation does not reproduce, refused with one line before any weight is read.
    func validate(path: String) throws {
        for (key, value) in [("vocab_size", vocabSize), ("hidden_size", hiddenSize), ("num_hidden_layers", numHiddenLayers),
                             ("num_attention_heads", numAttentionHeads), ("intermediate_size", intermediateSize),
                             ("max_position_embeddings", maxPositionEmbeddings)] where value <= 0 {
            throw ModelError.invalidConfig(path: path, "\(key) must be positive (got \(value))")
        }
        guard attentionHeadSize != nil || hiddenSize % numAttentionHeads == 0 else {
            throw ModelError.invalidConfig(path: path, "hidden_size \(hiddenSize) is not divisible by num_attention_heads \(numAttentionHeads)")
        }
        if let type = positionEmbeddingType, type != "absolute" {
            throw ModelError.unsupported(path: path, "position_embedding_type \"\(type)\"")
        }
        _ = try activation(hiddenAct, path: path)
        _ = try activation(poolerHiddenAct, path: path)
        if family == .debertaV2 {
            if let kernel = convKernelSize, kernel > 0 { throw ModelError.unsupported(path: path, "conv_kernel_size \(kernel) (DeBERTa-v2's convolution layer)") }
            if let unknown = posAttType?.names.first(where: { !["c2p", "p2c"].contains($0) }) {
                throw ModelError.unsupported(path: path, "pos_att_type \"\(unknown)\"")
            }
            if let norm = normRelEbd, !["none", "layer_norm"].contains(norm) {
                throw ModelError.unsupported(path: path, "norm_rel_ebd \"\(norm)\"")
            }
        }
        let width = Double(hiddenSize), layers = Double(numHiddenLayers)
        let parameters = (Double(vocabSize) + Double(maxPositionEmbeddings)) * width
            + layers * (4 * width * width + 2 * width * Double(intermediateSize))
        if let overrun = MemoryBudget.overrun(parameters * 4) {
            throw ModelError.invalidConfig(path: path, String(format: "%.3g parameters need, as float32, ", parameters) + overrun)
        }
    }

    public enum Activation: Sendable {
        case gelu(Tensor.GELUApproximation), relu, tanh
    }
}

/// A list of names that config files write either as a JSON list or as one `|`-separated string (`"p2c|c2p"`).
public struct NameList: Codable, Sendable {
    public var names: [String]

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let text = try? container.decode(String.self) {
            names = text.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) }
        } else {
            names = try container.decode([String].self)
        }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(names)
    }
}
