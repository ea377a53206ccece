import ArgumentParser
import Foundation
import Models
import Tensor

struct EngineBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engine",
        abstract: "sgemm GFLOP/s and forward+backward throughput (tokens/s, MFU) of a GPT-2-shaped stack.",
        discussion: """
            MFU = 6 × parameters × tokens/s ÷ the sgemm GFLOP/s measured in the same run (best single 1024³ call, \
            measured before and after the model steps). tokens/s is the median over the timed steps.
            """
    )

    @Option(help: "Model shape: gpt2-small (12 layers, width 768, 12 heads, vocab 50257) or tiny (2 layers, width 128, 4 heads, vocab 1024).")
    var preset: StackPreset = .gpt2Small

    @Option(help: "Sequences per step.")
    var batchSize = 4

    @Option(help: "Tokens per sequence (default: the preset's: 256 for gpt2-small, 64 for tiny).")
    var sequenceLength: Int?

    @Option(help: "Timed forward+backward steps (after one warm-up step).")
    var steps = 3

    @Flag(help: "Print one JSON object instead of a table.")
    var json = false

    mutating func validate() throws {
        guard batchSize > 0, steps > 0, (sequenceLength ?? 1) > 0 else {
            throw ValidationError("--batch-size, --steps and --sequence-length must be positive")
        }
    }

    func run() throws {
        let progress = ProgressLine(enabled: !json)
        progress.say("sgemm 1024³ …")
        let gflopsBefore = SgemmBenchmark.gflops(size: 1024)
        var shape = preset.shape
        if let sequenceLength { shape.nPositions = sequenceLength }
        progress.say("building \(preset.rawValue) stack …")
        let result = try StackBenchmark(shape: shape, batchSize: batchSize).run(steps: steps) { step in
            progress.say("step \(step)/\(steps + 1)")
        }
        progress.say("sgemm 1024³ again …")
        let gflops = max(gflopsBefore, SgemmBenchmark.gflops(size: 1024))
        progress.clear()
        let mfu = 6 * Double(result.parameters) * result.tokensPerSecond / (gflops * 1e9)
        if json {
            let object: [String: Any] = [
                "gflops": gflops, "mfu": mfu, "tokens_per_second": result.tokensPerSecond,
                "seconds_per_step": result.secondsPerStep, "parameters": result.parameters,
                "tokens_per_step": result.tokensPerStep, "preset": preset.rawValue,
                "layers": shape.nLayer, "width": shape.nEmbd, "heads": shape.nHead, "vocab": shape.vocabSize,
                "sequence_length": shape.nPositions, "batch_size": batchSize, "steps": steps,
                "threads": Parallel.coreCount, "loss": result.loss,
            ]
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            print(String(decoding: data, as: UTF8.self))
        } else {
            print(String(format: "sgemm 1024³:        %8.1f GFLOP/s", gflops))
            print(String(format: "%@ fwd+bwd:  %8.1f tokens/s (%.3f s/step, %d tokens/step, %.1f M params)",
                         preset.rawValue, result.tokensPerSecond, result.secondsPerStep, result.tokensPerStep,
                         Double(result.parameters) / 1e6))
            print(String(format: "MFU:                %8.3f", mfu))
        }
    }
}

enum StackPreset: String, ExpressibleByArgument, CaseIterable {
    case gpt2Small = "gpt2-small"
    case tiny

    /// The model's position table is exactly one training sequence long.
    var shape: GPT2Config {
        switch self {
        case .gpt2Small: return .gpt2Small(positions: 256)
        case .tiny: return GPT2Config(layers: 2, heads: 4, width: 128, positions: 64, vocabularySize: 1024)
        }
    }
}
