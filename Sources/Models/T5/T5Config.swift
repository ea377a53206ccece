import Foundation
import Tensor

/// The fields of a T5 / T5 v1.1 / FLAN-T5 config.json that shape the model.
public struct T5Config: Codable, Sendable {
    public var vocabSize: Int
    public var dModel: Int
    public var dKv: Int
    public var dFf: Int
    public var numLayers: Int
    public var numDecoderLayers: Int?
    public var numHeads: Int
    public var relativeAttentionNumBuckets: Int?
    public var relativeAttentionMaxDistance: Int?
    public var layerNormEpsilon: Float?
    /// "relu" (T5 v1.0) or "gated-gelu" (v1.1, FLAN-T5).
    public var feedForwardProj: String?
    public var tieWordEmbeddings: Bool?
    public var decoderStartTokenId: Int?
    public var padTokenId: Int?
    public var eosTokenId: TokenIDList?
    public var initializerFactor: Float?

    var decoderLayers: Int { numDecoderLayers ?? numLayers }
    var buckets: Int { relativeAttentionNumBuckets ?? 32 }
    var maxDistance: Int { relativeAttentionMaxDistance ?? 128 }
    var epsilon: Float { layerNormEpsilon ?? 1e-6 }
    var tied: Bool { tieWordEmbeddings ?? true }
    var gated: Bool { (feedForwardProj ?? "relu").hasPrefix("gated-") }
    /// The decoder's first input (T5 uses the pad id).
    public var startTokenID: Int { decoderStartTokenId ?? padTokenId ?? 0 }

    /// The feed-forward activation: "relu" → ReLU; "gated-gelu" → GELU with tanh ("gelu_new", as transformers maps it).
    func activation(path: String) throws -> EncoderConfig.Activation {
        let proj = feedForwardProj ?? "relu"
        switch proj {
        case "relu", "gated-relu": return .relu
        case "gated-gelu", "gelu_new", "gated-gelu_new": return .gelu(.tanh)
        case "gelu", "gated-gelu_exact": return .gelu(.exact)
        default: throw ModelError.unsupported(path: path, "feed_forward_proj \"\(proj)\"")
        }
    }

    static func load(directory: URL) throws -> (T5Config, [String: JSONValue])? {
        let url = directory.appendingPathComponent("config.json")
        guard let data = try? Data(contentsOf: url) else { throw ModelError.invalidConfig(path: url.path, "cannot read config.json") }
        guard case .object(let fields) = try? JSONDecoder().decode(JSONValue.self, from: data),
              case .string(let type)? = fields["model_type"], type == "t5" else { return nil }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        do {
            let config = try decoder.decode(T5Config.self, from: data)
            try config.validate(path: url.path)
            return (config, fields)
        } catch let error as DecodingError {
            throw ModelError.invalidConfig(path: url.path, ModelConfig.explain(error))
        }
    }

    func validate(path: String) throws {
        for (key, value) in [("vocab_size", vocabSize), ("d_model", dModel), ("d_kv", dKv), ("d_ff", dFf), ("num_layers", numLayers),
                             ("num_decoder_layers", decoderLayers), ("num_heads", numHeads), ("relative_attention_num_buckets", buckets),
                             ("relative_attention_max_distance", maxDistance)] where value <= 0 {
            throw ModelError.invalidConfig(path: path, "\(key) must be positive (got \(value))")
        }
        _ = try activation(path: path)
        let (width, inner) = (Double(dModel), Double(numHeads * dKv))
        let ff = Double(dFf) * width * (gated ? 3 : 2)
        let parameters = Double(vocabSize) * width * (tied ? 1 : 2) + Double(numLayers) * (4 * width * inner + ff)
            + Double(decoderLayers) * (8 * width * inner + ff)
        if let overrun = MemoryBudget.overrun(parameters * 4) {
            throw ModelError.invalidConfig(path: path, String(format: "%.3g parameters need, as float32, ", parameters) + overrun)
        }
    }
}
