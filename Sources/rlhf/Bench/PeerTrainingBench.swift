import Alignment
import ArgumentParser
import Foundation
import Tensor

/// Times `steps` optimizer steps of `task` after 2 warm-up steps and prints tokens/s (the median step's), s/step and
/// peak RSS, as a line or one JSON object: what `rlhf bench dpo` and `rlhf bench reward` report on the peer workloads.
func runPeerTrainingBench(_ name: String, task: any TrainingTask, config: TrainingConfig, steps: Int, parameters: Int,
                          examplesPerStep: Int, tokensPerStep: Int, json: Bool) throws {
    let progress = ProgressLine(enabled: !json)
    PeakMemory.reset()
    let rates = try timedSteps(GradientDescent(task: task, config: config, totalSteps: steps + 2), steps: steps, progress: progress)
    progress.clear()
    let tokensPerSecond = rates.sorted()[rates.count / 2]
    let peakMB = Double(PeakMemory.bytes) / 1_048_576
    if json {
        struct Output: Encodable {
            let parameters: Int, pairsPerStep: Int, tokensPerStep: Int, steps: Int, tokensPerSecond: Double, secondsPerStep: Double
            let peakRssMb: Double, threads: Int
        }
        try printJSON(Output(parameters: parameters, pairsPerStep: examplesPerStep, tokensPerStep: tokensPerStep, steps: steps,
                             tokensPerSecond: tokensPerSecond, secondsPerStep: Double(tokensPerStep) / tokensPerSecond,
                             peakRssMb: peakMB, threads: Parallel.coreCount))
    } else {
        print(String(format: "%@ (peer workload): %.0f tokens/s (%.3f s/step, %d tokens/step), peak RSS %.0f MB",
                     name, tokensPerSecond, Double(tokensPerStep) / tokensPerSecond, tokensPerStep, peakMB))
    }
}

/// The flags of the peer training benchmarks.
struct PeerBenchOptions: ParsableArguments {
    @Option(help: "Timed optimizer steps (after 2 warm-up steps).")
    var steps = 18

    @Flag(help: "Print one JSON object instead of a line.")
    var json = false
}

/// The preference workload of the peers' DPO and reward benchmarks: 8 pairs per step of a 60-token prompt and two
/// 61-token completions (60 random tokens + EOS id 0) over the peer GPT-2's vocabulary, AdamW lr 1e-4 constant.
enum PeerPairs {
    static let (pairsPerStep, promptLength, completionLength) = (8, 60, 60)

    /// Enough pairs for `steps` timed steps and 2 warm-up steps.
    static func pairs(steps: Int) -> [(prompt: [Int], chosen: [Int], rejected: [Int])] {
        var random = SeededGenerator(seed: 1)
        let vocabulary = TrainPreset.peerShape.vocabSize
        let tokens = { (count: Int) in (0..<count).map { _ in Int.random(in: 1..<vocabulary, using: &random) } }
        return (0..<(pairsPerStep * (steps + 2))).map { _ in (tokens(promptLength), tokens(completionLength) + [0], tokens(completionLength) + [0]) }
    }

    static func config(steps: Int) -> TrainingConfig {
        var config = TrainingConfig(learningRate: 1e-4)
        (config.steps, config.batchSize, config.schedule, config.shuffle) = (steps + 2, pairsPerStep, .constant, false)
        return config
    }
}
