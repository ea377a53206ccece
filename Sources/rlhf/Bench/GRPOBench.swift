import Alignment
import ArgumentParser
import Data
import Foundation
import Models
import NN
import Tensor
import Tokenizer

struct GRPOBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "grpo",
        abstract: "GRPO step throughput on the peer workload (the one ../shared/peers/bench/bench_grpo.py gives TRL).",
        discussion: """
            GPT-2, 4 layers × 256 with the tokenizer's vocabulary (8000 for the peers' tokenizer-8000), random \
            initialisation; each step samples 4 completions of up to 64 tokens (temperature 1) for each of 2 prompts of \
            64 random tokens, scores them with a random GPT-2 reward model (scalar head), and takes one update (dapo \
            loss, β 0.04 against a frozen reference copy, AdamW lr 1e-4 constant). tokens/s = prompt + completion \
            tokens in the loss batch over the whole step time (sampling and the reference and reward forwards \
            included), as the peer counts them; 2 warm-up steps excluded.
            """)

    @Option(help: "A tokenizer directory (tokenizer.json), e.g. $PEERS/fixtures/tokenizer-8000, the peer's.")
    var tokenizer: String

    @Option(help: "Timed steps (after 2 warm-up steps).")
    var steps = 6

    @Flag(help: "Print one JSON object instead of a line.")
    var json = false

    func run() throws {
        let progress = ProgressLine(enabled: !json)
        let workload = try PeerOnlineWorkload(tokenizer: tokenizer)
        let (tokenizer, shape) = (workload.tokenizer, workload.shape)
        var config = GRPOConfig()
        (config.batchSize, config.numGenerations, config.maxCompletionLength, config.beta) = (8, 4, 64, 0.04)
        (config.learningRate, config.lrSchedule, config.steps) = (1e-4, .constant, steps + 2)
        let promptLength = 64
        let prompts = workload.prompts((steps + 2) * config.batchSize / config.numGenerations, length: promptLength).map { ids in
            let text = tokenizer.decode(ids)
            return GRPOPrompt(text: text, ids: ids, row: ["prompt": text])
        }
        let reward = try workload.scalarModel()
        reward.setTrainable(false)
        let models = PolicyModels(directory: URL(fileURLWithPath: "random"), policy: try GPT2.random(shape), adapters: nil)
        let trainer = try GRPOTrainer(models: models, reference: ReferencePolicy(frozen: try GPT2.random(shape)),
                                      rewardFunctions: [ScorerReward(name: "reward", scorer: reward)], config: config, tokenizer: tokenizer)
        PeakMemory.reset()
        var seconds: [Double] = [], tokens: [Double] = [], lengths: [Double] = []
        let perStep = config.batchSize / config.numGenerations
        for step in 0..<(steps + 2) {
            progress.say("step \(step + 1)/\(steps + 2)")
            let started = DispatchTime.now().uptimeNanoseconds
            let metrics = try trainer.step(step, prompts: Array(prompts[(step * perStep)..<((step + 1) * perStep)]))
            guard step >= 2 else { continue }
            seconds.append(Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9)
            lengths.append(metrics["completions/mean_length"] ?? 0)
            tokens.append(Double(config.batchSize) * (Double(promptLength) + lengths.last!))
        }
        progress.clear()
        let tokensPerSecond = tokens.reduce(0, +) / seconds.reduce(0, +)
        let secondsPerStep = seconds.sorted()[seconds.count / 2]
        let peakMB = Double(PeakMemory.bytes) / 1_048_576
        if json {
            struct Output: Encodable {
                let parameters: Int, completionsPerStep: Int, numGenerations: Int, promptTokens: Int, maxCompletionLength: Int, steps: Int
                let meanCompletionLength: Double, tokensPerSecond: Double, secondsPerStep: Double, peakRssMb: Double, threads: Int
            }
            try printJSON(Output(parameters: models.policy.parameterCount, completionsPerStep: config.batchSize, numGenerations: config.numGenerations,
                                 promptTokens: promptLength, maxCompletionLength: config.maxCompletionLength, steps: steps,
                                 meanCompletionLength: lengths.reduce(0, +) / Double(lengths.count), tokensPerSecond: tokensPerSecond,
                                 secondsPerStep: secondsPerStep, peakRssMb: peakMB, threads: Parallel.coreCount))
        } else {
            print(String(format: "GRPO (peer workload): %.0f tokens/s (%.3f s/step median), peak RSS %.0f MB", tokensPerSecond, secondsPerStep, peakMB))
        }
    }
}
