import Foundation
import NN
import Tensor

/// LoRA adapters in PEFT's directory layout: `adapter_config.json` and `adapter_model.safetensors` with
/// `base_model.model.<module path>.lora_A.weight` [r, in] and `.lora_B.weight` [out, r], which
/// `PeftModel.from_pretrained` loads unchanged.
public enum PEFTAdapter {
    public static let configFile = "adapter_config.json"
    public static let weightsFile = "adapter_model.safetensors"
    static let keyPrefix = "base_model.model."

    /// PEFT's target that adapts every linear layer but the output head.
    public static let allLinear = "all-linear"

    /// Attaches adapters to `targets` (nil: the family's attention projections, as PEFT defaults; `all-linear`: every
    /// linear layer but the head, saved as their names) and freezes every base parameter.
    public static func attach(to model: any LanguageModel, rank: Int, alpha: Float, dropout: Float,
                              targets: [String]? = nil, seed: UInt64) throws -> LoRAAdapters {
        let adapters = try attach(to: model, defaultTargets: model.defaultLoRATargets, rank: rank, alpha: alpha, dropout: dropout,
                                  targets: targets, seed: seed)
        adapters.taskType = model.peftTaskType
        return adapters
    }

    /// The same for any adaptable module (e.g. an encoder classifier), `defaultTargets` standing for PEFT's defaults.
    public static func attach(to model: any AdaptableModule, defaultTargets: [String], rank: Int, alpha: Float, dropout: Float,
                              targets: [String]? = nil, seed: UInt64) throws -> LoRAAdapters {
        var names = targets ?? defaultTargets
        if names == [allLinear] {
            names = []
            for (path, _) in model.namedLinears where !names.contains(String(path.split(separator: ".").last!)) {
                names.append(String(path.split(separator: ".").last!))
            }
        }
        return try attachLoRA(to: model, rank: rank, alpha: alpha, dropout: dropout, targets: names, seed: seed)
    }

    /// Writes the adapter alone: r·(in + out) values per adapted layer, megabytes where the model is gigabytes.
    public static func save(_ adapters: LoRAAdapters, to directory: URL) throws {
        let layouts = Set(adapters.layers.map(\.linear.isConv1D))
        guard layouts.count <= 1 else {
            throw ModelError.unsupported(path: directory.path, "adapters on layers of both weight layouts (PEFT has one fan_in_fan_out)")
        }
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let config = Config(rank: adapters.rank, alpha: adapters.alpha, dropout: adapters.dropout, targets: adapters.targets,
                            fanInFanOut: layouts.first ?? false, baseModel: adapters.baseModel, taskType: adapters.taskType)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try encoder.encode(config.fields).write(to: directory.appendingPathComponent(configFile), options: .atomic)
        try Safetensors.write(adapters.namedParameters.map { (keyPrefix + $0.name, $0.parameter.value) },
                              metadata: ["format": "pt"], to: directory.appendingPathComponent(weightsFile))
    }

    /// Attaches the adapter saved in `directory` (by PEFT or RLHFKit) to `model`, frozen underneath, with
    /// dropout off (for inference or `merge()`; set `isTraining` to train it further).
    public static func load(from directory: URL, onto model: any AdaptableModule) throws -> LoRAAdapters {
        let config = try Config(directory: directory)
        let weights = try SafetensorsFile(contentsOf: directory.appendingPathComponent(weightsFile))
        // The saved keys name the adapted layers exactly, however target_modules selected them (a full
        // module path is a target matching that one layer).
        let suffix = ".lora_A.weight"
        let paths = weights.names.filter { $0.hasPrefix(keyPrefix) && $0.hasSuffix(suffix) }
            .map { String($0.dropFirst(keyPrefix.count).dropLast(suffix.count)) }
        guard !paths.isEmpty else { throw ModelError.checkpoint(path: directory.path, "no \(keyPrefix)…\(suffix) tensors") }
        let layers = Set(model.namedLinears.map(\.name))
        let foreign = paths.filter { !layers.contains($0) }
        guard foreign.isEmpty else {
            throw ModelError.checkpoint(path: directory.path, "the adapter is for layers this model does not have (another base model?): "
                                        + foreign.prefix(3).joined(separator: ", ") + (foreign.count > 3 ? ", …" : ""))
        }
        let adapters = try attachLoRA(to: model, rank: config.rank, alpha: config.alpha, dropout: config.dropout,
                                      targets: paths, seed: 0)
        if !config.targets.isEmpty { adapters.targets = config.targets }
        (adapters.baseModel, adapters.taskType, adapters.isTraining) = (config.baseModel, config.taskType, false)
        try assign(weights, to: adapters, path: directory.path)
        return adapters
    }

    /// Replaces the values of attached adapters with those saved in `directory` (resuming training).
    public static func loadWeights(into adapters: LoRAAdapters, from directory: URL) throws {
        let url = directory.appendingPathComponent(weightsFile)
        try assign(try SafetensorsFile(contentsOf: url), to: adapters, path: url.path)
    }

    /// The weights saved in `directory` for adapters shaped like `adapters`, in their `namedParameters` order, without
    /// touching them: one user's adapter to run on a shared base (`LoRAAdapters.withRowWeights`).
    public static func weights(from directory: URL, shapedLike adapters: LoRAAdapters) throws -> [Tensor] {
        let url = directory.appendingPathComponent(weightsFile)
        let file = try SafetensorsFile(contentsOf: url)
        try check(file, against: adapters, path: url.path)
        return try adapters.namedParameters.map { try file.tensor(keyPrefix + $0.name) }
    }

    private static func assign(_ weights: SafetensorsFile, to adapters: LoRAAdapters, path: String) throws {
        try check(weights, against: adapters, path: path)
        for (name, parameter) in adapters.namedParameters { try parameter.assign(try weights.tensor(keyPrefix + name)) }
    }

    /// Every adapter tensor must be in the file, with its shape, and nothing else.
    private static func check(_ weights: SafetensorsFile, against adapters: LoRAAdapters, path: String) throws {
        let expected = adapters.namedParameters.map { (key: keyPrefix + $0.name, parameter: $0.parameter) }
        let keys = Set(expected.map(\.key))
        let missing = expected.map(\.key).filter { !weights.contains($0) }
        let unexpected = weights.names.filter { !keys.contains($0) }.sorted()
        guard missing.isEmpty, unexpected.isEmpty else {
            let problems = [missing.isEmpty ? nil : "missing tensors: \(missing.prefix(5).joined(separator: ", "))",
                            unexpected.isEmpty ? nil : "unexpected tensors: \(unexpected.prefix(5).joined(separator: ", "))"]
            throw ModelError.checkpoint(path: path, problems.compactMap { $0 }.joined(separator: "; "))
        }
        for (key, parameter) in expected {
            let shape = try weights.shape(of: key)
            guard shape == parameter.value.shape else {
                throw ModelError.checkpoint(path: path, "tensor \(key) has shape \(shape), the model's layer needs \(parameter.value.shape)")
            }
        }
    }
}

extension PEFTAdapter {
    /// adapter_config.json for LoRA: the fields PEFT 0.x writes that every version reads back.
    struct Config {
        var rank: Int
        var alpha: Float
        var dropout: Float
        var targets: [String]
        var fanInFanOut: Bool
        var baseModel: String
        var taskType: String

        init(rank: Int, alpha: Float, dropout: Float, targets: [String], fanInFanOut: Bool, baseModel: String, taskType: String) {
            (self.rank, self.alpha, self.dropout, self.targets, self.fanInFanOut, self.baseModel, self.taskType) =
                (rank, alpha, dropout, targets, fanInFanOut, baseModel, taskType)
        }

        var fields: [String: JSONValue] {
            [
                "peft_type": .string("LORA"), "task_type": .string(taskType), "r": .number(Double(rank)),
                "lora_alpha": Self.number(alpha), "lora_dropout": Self.number(dropout),
                "target_modules": .array(targets.map(JSONValue.string)), "fan_in_fan_out": .bool(fanInFanOut),
                "bias": .string("none"), "base_model_name_or_path": .string(baseModel), "inference_mode": .bool(true),
                "init_lora_weights": .bool(true), "modules_to_save": .null, "layers_to_transform": .null,
                "layers_pattern": .null, "rank_pattern": .object([:]), "alpha_pattern": .object([:]),
                "use_rslora": .bool(false), "use_dora": .bool(false), "revision": .null,
            ]
        }

        /// A Float as its shortest decimal (0.05, not 0.05000000074505806).
        private static func number(_ value: Float) -> JSONValue { .number(Double("\(value)")!) }

        /// Reads a PEFT LoRA config, refusing the variants whose forward pass differs from plain LoRA.
        init(directory: URL) throws {
            let url = directory.appendingPathComponent(PEFTAdapter.configFile)
            guard let data = try? Data(contentsOf: url) else { throw ModelError.invalidConfig(path: url.path, "cannot read the file") }
            guard case .object(let fields) = try? JSONDecoder().decode(JSONValue.self, from: data) else {
                throw ModelError.invalidConfig(path: url.path, "not a JSON object")
            }
            func number(_ key: String, default value: Double? = nil) throws -> Double {
                if case .number(let n)? = fields[key] { return n }
                guard let value, fields[key] == nil || fields[key] == .null else {
                    throw ModelError.invalidConfig(path: url.path, "\"\(key)\" must be a number")
                }
                return value
            }
            func isSet(_ key: String) -> Bool {
                switch fields[key] {
                case nil, .null?, .bool(false)?, .string("none")?: return false
                case .object(let o)?: return !o.isEmpty
                case .array(let a)?: return !a.isEmpty
                default: return true
                }
            }
            guard fields["peft_type"] == .string("LORA") else {
                throw ModelError.unsupported(path: url.path, "peft_type \(fields["peft_type"].map { "\($0)" } ?? "missing") (only LORA)")
            }
            let unsupported = ["use_dora", "use_rslora", "bias", "modules_to_save", "rank_pattern", "alpha_pattern"].filter(isSet)
            guard unsupported.isEmpty else { throw ModelError.unsupported(path: url.path, unsupported.joined(separator: ", ")) }
            rank = Int(try number("r", default: 8))  // PEFT's defaults
            alpha = Float(try number("lora_alpha", default: 8))
            dropout = Float(try number("lora_dropout", default: 0))
            // A list of names; PEFT's other form, a regex string, leaves the targets to the saved keys.
            targets = []
            if case .array(let names)? = fields["target_modules"] {
                for case .string(let name) in names { targets.append(name) }
            }
            if case .bool(let flag)? = fields["fan_in_fan_out"] { fanInFanOut = flag } else { fanInFanOut = false }
            if case .string(let name)? = fields["base_model_name_or_path"] { baseModel = name } else { baseModel = "" }
            if case .string(let name)? = fields["task_type"] { taskType = name } else { taskType = "CAUSAL_LM" }
        }
    }
}

extension ModelConfig {
    /// PEFT's default LoRA targets for the family: its attention projections.
    public var defaultLoRATargets: [String] {
        switch architecture {
        case .gpt2: return ["c_attn"]
        case .llama: return ["q_proj", "v_proj"]
        }
    }
}
