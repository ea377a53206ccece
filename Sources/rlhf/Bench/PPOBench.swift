import Alignment
import ArgumentParser
import Foundation
import Models
import Tensor
import Tokenizer

struct PPOBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ppo",
        abstract: "PPO iteration throughput on the peer workload (the one ../shared/peers/bench/bench_ppo.py gives TRL 1.12).",
        discussion: """
            GPT-2, 4 layers × 256 with the tokenizer's vocabulary, random initialisation: policy, frozen reference, and a \
            reward model and a separate critic (GPT-2 with a scalar head, seed 1), as TRL's PPOTrainer holds them. Each \
            iteration samples up to 64 tokens (temperature 1, stopping at EOS) for 8 prompts of 64 random tokens, scores \
            them, and runs 4 PPO epochs of one minibatch through policy and critic (KL coefficient 0.05, missing-EOS \
            penalty 1, AdamW lr 1e-4). tokens/s = 4 × (prompt + response tokens of the 8 rows) over the whole iteration \
            (sampling and the reference, critic and reward forwards included), as the peer counts them; 1 warm-up \
            iteration excluded, as the peer's.
            """)

    @Option(help: "A tokenizer directory (tokenizer.json), e.g. $PEERS/fixtures/tokenizer-8000, the peer's.")
    var tokenizer: String

    @Option(help: "Timed iterations (after 1 warm-up iteration).")
    var iterations = 5

    @Option(help: "Where the value estimates come from: separate (a critic model, as TRL's) or shared (a head on the policy).")
    var critic = CriticPlacement.separate

    @Flag(help: "Print one JSON object instead of a line.")
    var json = false

    func run() throws {
        let progress = ProgressLine(enabled: !json)
        let workload = try PeerOnlineWorkload(tokenizer: tokenizer)
        let (tokenizer, shape) = (workload.tokenizer, workload.shape)
        var config = PPOConfig()
        (config.batchSize, config.miniBatches, config.ppoEpochs, config.maxNewTokens) = (8, 1, 4, 64)
        (config.learningRate, config.temperature, config.critic) = (1e-4, 1, critic)
        (config.ppo.klCoefficient, config.ppo.missingEOSPenalty) = (0.05, 1)
        let promptLength = 64
        let queries = workload.prompts((iterations + 1) * config.batchSize, length: promptLength)
        let reward = try workload.scalarModel()
        reward.setTrainable(false)
        let policy = try GPT2.random(shape)
        let valueModel: any Critic = critic == .shared ? ValueHeadModel(sharing: policy, seed: 1) : try workload.scalarModel()
        let trainer = try PPOTrainer(policy: policy, reference: ReferencePolicy(frozen: try GPT2.random(shape)), critic: valueModel,
                                     scorer: reward, config: config, stopTokenIDs: tokenizer.eosTokenIDs, padID: tokenizer.paddingID)
        PeakMemory.reset()
        var seconds: [Double] = [], tokens: [Double] = [], lengths: [Double] = []
        for iteration in 0..<(iterations + 1) {
            progress.say("iteration \(iteration + 1)/\(iterations + 1)")
            let started = DispatchTime.now().uptimeNanoseconds
            let batch = Array(queries[(iteration * config.batchSize)..<((iteration + 1) * config.batchSize)])
            let metrics = try trainer.step(queries: batch)
            guard iteration >= 1 else { continue }
            seconds.append(Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9)
            lengths.append(metrics["val/mean_response_length"] ?? 0)
            tokens.append(Double(config.ppoEpochs * config.batchSize) * (Double(promptLength) + lengths.last!))
        }
        progress.clear()
        let tokensPerSecond = tokens.reduce(0, +) / seconds.reduce(0, +)
        let secondsPerIteration = seconds.sorted()[seconds.count / 2]
        let peakMB = Double(PeakMemory.bytes) / 1_048_576
        if json {
            struct Output: Encodable {
                let parameters: Int, critic: String, rolloutBatch: Int, promptTokens: Int, maxNewTokens: Int, ppoEpochs: Int
                let iterations: Int, meanResponseLength: Double, tokensPerSecond: Double, secondsPerStep: Double
                let peakRssMb: Double, threads: Int
            }
            try printJSON(Output(parameters: policy.parameterCount, critic: critic.rawValue, rolloutBatch: config.batchSize,
                                 promptTokens: promptLength, maxNewTokens: config.maxNewTokens, ppoEpochs: config.ppoEpochs,
                                 iterations: iterations, meanResponseLength: lengths.reduce(0, +) / Double(lengths.count),
                                 tokensPerSecond: tokensPerSecond, secondsPerStep: secondsPerIteration, peakRssMb: peakMB,
                                 threads: Parallel.coreCount))
        } else {
            print(String(format: "PPO (peer workload, %@ critic): %.0f tokens/s (%.3f s/iteration median), peak RSS %.0f MB",
                         critic.rawValue, tokensPerSecond, secondsPerIteration, peakMB))
        }
    }
}
