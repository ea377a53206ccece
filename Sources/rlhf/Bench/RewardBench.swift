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

    @OptionGroup var options: PeerBenchOptions

    func run() throws {
        let shape = TrainPreset.peerShape
        let groups = PeerPairs.pairs(steps: options.steps).map { pair in
            let (chosen, rejected) = (pair.prompt + pair.chosen, pair.prompt + pair.rejected)
            return RewardGroup(sequences: [TokenizedExample(ids: chosen, labels: chosen), TokenizedExample(ids: rejected, labels: rejected)],
                               comparisons: [.init(better: 0, worse: 1, margin: 0)])
        }
        let config = PeerPairs.config(steps: options.steps)
        let model = RewardModel(backbone: try GPT2.random(shape), score: peerScoreHead(width: shape.nEmbd), positiveLabel: 0,
                                offset: 0, padTokenID: nil)
        let trainer = RewardTrainer(model: model, train: groups, eval: [], padID: 0, config: config, tokenizerDirectory: nil)
        let tokensPerStep = groups.prefix(PeerPairs.pairsPerStep).reduce(0) { $0 + $1.sequences.reduce(0) { $0 + $1.ids.count } }
        try runPeerTrainingBench("reward model", task: trainer, config: config, steps: options.steps, parameters: model.parameterCount,
                                 examplesPerStep: PeerPairs.pairsPerStep, tokensPerStep: tokensPerStep, json: options.json)
    }
}
