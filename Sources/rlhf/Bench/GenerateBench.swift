import Alignment
import ArgumentParser
import Foundation
import Models
import NN
import Tensor

struct GenerateBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Generation tokens/s with and without the KV cache, and batched vs one-by-one prompts.",
        discussion: """
            Greedy decoding of random prompt tokens, never stopping early, so every run makes the same number of tokens. \
            With --batch-size, only batched decoding is measured: that many prompts of --prompt-length tokens, \
            --new-tokens each, one warm-up call, then the median of --rounds calls (the workload bench/peer_generate.py \
            runs on transformers' generate).
            """)

    @Option(help: ArgumentHelp("Model directory or Hub id to measure (default: a randomly initialised --preset model).", valueName: "dir|id"))
    var model: String?

    @Option(help: """
        Random model shape when no --model: small (6 layers, width 512, vocab 8000), gpt2-small, peer (GPT-2 4 × 256, \
        vocab 8000, 512 positions) or qwen2-0.5b (Qwen2-0.5B's layout).
        """)
    var preset: GenerationPreset = .small

    @Option(help: "New tokens for the cache comparison (and per row with --batch-size).")
    var newTokens = 256

    @Option(help: "Measure batched decoding alone: this many rows.")
    var batchSize: Int?

    @Option(help: "Prompt tokens per row with --batch-size.")
    var promptLength = 32

    @Option(help: "Timed calls with --batch-size (the median is reported).")
    var rounds = 3

    @Option(help: "Prompts for the batching comparison.")
    var prompts = 16

    @Option(help: "New tokens per prompt in the batching comparison.")
    var batchNewTokens = 32

    @Flag(help: "Print one JSON object instead of a table.")
    var json = false

    func run() throws {
        let progress = ProgressLine(enabled: !json)
        progress.say("loading model …")
        let model: any CausalLanguageModel
        if let argument = self.model {
            model = try ModelDirectory.load(ModelDirectory.locate(argument))
        } else {
            model = try preset.randomModel()
        }
        let generator = TextGenerator(model: model)
        var random = SeededGenerator(seed: 2)
        let randomPrompt = { (length: Int) in (0..<length).map { _ in Int.random(in: 0..<min(model.vocabularySize, 8000), using: &random) } }
        if let batchSize {
            let prompts = (0..<batchSize).map { _ in randomPrompt(promptLength) }
            progress.say("warm-up …")
            _ = try generator.generate(prompts, options: .init(maxNewTokens: 8, sampling: .greedy))
            var rates: [Double] = []
            for round in 0..<rounds {
                progress.say("\(batchSize) rows × \(newTokens) tokens, call \(round + 1)/\(rounds) …")
                rates.append(try Self.tokensPerSecond(generator, prompts, newTokens: newTokens, useCache: true))
            }
            progress.clear()
            return try reportBatched(rates, parameters: model.parameterCount)
        }

        func tokensPerSecond(_ prompts: [[Int]], newTokens: Int, useCache: Bool) throws -> Double {
            try Self.tokensPerSecond(generator, prompts, newTokens: newTokens, useCache: useCache)
        }

        let prompt = randomPrompt(16)
        progress.say("\(newTokens) tokens with the KV cache …")
        let cached = try tokensPerSecond([prompt], newTokens: newTokens, useCache: true)
        progress.say("\(newTokens) tokens without the cache …")
        let uncached = try tokensPerSecond([prompt], newTokens: newTokens, useCache: false)
        let batch = (0..<prompts).map { randomPrompt(8 + ($0 * 5) % 24) }
        progress.say("\(prompts) prompts in one batch …")
        let batched = try tokensPerSecond(batch, newTokens: batchNewTokens, useCache: true)
        progress.say("\(prompts) prompts one by one …")
        let start = DispatchTime.now().uptimeNanoseconds
        for p in batch { _ = try generator.generate([p], options: .init(maxNewTokens: batchNewTokens, sampling: .greedy)) }
        let sequential = Double(prompts * batchNewTokens) / (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
        progress.clear()

        if json {
            struct Output: Encodable {
                let model: String, parameters: Int, newTokens: Int, cachedTokensPerSecond: Double
                let uncachedTokensPerSecond: Double, cacheSpeedup: Double, prompts: Int, batchNewTokens: Int
                let batchedTokensPerSecond: Double, sequentialTokensPerSecond: Double, batchingSpeedup: Double
                let threads: Int
            }
            try printJSON(Output(model: self.model ?? preset.rawValue, parameters: model.parameterCount,
                                 newTokens: newTokens, cachedTokensPerSecond: cached, uncachedTokensPerSecond: uncached,
                                 cacheSpeedup: cached / uncached, prompts: prompts, batchNewTokens: batchNewTokens,
                                 batchedTokensPerSecond: batched, sequentialTokensPerSecond: sequential,
                                 batchingSpeedup: batched / sequential, threads: Parallel.coreCount))
        } else {
            print(String(format: "%d new tokens: %.1f tokens/s with KV cache, %.1f without (%.1f×)", newTokens, cached, uncached, cached / uncached))
            print(String(format: "%d prompts × %d tokens: %.1f tokens/s batched, %.1f one by one (%.1f×)", prompts,
                         batchNewTokens, batched, sequential, batched / sequential))
        }
    }

    /// Greedy tokens made per second of wall time by one `generate` call on `prompts`.
    private static func tokensPerSecond(_ generator: TextGenerator, _ prompts: [[Int]], newTokens: Int, useCache: Bool) throws -> Double {
        let options = TextGenerator.Options(maxNewTokens: newTokens, sampling: .greedy, useCache: useCache)
        let start = DispatchTime.now().uptimeNanoseconds
        let produced = try generator.generate(prompts, options: options).reduce(0) { $0 + $1.count }
        return Double(produced) / (Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }

    private func reportBatched(_ rates: [Double], parameters: Int) throws {
        let median = rates.sorted()[rates.count / 2]
        let peakMB = Double(PeakMemory.bytes) / 1_048_576
        if json {
            struct Output: Encodable {
                let model: String, parameters: Int, batchSize: Int, promptLength: Int, newTokens: Int
                let tokensPerSecond: Double, tokensPerSecondAll: [Double], peakRssMb: Double, threads: Int
            }
            try printJSON(Output(model: model ?? preset.rawValue, parameters: parameters, batchSize: batchSize ?? 1,
                                 promptLength: promptLength, newTokens: newTokens, tokensPerSecond: median,
                                 tokensPerSecondAll: rates, peakRssMb: peakMB, threads: Parallel.coreCount))
        } else {
            print(String(format: "%d rows × %d new tokens: %.1f tokens/s (median of %d), peak RSS %.0f MB", batchSize ?? 1,
                         newTokens, median, rates.count, peakMB))
        }
    }
}

enum GenerationPreset: String, ExpressibleByArgument {
    case small
    case gpt2Small = "gpt2-small"
    case peer
    case qwen2HalfB = "qwen2-0.5b"

    func randomModel() throws -> any CausalLanguageModel {
        switch self {
        case .small: return try GPT2.random(GPT2Config(layers: 6, heads: 8, width: 512, positions: 1024, vocabularySize: 8000))
        case .gpt2Small: return try GPT2.random(.gpt2Small(positions: 1024))
        case .peer: return try GPT2.random(GPT2Config(layers: 4, heads: 4, width: 256, positions: 512, vocabularySize: 8000))
        case .qwen2HalfB: return try randomQwen2HalfB()
        }
    }
}
