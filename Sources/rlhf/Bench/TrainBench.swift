import Alignment
import ArgumentParser
import Data
import Distributed
import Foundation
import Models
import NN
import Tensor

struct TrainBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "SFT training throughput (tokens/s, MFU) and peak memory through the real trainer (AdamW step included).",
        discussion: """
            Random tokens, every position trained on, batches of full sequences. Presets: peer = the workload of \
            ../shared/peers (GPT-2, 4 layers × 256, vocab 8000, batch 8 × 128) that bench/torch_train.py also runs; \
            gpt2-small = 12 layers × 768, vocab 50257, batch 4 × 256; qwen2-0.5b = Qwen2-0.5B's layout, batch 4 × 128 \
            (bench/peer_qwen2_sft.py runs it on TRL). MFU = 6 × parameters × tokens/s ÷ sgemm peak \
            (with --lora-rank the frozen weights still do forward and input-gradient work, but MFU counts all parameters). \
            Under `mpirun -np N` the ranks train data-parallel, each on its share of every batch: tokens/s counts all \
            ranks, MFU divides by N ranks' peak, and the share of step time spent in the all-reduce is printed.
            """)

    @Option(help: "Workload: peer, gpt2-small or qwen2-0.5b.")
    var preset: TrainPreset = .peer

    @Option(help: "Timed optimizer steps (after 2 warm-up steps).")
    var steps = 10

    @OptionGroup var lora: LoRAFlags

    @Flag(help: "Print one JSON object instead of a table.")
    var json = false

    func run() throws {
        let progress = ProgressLine(enabled: !json)
        progress.say("sgemm 1024³ …")
        let gflopsBefore = SgemmBenchmark.gflops(size: 1024)
        let model = try preset.randomModel()
        var random = SeededGenerator(seed: 1)
        let examples = (0..<(preset.batchSize * 4)).map { _ in
            let ids = (0..<preset.sequenceLength).map { _ in Int.random(in: 0..<model.vocabularySize, using: &random) }
            return TokenizedExample(ids: ids, labels: ids)
        }
        var config = TrainingConfig(learningRate: 1e-4)
        (config.steps, config.batchSize, config.schedule) = (steps + 2, preset.batchSize, .constant)
        var loraConfig = LoRAConfig()
        lora.apply(to: &loraConfig)
        let adapters = try loraConfig.attach(to: model, baseModel: "random-\(preset.rawValue)", seed: 0)
        let trainer = SFTTrainer(model: model, train: examples, eval: [], padID: 0, config: config, tokenizerDirectory: nil,
                                 adapters: adapters)
        let communicator = try Launch.communicator()
        defer { communicator.finish() }
        let (rates, allReduce) = try timedSteps(GradientDescent(task: trainer, config: config, totalSteps: steps + 2, communicator: communicator),
                                                steps: steps, progress: progress)
        guard communicator.isLeader else { return }
        progress.say("sgemm 1024³ again …")
        let gflops = max(gflopsBefore, SgemmBenchmark.gflops(size: 1024))
        progress.clear()
        let tokensPerSecond = rates.sorted()[rates.count / 2]
        let mfu = 6 * Double(model.parameterCount) * tokensPerSecond / (gflops * 1e9 * Double(communicator.size))  // each rank's own peak
        let peakMB = Double(PeakMemory.bytes) / 1_048_576
        if json {
            struct Output: Encodable {
                let preset: String, parameters: Int, batchSize: Int, sequenceLength: Int, steps: Int
                let tokensPerSecond: Double, secondsPerStep: Double, gflops: Double, mfu: Double, peakRssMb: Double, threads: Int
                let ranks: Int, allreduceFraction: Double?
            }
            try printJSON(Output(preset: preset.rawValue, parameters: model.parameterCount, batchSize: preset.batchSize,
                                 sequenceLength: preset.sequenceLength, steps: steps, tokensPerSecond: tokensPerSecond,
                                 secondsPerStep: Double(preset.batchSize * preset.sequenceLength) / tokensPerSecond,
                                 gflops: gflops, mfu: mfu, peakRssMb: peakMB, threads: Parallel.coreCount, ranks: communicator.size,
                                 allreduceFraction: allReduce))
        } else {
            print(String(format: "%@ SFT: %.0f tokens/s (%.3f s/step), MFU %.3f of %.0f GFLOP/s, peak RSS %.0f MB (rank 0), %d rank(s) × %d thread(s)",
                         preset.rawValue, tokensPerSecond, Double(preset.batchSize * preset.sequenceLength) / tokensPerSecond,
                         mfu, gflops, peakMB, communicator.size, Parallel.coreCount))
            if let allReduce { print(String(format: "all-reduce: %.1f%% of step time", 100 * allReduce)) }
        }
    }
}

enum TrainPreset: String, ExpressibleByArgument {
    case peer
    case gpt2Small = "gpt2-small"
    case qwen2HalfB = "qwen2-0.5b"

    /// The model of every peer workload in ../shared/peers/bench.
    static let peerShape = GPT2Config(layers: 4, heads: 4, width: 256, positions: 256, vocabularySize: 8000)

    func randomModel() throws -> any CausalLanguageModel {
        switch self {
        case .peer: return try GPT2.random(Self.peerShape)
        case .gpt2Small: return try GPT2.random(.gpt2Small(positions: 256))
        case .qwen2HalfB: return try randomQwen2HalfB()
        }
    }
    var batchSize: Int { self == .peer ? 8 : 4 }
    var sequenceLength: Int { self == .gpt2Small ? 256 : 128 }
}

/// Tokens per second of each of `steps` timed steps, after 2 warm-up steps, and in a data-parallel job the median share
/// of step time spent in the gradient all-reduce.
func timedSteps(_ training: GradientDescent, steps: Int, progress: ProgressLine) throws -> (rates: [Double], allReduce: Double?) {
    let timed = try (0..<(steps + 2)).compactMap { step in
        progress.say("step \(step + 1)/\(steps + 2)")
        let metrics = try training.step(step)
        return step >= 2 ? metrics : nil
    }
    let fractions = timed.compactMap { $0["allreduce_fraction"] }.sorted()
    return (timed.map { $0["tokens_per_second"]! }, fractions.isEmpty ? nil : fractions[fractions.count / 2])
}
