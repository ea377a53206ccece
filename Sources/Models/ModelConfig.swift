import Foundation

/// A Hugging Face config.json: the architecture it names, typed, plus every field as read.
public struct ModelConfig: Sendable {
    public enum Architecture: Sendable {
        case gpt2(GPT2Config)
        case llama(LlamaConfig)
    }

    public let architecture: Architecture
    /// All fields as read (or as built for a new model), written back on save.
    public var fields: [String: JSONValue]

    public init(architecture: Architecture, fields: [String: JSONValue]) {
        self.architecture = architecture
        self.fields = fields
    }

    public static func load(directory: URL) throws -> ModelConfig {
        let url = directory.appendingPathComponent("config.json")
        guard let data = try? Data(contentsOf: url) else {
            throw ModelError.invalidConfig(path: url.path, "cannot read config.json")
        }
        return try ModelConfig(json: data, path: url.path)
    }

    public init(json data: Data, path: String) throws {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        do {
            guard case .object(let fields) = try JSONDecoder().decode(JSONValue.self, from: data) else {
                throw ModelError.invalidConfig(path: path, "not a JSON object")
            }
            self.fields = fields
            guard case .string(let type)? = fields["model_type"] else {
                throw ModelError.invalidConfig(path: path, "no \"model_type\"")
            }
            switch type {
            case "gpt2":
                architecture = .gpt2(try decoder.decode(GPT2Config.self, from: data))
            case "llama", "qwen2", "mistral":
                architecture = .llama(try decoder.decode(LlamaConfig.self, from: data))
            default:
                throw ModelError.unsupported(path: path, "model_type \"\(type)\" (supported: gpt2, llama, qwen2, mistral)")
            }
            try validate(path: path)
        } catch let error as ModelError {
            throw error
        } catch let error as DecodingError {
            throw ModelError.invalidConfig(path: path, Self.explain(error))
        }
    }

    private func validate(path: String) throws {
        try validateSizes(path: path)
        switch architecture {
        case .gpt2(let c):
            if c.addCrossAttention == true { throw ModelError.unsupported(path: path, "add_cross_attention") }
            if c.scaleAttnByInverseLayerIdx == true { throw ModelError.unsupported(path: path, "scale_attn_by_inverse_layer_idx") }
            _ = try c.geluApproximation(path: path)
        case .llama(let c):
            if let act = c.hiddenAct, act != "silu" { throw ModelError.unsupported(path: path, "hidden_act \"\(act)\"") }
            _ = try c.rotaryTable(path: path)
            guard c.numAttentionHeads % c.kvHeads == 0 else {
                throw ModelError.invalidConfig(path: path, "\(c.numAttentionHeads) heads not divisible by \(c.kvHeads) kv heads")
            }
        }
    }

    /// Every size positive and consistent, and the float32 weights within the machine's memory, checked before
    /// anything is allocated: a crafted config.json gets one line, not a trap or a failed allocation.
    private func validateSizes(path: String) throws {
        let sizes: [(key: String, value: Int?)], parameters: Double
        switch architecture {
        case .gpt2(let c):
            sizes = [("n_layer", c.nLayer), ("n_head", c.nHead), ("n_embd", c.nEmbd), ("n_positions", c.nPositions),
                     ("vocab_size", c.vocabSize), ("n_inner", c.nInner)]
            // In Double from the start: a crafted size must not overflow the check meant to catch it.
            let (width, layers) = (Double(c.nEmbd), Double(c.nLayer))
            let inner = c.nInner.map(Double.init) ?? 4 * width
            parameters = (Double(c.vocabSize) + Double(c.nPositions)) * width + layers * (4 * width * width + 2 * width * inner)
        case .llama(let c):
            sizes = [("hidden_size", c.hiddenSize), ("intermediate_size", c.intermediateSize), ("num_hidden_layers", c.numHiddenLayers),
                     ("num_attention_heads", c.numAttentionHeads), ("num_key_value_heads", c.numKeyValueHeads), ("head_dim", c.headDim),
                     ("vocab_size", c.vocabSize), ("max_position_embeddings", c.maxPositionEmbeddings)]
            let (width, head, layers) = (Double(c.hiddenSize), Double(c.headDim ?? max(c.hiddenSize / max(c.numAttentionHeads, 1), 1)),
                                         Double(c.numHiddenLayers))
            let attention = width * head * (2 * Double(c.numAttentionHeads) + 2 * Double(c.numKeyValueHeads ?? c.numAttentionHeads))
            parameters = Double(c.vocabSize) * width * (c.tieWordEmbeddings == true ? 1 : 2)
                + layers * (attention + 3 * width * Double(c.intermediateSize))
        }
        for (key, value) in sizes {
            if let value, value <= 0 { throw ModelError.invalidConfig(path: path, "\(key) must be positive (got \(value))") }
        }
        switch architecture {
        case .gpt2(let c) where c.nEmbd % c.nHead != 0:
            throw ModelError.invalidConfig(path: path, "n_embd \(c.nEmbd) is not divisible by n_head \(c.nHead)")
        case .llama(let c) where c.headDim == nil && c.hiddenSize % c.numAttentionHeads != 0:
            throw ModelError.invalidConfig(path: path, "hidden_size \(c.hiddenSize) is not divisible by num_attention_heads \(c.numAttentionHeads)")
        default: break
        }
        if let overrun = MemoryBudget.overrun(parameters * 4) {
            throw ModelError.invalidConfig(path: path, String(format: "%.3g parameters need, as float32, ", parameters) + overrun)
        }
    }

    static func explain(_ error: DecodingError) -> String {
        switch error {
        case .keyNotFound(let key, _): return "missing \"\(snakeCase(key.stringValue))\""
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            let path = context.codingPath.map { snakeCase($0.stringValue) }.joined(separator: ".")
            return path.isEmpty ? context.debugDescription : "\"\(path)\": \(context.debugDescription)"
        @unknown default: return "\(error)"
        }
    }

    private static func snakeCase(_ key: String) -> String {
        key.reduce(into: "") { out, c in out += c.isUppercase ? "_" + c.lowercased() : String(c) }
    }
}

/// Token ids that config files write as a number, a list, or null.
public struct TokenIDList: Codable, Sendable, Equatable {
    public var ids: [Int]

    public init(_ ids: [Int]) { self.ids = ids }

    public init(from decoder: Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() { ids = [] }
        else if let id = try? container.decode(Int.self) { ids = [id] }
        else { ids = try container.decode([Int].self) }
    }

    public func encode(to encoder: Encoder) throws {
        var container = encoder.singleValueContainer()
        switch ids.count {
        case 0: try container.encodeNil()
        case 1: try container.encode(ids[0])
        default: try container.encode(ids)
        }
    }
}
