import Alignment
import ArgumentParser
import Data
import Foundation
import Models
import NN
import Tensor

struct RewardBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "reward",
        abstract: "Reward-model training throughput on the peer workload (the one ../shared/peers/bench/bench_reward.py gives TRL).",
        discussion: """
            GPT-2, 4 layers × 256, vocab 8000, with a scalar score head, random initialisation; 8 pairs per step of a \
            60-token prompt with two 61-token completions (60 + EOS), Bradley-Terry loss, AdamW lr 1e-4 constant. \
            tokens/s counts chosen and rejected sequences' tokens (1,936 a step), as the peer counts them; 2 warm-up \
            steps excluded.
            """)

    @Option(help: "Timed optimizer steps (after 2 warm-up steps).")
    var steps = 18

    @Flag(help: "Print one JSON object instead of a line.")
    var json = false

    func run() throws {
        let shape = TrainPreset.peer.shape
        let (batch, prompt, completion) = (8, 60, 60)
        var random = SeededGenerator(seed: 1)
        let tokens = { (count: Int) in (0..<count).map { _ in Int.random(in: 1..<shape.vocabSize, using: &random) } }
        let groups = (0..<(batch * (steps + 2))).map { _ in
            let context = tokens(prompt)
            let (chosen, rejected) = (context + tokens(completion) + [0], context + tokens(completion) + [0])
            return RewardGroup(sequences: [TokenizedExample(ids: chosen, labels: chosen), TokenizedExample(ids: rejected, labels: rejected)],
                               comparisons: [.init(better: 0, worse: 1, margin: 0)])
        }
        var config = TrainingConfig(learningRate: 1e-4)
        (config.steps, config.batchSize, config.schedule, config.shuffle) = (steps + 2, batch, .constant, false)
        let model = RewardModel(backbone: try GPT2.random(shape), score: try GRPOBench.scoreHead(width: shape.nEmbd), positiveLabel: 0,
                                offset: 0, padTokenID: nil)
        let trainer = RewardTrainer(model: model, train: groups, eval: [], padID: 0, config: config, tokenizerDirectory: nil)
        try runPeerTrainingBench("reward model", task: trainer, config: config, steps: steps, parameters: model.parameterCount,
                                 examplesPerStep: batch, tokensPerStep: groups.prefix(batch).reduce(0) { $0 + $1.sequences.reduce(0) { $0 + $1.ids.count } },
                                 json: json)
    }
}
