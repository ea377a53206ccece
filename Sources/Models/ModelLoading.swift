import Foundation
import NN
import Tensor

/// Loading and saving Hugging Face model directories (config.json + safetensors weights).
public enum ModelDirectory {
    /// Files that belong to the tokenizer and travel with a model when it is saved elsewhere.
    public static let tokenizerFiles = ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                                        "generation_config.json", "chat_template.jinja"]

    /// Reads config.json and the weights; every parameter must be set and no tensor left over.
    public static func load(_ directory: URL) throws -> any CausalLanguageModel {
        let config = try ModelConfig.load(directory: directory)
        var initializer = WeightInitializer.zeros
        let model = try config.makeModel(initializer: &initializer)
        let checkpoint = try SafetensorsCheckpoint(directory: directory)
        try assignWeights(of: model, from: checkpoint, path: directory.path)
        return model
    }

    /// A second instance of `model` whose weights are the same storage (copy-on-write: nothing is copied while
    /// neither writes them), e.g. a frozen base trained through adapters on one thread while another serves it. The
    /// twin is built with zeroed weights first, so memory briefly holds a second set while it is made.
    public static func instance(sharingWeightsOf model: any CausalLanguageModel) throws -> any CausalLanguageModel {
        var initializer = WeightInitializer.zeros
        let twin = try model.config.makeModel(initializer: &initializer)
        for (mine, theirs) in zip(twin.namedParameters, model.namedParameters) {
            try mine.parameter.assign(theirs.parameter.value)
            mine.parameter.isTrainable = theirs.parameter.isTrainable
        }
        return twin
    }

    static func assignWeights(of model: any CausalLanguageModel, from checkpoint: SafetensorsCheckpoint, path: String,
                              ignoring ignored: Set<String> = []) throws {
        try assignWeights(model.namedParameters, modelType: model.config.modelType, from: checkpoint, path: path, ignoring: ignored)
    }

    static func assignWeights(_ expected: [(name: String, parameter: Parameter)], modelType: String = "",
                              from checkpoint: SafetensorsCheckpoint, path: String, ignoring ignored: Set<String> = []) throws {
        let expectedNames = Set(expected.map(\.name))
        var available: [String: String] = [:]  // model key → checkpoint key
        for name in checkpoint.names where !ignored.contains(name) {
            available[canonicalName(name, modelType: modelType, expected: expectedNames)] = name
        }
        let missing = expected.map(\.name).filter { available[$0] == nil }
        let unexpected = available.keys.filter { !expectedNames.contains($0) && !isIgnorable($0, expected: expectedNames) }.sorted()
        guard missing.isEmpty, unexpected.isEmpty else {
            var problems: [String] = []
            if !missing.isEmpty { problems.append("missing tensors: \(listed(missing))") }
            if !unexpected.isEmpty { problems.append("unexpected tensors: \(listed(unexpected))") }
            throw ModelError.checkpoint(path: path, problems.joined(separator: "; "))
        }
        for (name, parameter) in expected {
            let key = available[name]!
            let shape = try checkpoint.shape(of: key)
            guard shape == parameter.fileShape else {
                throw ModelError.checkpoint(path: path, "tensor \(key) has shape \(shape), the model expects \(parameter.fileShape)")
            }
            try parameter.assign(try parameter.fromFileLayout(try checkpoint.tensor(key)))
        }
    }

    /// Original GPT-2 checkpoints name weights without the `transformer.` prefix; old BERT-family ones call
    /// LayerNorm's weight and bias `gamma` and `beta`.
    private static func canonicalName(_ name: String, modelType: String, expected: Set<String>) -> String {
        if modelType == "gpt2", !expected.contains(name), expected.contains("transformer." + name) { return "transformer." + name }
        for (old, new) in [(".gamma", ".weight"), (".beta", ".bias")] where name.hasSuffix(old) && !expected.contains(name) {
            return String(name.dropLast(old.count)) + new
        }
        return name
    }

    /// Buffers some checkpoints carry (GPT-2's causal-mask buffers, rotary frequencies, BERT's position ids) and a
    /// tied head's copy.
    private static func isIgnorable(_ name: String, expected: Set<String>) -> Bool {
        name.hasSuffix("embeddings.position_ids") || name.hasSuffix(".attn.bias") || name.hasSuffix(".attn.masked_bias") || name.hasSuffix("rotary_emb.inv_freq")
            || (name == "lm_head.weight" && !expected.contains(name))
    }

    private static func listed(_ names: [String]) -> String {
        names.prefix(10).joined(separator: ", ") + (names.count > 10 ? " and \(names.count - 10) more" : "")
    }

    static func save(_ parameters: [(name: String, parameter: Parameter)], fields: [String: JSONValue], to directory: URL,
                     dtype: DType = .float32, maxShardBytes: Int = 5 << 30) throws {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var fields = fields
        fields["torch_dtype"] = nil
        fields["dtype"] = .string(dtype.torchName)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        let configURL = directory.appendingPathComponent("config.json")
        try encoder.encode(fields).write(to: configURL, options: .atomic)
        let tensors = try parameters.map { (name: $0.name, tensor: try $0.parameter.fileValue) }
        try Safetensors.writeSharded(tensors, dtype: dtype, maxShardBytes: maxShardBytes, to: directory)
    }

    /// Copies the tokenizer and generation files of `source` next to a saved model.
    public static func copyTokenizerFiles(from source: URL, to destination: URL) throws {
        let files = FileManager.default
        for name in tokenizerFiles where files.fileExists(atPath: source.appendingPathComponent(name).path) {
            let target = destination.appendingPathComponent(name)
            if files.fileExists(atPath: target.path) { try files.removeItem(at: target) }
            // A Hub snapshot's files are links into the cache: the output gets the bytes.
            try files.copyItem(at: source.appendingPathComponent(name).resolvingSymlinksInPath(), to: target)
        }
    }
}

extension DType {
    var torchName: String {
        switch self {
        case .float32: return "float32"
        case .float16: return "float16"
        case .bfloat16: return "bfloat16"
        }
    }
}
