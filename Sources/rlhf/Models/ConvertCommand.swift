import ArgumentParser
import Foundation
import Models
import Tensor

struct ConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "convert",
        abstract: "Re-save a model directory in another dtype or shard size (tokenizer files are copied along).")

    @OptionGroup var model: ModelOptions

    @Option(help: "Output directory.", transform: { URL(fileURLWithPath: $0) })
    var out: URL

    @Option(help: "Weight dtype to write: f32, f16 or bf16.")
    var dtype: WeightDType = .f32

    @Option(help: "Largest shard in MB (bigger models are split with a model.safetensors.index.json).")
    var maxShardMB = 5000

    @Flag(help: "Replace what --out holds when it is a model directory (never --model itself).")
    var overwrite = false

    func run() throws {
        let modelDirectory = try model.directory()
        let claim = try OutputDirectory(out, inputs: [modelDirectory], overwrite: overwrite)
        defer { withExtendedLifetime(claim) {} }
        let loaded = try ModelDirectory.loadLanguageModel(modelDirectory)
        try ModelDirectory.save(loaded, to: out, dtype: dtype.value, maxShardBytes: maxShardMB << 20)
        try ModelDirectory.copyTokenizerFiles(from: modelDirectory, to: out)
        print("wrote \(out.path) (\(loaded.parameterCount) parameters, \(dtype.rawValue))")
    }
}

enum WeightDType: String, ExpressibleByArgument, CaseIterable {
    case f32, f16, bf16

    var value: DType {
        switch self {
        case .f32: return .float32
        case .f16: return .float16
        case .bf16: return .bfloat16
        }
    }
}
