import ArgumentParser
import Foundation
import Models
import NN

struct MergeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Fold a LoRA adapter (PEFT layout) into its base model and save a plain model directory.",
        discussion: """
            Each adapted weight becomes W + B·A·alpha/r. The output loads in transformers like any model and \
            gives the adapted model's logits; tokenizer files are copied from --model.
            """)

    @OptionGroup var model: ModelOptions

    @Option(help: "Adapter directory (adapter_config.json, adapter_model.safetensors).", transform: { URL(fileURLWithPath: $0) })
    var adapter: URL

    @Option(help: "Output directory.", transform: { URL(fileURLWithPath: $0) })
    var out: URL

    @Option(help: "Weight dtype to write: f32, f16 or bf16.")
    var dtype: WeightDType = .f32

    @Flag(help: "Replace what --out holds when it is a model directory (never --model or --adapter).")
    var overwrite = false

    func run() throws {
        let modelDirectory = try model.directory()
        let claim = try OutputDirectory(out, inputs: [modelDirectory, adapter], overwrite: overwrite)
        defer { withExtendedLifetime(claim) {} }
        let base = try ModelDirectory.loadLanguageModel(modelDirectory)
        let adapters = try PEFTAdapter.load(from: adapter, onto: base)
        try adapters.merge()
        try ModelDirectory.save(base, to: out, dtype: dtype.value)
        try ModelDirectory.copyTokenizerFiles(from: modelDirectory, to: out)
        print("merged \(adapters.layers.count) rank-\(adapters.rank) adapters into \(out.path)")
    }
}
