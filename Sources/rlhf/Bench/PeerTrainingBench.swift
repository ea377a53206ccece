import Alignment
import ArgumentParser
import Foundation
import Models
import NN
import Tensor
import Tokenizer

/// Times `steps` optimizer steps of `task` after 2 warm-up steps and prints tokens/s (the median step's), s/step and
/// peak RSS, as a line or one JSON object: what `rlhf bench dpo` and `rlhf bench reward` report on the peer workloads.
func runPeerTrainingBench(_ name: String, task: any TrainingTask, config: TrainingConfig, steps: Int, parameters: Int,
                          examplesPerStep: Int, tokensPerStep: Int, json: Bool) throws {
    let progress = ProgressLine(enabled: !json)
    PeakMemory.reset()
    let rates = try timedSteps(GradientDescent(task: task, config: config, totalSteps: steps + 2), steps: steps, progress: progress).rates
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

/// The online-RL peer workloads (`rlhf bench ppo`, `rlhf bench grpo`): the peer GPT-2 with the tokenizer's vocabulary,
/// random prompts that avoid its EOS and padding ids, and a random GPT-2 with a scalar head (seed 1) as TRL's reward
/// and value models.
struct PeerOnlineWorkload {
    let tokenizer: Tokenizer
    let shape: GPT2Config

    init(tokenizer directory: String) throws {
        tokenizer = try Tokenizer(directory: URL(fileURLWithPath: directory))
        var shape = TrainPreset.peerShape
        shape.vocabSize = tokenizer.vocabularySize
        self.shape = shape
    }

    /// `count` prompts of `length` random ids.
    func prompts(_ count: Int, length: Int) -> [[Int]] {
        var random = SeededGenerator(seed: 1)
        return (0..<count).map { _ in
            (0..<length).map { _ in Int.random(in: 0..<shape.vocabSize, using: &random) }
                .map { tokenizer.eosTokenIDs.contains($0) || $0 == tokenizer.paddingID ? $0 + 1 : $0 }
        }
    }

    func scalarModel() throws -> RewardModel {
        RewardModel(backbone: try GPT2.random(shape, seed: 1), score: peerScoreHead(width: shape.nEmbd), positiveLabel: 0, offset: 0,
                    padTokenID: tokenizer.padTokenID)
    }
}

/// A scalar head as transformers initialises GPT2ForSequenceClassification's `score` (N(0, 0.02)).
func peerScoreHead(width: Int) -> Linear {
    var initializer = WeightInitializer.random(seed: 1)
    return Linear(width, 1, bias: false, std: 0.02, initializer: &initializer)
}
