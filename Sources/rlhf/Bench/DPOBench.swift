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

    @Option(help: "Timed optimizer steps (after 2 warm-up steps).")
    var steps = 18

    @Flag(help: "Print one JSON object instead of a line.")
    var json = false

    func run() throws {
        let shape = TrainPreset.peer.shape
        let (batch, prompt, completion) = (8, 60, 60)
        var random = SeededGenerator(seed: 1)
        let tokens = { (count: Int) in (0..<count).map { _ in Int.random(in: 1..<shape.vocabSize, using: &random) } }
        let pairs = (0..<(batch * (steps + 2))).map { _ in
            TokenizedPreference(prompt: tokens(prompt), chosen: tokens(completion) + [0], rejected: tokens(completion) + [0])
        }
        var config = TrainingConfig(learningRate: 1e-4)
        (config.steps, config.batchSize, config.schedule, config.shuffle) = (steps + 2, batch, .constant, false)
        let models = PolicyModels(directory: URL(fileURLWithPath: "random"), policy: try GPT2.random(shape), adapters: nil)
        let trainer = try DPOTrainer(models: models, reference: ReferencePolicy(frozen: try GPT2.random(shape)), train: pairs, eval: [],
                                     loss: DPOLoss(), config: config, precompute: false, padID: 0)
        try runPeerTrainingBench("DPO", task: trainer, config: config, steps: steps, parameters: models.policy.parameterCount,
                                 examplesPerStep: batch, tokensPerStep: pairs.prefix(batch).reduce(0) { $0 + $1.tokenCount }, json: json)
    }
}
