import Foundation
import NN
import Tensor

/// A classification head on the first token's final hidden state, in its family's layout: BERT's tanh pooler
/// (`bert.pooler.dense`) + `classifier`; RoBERTa's `classifier.dense` → tanh → `classifier.out_proj`; DeBERTa's
/// `pooler.dense` → `pooler_hidden_act` + `classifier`.
final class ClassificationHead: Module {
    let dense: Linear, output: Linear
    let activation: EncoderConfig.Activation
    let names: (dense: String, output: String)

    init(_ config: EncoderConfig, labels: Int, initializer: inout WeightInitializer, path: String) throws {
        let std = config.initializerRange ?? 0.02
        let pooled = config.family == .debertaV2 ? config.poolerHiddenSize ?? config.hiddenSize : config.hiddenSize
        dense = Linear(config.hiddenSize, pooled, std: std, initializer: &initializer)
        output = Linear(pooled, labels, std: std, initializer: &initializer)
        switch config.family {
        case .bert: (activation, names) = (.tanh, ("\(config.prefix).pooler.dense", "classifier"))
        case .roberta: (activation, names) = (.tanh, ("classifier.dense", "classifier.out_proj"))
        case .debertaV2: (activation, names) = (try config.activation(config.poolerHiddenAct, path: path), ("pooler.dense", "classifier"))
        }
    }

    /// Logits [B, labels] from hidden states [B, T, hidden].
    func callAsFunction(_ hidden: Tensor) throws -> Tensor {
        let (batch, length) = (hidden.shape[0], hidden.shape[1])
        let rows = try hidden.reshaped([batch * length, hidden.shape[2]])
        let first = try Tensor.embedding(rows, ids: (0..<batch).map { $0 * length }, shape: [batch])
        return try output(activation(dense(first)))
    }

    var namedParameters: [(name: String, parameter: Parameter)] {
        namespaced((names.dense, dense.namedParameters), (names.output, output.namedParameters))
    }
}

/// transformers' `BertForSequenceClassification`, `RobertaForSequenceClassification` (and XLM-R's) and
/// `DebertaV2ForSequenceClassification`: an encoder and a head on its first token.
public final class EncoderClassifier: SequenceClassifier, AdaptableModule {
    public let encoder: TransformerEncoder
    let head: ClassificationHead
    public let labelNames: [String]
    /// All config.json fields as read, written back on save.
    public let fields: [String: JSONValue]
    /// Subtracted from the reward logit (`rlhf_reward_offset` in config.json), as for decoder reward models.
    public var offset: Float

    init(config: EncoderConfig, fields: [String: JSONValue], initializer: inout WeightInitializer, path: String) throws {
        encoder = try TransformerEncoder(config, initializer: &initializer, path: path)
        labelNames = try Self.labelNames(fields, path: path)
        head = try ClassificationHead(config, labels: labelNames.count, initializer: &initializer, path: path)
        self.fields = fields
        if case .number(let value)? = fields["rlhf_reward_offset"] { offset = Float(value) } else { offset = 0 }
    }

    public var maxTokens: Int? { encoder.config.maxTokens }

    public func logits(_ ids: [Int], batch: Int, length: Int, keyMask: [Float]) throws -> Tensor {
        try head(encoder(ids, batch: batch, length: length, keyMask: keyMask))
    }

    public var namedParameters: [(name: String, parameter: Parameter)] {
        namespaced((encoder.config.prefix, encoder.namedParameters)) + head.namedParameters
    }

    public var namedLinears: [(name: String, linear: Linear)] {
        namespacedLinears([(encoder.config.prefix, encoder.namedLinears)])
    }

    /// `id2label` in id order, or `num_labels` generic names (`LABEL_0`, …) as transformers makes them.
    static func labelNames(_ fields: [String: JSONValue], path: String) throws -> [String] {
        if case .object(let table)? = fields["id2label"], !table.isEmpty {
            let pairs = try table.map { key, value -> (Int, String) in
                guard let id = Int(key), case .string(let name) = value else {
                    throw ModelError.invalidConfig(path: path, "id2label must map ids to names (got \"\(key)\")")
                }
                return (id, name)
            }.sorted { $0.0 < $1.0 }
            guard pairs.map(\.0) == Array(0..<pairs.count) else {
                throw ModelError.invalidConfig(path: path, "id2label ids must be 0..<\(pairs.count)")
            }
            return pairs.map(\.1)
        }
        if case .number(let count)? = fields["num_labels"], count >= 1 { return (0..<Int(count)).map { "LABEL_\($0)" } }
        return ["LABEL_0", "LABEL_1"]
    }
}

extension ModelDirectory {
    /// Whether `directory`'s config.json names an encoder family (BERT, RoBERTa, XLM-R, DeBERTa-v2).
    static func encoderConfig(_ directory: URL) throws -> (EncoderConfig, [String: JSONValue])? {
        let url = directory.appendingPathComponent("config.json")
        guard let data = try? Data(contentsOf: url) else { throw ModelError.invalidConfig(path: url.path, "cannot read config.json") }
        guard case .object(let fields) = try? JSONDecoder().decode(JSONValue.self, from: data),
              case .string(let type)? = fields["model_type"], EncoderConfig.modelTypes.contains(type) else { return nil }
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        do {
            return (try decoder.decode(EncoderConfig.self, from: data), fields)
        } catch let error as DecodingError {
            throw ModelError.invalidConfig(path: url.path, ModelConfig.explain(error))
        }
    }

    /// An encoder `*ForSequenceClassification` directory, every weight checked as `load` does.
    public static func loadEncoderClassifier(_ directory: URL) throws -> EncoderClassifier {
        guard let (config, fields) = try encoderConfig(directory) else {
            throw ModelError.unsupported(path: directory.appendingPathComponent("config.json").path, "not an encoder classifier (BERT, RoBERTa, XLM-R, DeBERTa-v2)")
        }
        var initializer = WeightInitializer.zeros
        let path = directory.appendingPathComponent("config.json").path
        let model = try EncoderClassifier(config: config, fields: fields, initializer: &initializer, path: path)
        try assignWeights(model.namedParameters, from: try SafetensorsCheckpoint(directory: directory), path: directory.path)
        return model
    }

    /// Writes an encoder classifier so transformers loads it with its `*ForSequenceClassification` class; a reward
    /// offset goes into config.json as `rlhf_reward_offset` (transformers keeps it as an unused attribute).
    public static func save(_ model: EncoderClassifier, to directory: URL) throws {
        var fields = model.fields
        if model.offset != 0 || fields["rlhf_reward_offset"] != nil { fields["rlhf_reward_offset"] = .number(Double(model.offset)) }
        try save(model.namedParameters, fields: fields, to: directory)
    }
}

extension ModelDirectory {
    /// Any sequence classifier: an encoder's `*ForSequenceClassification`, or a decoder's (a reward model).
    public static func loadClassifier(_ directory: URL) throws -> any SequenceClassifier {
        try encoderConfig(directory) != nil ? try loadEncoderClassifier(directory) : try loadRewardModel(directory)
    }
}
