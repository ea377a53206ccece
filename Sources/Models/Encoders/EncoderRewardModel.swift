import Foundation
import NN
import Tensor

/// An encoder classifier as a reward model: the first token's logit (a 1-label head) or its positive class (label
/// 1 of 2), less `rlhf_reward_offset`.
extension EncoderClassifier: RewardClassifier {
    public var positiveLabel: Int { labelNames.count == 2 ? 1 : 0 }
    public var outputLayer: Linear { head.output }
    public var adaptableBase: any AdaptableModule { self }
    /// PEFT's defaults for the family: query and value (`query_proj`, `value_proj` for DeBERTa-v2).
    public var defaultLoRATargets: [String] { encoder.config.family == .debertaV2 ? ["query_proj", "value_proj"] : ["query", "value"] }

    public func save(to directory: URL) throws { try ModelDirectory.save(self, to: directory) }

    public func loadWeights(from directory: URL) throws {
        try ModelDirectory.assignWeights(namedParameters, from: try SafetensorsCheckpoint(directory: directory), path: directory.path)
        let saved = try ModelDirectory.loadEncoderClassifierFields(directory)
        if case .number(let value)? = saved["rlhf_reward_offset"] { offset = Float(value) } else { offset = 0 }
    }
}

extension EncoderConfig {
    /// transformers' sequence-classification class of the family, written to `architectures`.
    var classifierClass: String {
        ["bert": "BertForSequenceClassification", "roberta": "RobertaForSequenceClassification",
         "xlm-roberta": "XLMRobertaForSequenceClassification", "deberta-v2": "DebertaV2ForSequenceClassification"][modelType]!
    }
}

extension ModelDirectory {
    static func loadEncoderClassifierFields(_ directory: URL) throws -> [String: JSONValue] {
        guard let (_, fields) = try encoderConfig(directory) else {
            throw ModelError.unsupported(path: directory.appendingPathComponent("config.json").path, "not an encoder classifier (BERT, RoBERTa, XLM-R, DeBERTa-v2)")
        }
        return fields
    }

    /// An encoder classifier to train as a reward model. A `*ForSequenceClassification` directory loads as it is; a
    /// bare encoder (`BertModel`, `RobertaModel`, a `*ForMaskedLM`, …, its weights with or without the family's
    /// prefix) gets a new 1-label head as `from_pretrained(num_labels=1)` builds it: head weights the directory
    /// has (BERT's pooler) are kept, the rest drawn N(0, initializer_range) with zero biases, and other heads'
    /// tensors (`lm_head.*`, `cls.*`) are left unused. Every encoder weight must be there.
    public static func encoderClassifierToTrain(_ directory: URL, seed: UInt64) throws -> EncoderClassifier {
        let path = directory.appendingPathComponent("config.json").path
        guard let (config, fields) = try encoderConfig(directory) else {
            throw ModelError.unsupported(path: path, "not an encoder classifier (BERT, RoBERTa, XLM-R, DeBERTa-v2)")
        }
        let checkpoint = try SafetensorsCheckpoint(directory: directory)
        let headOutput = config.family == .roberta ? "classifier.out_proj.weight" : "classifier.weight"
        if checkpoint.names.contains(headOutput) { return try loadEncoderClassifier(directory) }

        var headed = fields
        headed["id2label"] = .object(["0": .string("LABEL_0")])
        headed["label2id"] = .object(["LABEL_0": .number(0)])
        headed["num_labels"] = nil
        headed["architectures"] = .array([.string(config.classifierClass)])
        var zeros = WeightInitializer.zeros
        let model = try EncoderClassifier(config: config, fields: headed, initializer: &zeros, path: path)

        var available: [String: String] = [:]  // model key → checkpoint key
        for name in checkpoint.names {
            var key = name
            for (old, new) in [(".gamma", ".weight"), (".beta", ".bias")] where key.hasSuffix(old) { key = String(key.dropLast(old.count)) + new }
            available[key] = name
            if available["\(config.prefix).\(key)"] == nil { available["\(config.prefix).\(key)"] = name }
        }
        let head = Set(model.head.namedParameters.map(\.name))
        let missing = model.namedParameters.map(\.name).filter { !head.contains($0) && available[$0] == nil }
        guard missing.isEmpty else {
            throw ModelError.checkpoint(path: directory.path, "missing encoder tensors: \(missing.prefix(10).joined(separator: ", "))"
                                        + (missing.count > 10 ? " and \(missing.count - 10) more" : ""))
        }
        var initializer = WeightInitializer.random(seed: seed)
        for (name, parameter) in model.namedParameters {
            let shape = parameter.value.shape
            if let key = available[name] {
                guard try checkpoint.shape(of: key) == shape else {
                    throw ModelError.checkpoint(path: directory.path, "tensor \(key) has shape \(try checkpoint.shape(of: key)), the model expects \(shape)")
                }
                try parameter.assign(try checkpoint.tensor(key))
            } else if shape.count == 2 {
                try parameter.assign(initializer.normal(shape, std: config.initializerRange ?? 0.02))
            }
        }
        return model
    }
}
