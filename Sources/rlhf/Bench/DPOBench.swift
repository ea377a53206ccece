import Alignment
import ArgumentParser
import Data
import Foundation
import Models
import NN
import Tensor

struct DPOBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dpo",
        abstract: "DPO training throughput on the peer workload (the one ../shared/peers/bench/bench_dpo.py gives TRL).",
        discussion: """
            GPT-2, 4 layers × 256, vocab 8000, random initialisation; 8 pairs per step of a 60-token prompt and two \
            61-token completions (60 + EOS), sigmoid loss, β 0.1, AdamW lr 1e-4 constant, a separate frozen reference \
            model scored in every step (TRL's bench does not precompute it). tokens/s counts the policy's tokens \
            (prompt + chosen and prompt + rejected, 1,936 a step), as the peer counts them; 2 warm-up steps excluded.
            """)

    @OptionGroup var options: PeerBenchOptions

    func run() throws {
        let shape = TrainPreset.peerShape
        let pairs = PeerPairs.pairs(steps: options.steps).map { TokenizedPreference(prompt: $0.prompt, chosen: $0.chosen, rejected: $0.rejected) }
        let config = PeerPairs.config(steps: options.steps)
        let models = PolicyModels(directory: URL(fileURLWithPath: "random"), policy: try GPT2.random(shape), adapters: nil)
        let trainer = try DPOTrainer(models: models, reference: ReferencePolicy(frozen: try GPT2.random(shape)), train: pairs, eval: [],
                                     loss: DPOLoss(), config: config, precompute: false, padID: 0)
        try runPeerTrainingBench("DPO", task: trainer, config: config, steps: options.steps, parameters: models.policy.parameterCount,
                                 examplesPerStep: PeerPairs.pairsPerStep,
                                 tokensPerStep: pairs.prefix(PeerPairs.pairsPerStep).reduce(0) { $0 + $1.tokenCount }, json: options.json)
    }
}
