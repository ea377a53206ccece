import Alignment
import Data
import Foundation
import Models
import NN
import Tensor
import Tokenizer
import XCTest

/// SFT that trains LoRA adapters only: the base stays bit-identical, the output is a PEFT adapter, and a
/// resumed run (dropout included) ends where an uninterrupted one does.
final class LoRASFTTests: XCTestCase {
    static let qwen = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("ModelsTests/Fixtures/tiny-qwen2")

    private func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("rlhf-lora-sft-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// A fresh tiny Qwen2 with adapters on every projection, and its SFT task (answer with the named color).
    private func task(_ config: TrainingConfig, evalFraction: Double) throws -> SFTTrainer {
        let tokenizer = try Tokenizer(directory: Self.qwen)
        let colors = ["red", "green", "blue", "black", "white"]
        let demonstrations = (0..<40).map { i in
            Demonstration.completion(prompt: "The \(["sky", "car", "hat", "cup"][i % 4]) is \(colors[i % 5]). Its color?",
                                     completion: " \(colors[i % 5])")
        }
        let prepared = try SFTData.prepare(demonstrations, tokenizer: tokenizer, maxLength: 64, evalFraction: evalFraction,
                                           seed: config.seed, packing: false)
        let model = try ModelDirectory.load(Self.qwen)
        let adapters = try PEFTAdapter.attach(to: model, rank: 8, alpha: 16, dropout: 0.1,
                                              targets: ["q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"],
                                              seed: config.seed)
        return SFTTrainer(model: model, train: prepared.train, eval: prepared.eval, padID: tokenizer.padTokenID!, config: config,
                          tokenizerDirectory: Self.qwen, adapters: adapters)
    }

    func testTrainsOnlyTheAdaptersAndSavesThemInPEFTLayout() throws {
        var config = TrainingConfig(learningRate: 1e-3)
        (config.steps, config.batchSize, config.learningRate, config.schedule) = (40, 8, 1e-2, .constant)
        let trainer = try task(config, evalFraction: 0.2)
        let adapters = try XCTUnwrap(trainer.adapters)
        XCTAssertEqual(trainer.trainableParameters.map(\.name), adapters.namedParameters.map(\.name))
        let base = trainer.model.namedParameters.map(\.parameter.value.scalars)
        let before = try withNoGrad { try trainer.evaluate()["eval_loss"]! }
        let output = try temporaryDirectory()
        try train(trainer, config, output: output, totalSteps: 40, resume: false)
        let after = try withNoGrad { try trainer.evaluate()["eval_loss"]! }
        print("lora sft eval loss \(before) → \(after)")
        XCTAssertLessThan(after, 0.5 * before)
        XCTAssertEqual(trainer.model.namedParameters.map(\.parameter.value.scalars), base, "the base is untouched")

        try trainer.saveModel(to: output)
        let files = Set(try FileManager.default.contentsOfDirectory(atPath: output.path))
        XCTAssertTrue(files.isSuperset(of: [PEFTAdapter.configFile, PEFTAdapter.weightsFile, "tokenizer.json"]))
        XCTAssertFalse(files.contains("model.safetensors"))
        let reloaded = try ModelDirectory.load(Self.qwen)
        _ = try PEFTAdapter.load(from: output, onto: reloaded)
        let ids = [1, 40, 77, 5, 9]
        let context = AttentionContext.training(batch: 1, length: ids.count)
        let expected = try withNoGrad { try (trainer.model as! any CausalLanguageModel).logits(ids, batch: 1, length: ids.count, context: context).scalars }
        XCTAssertEqual(try reloaded.logits(ids, batch: 1, length: ids.count, context: context).scalars, expected)
    }

    func testResumedRunEndsWithTheSameAdapters() throws {
        var config = TrainingConfig(learningRate: 1e-3)
        (config.steps, config.batchSize, config.learningRate, config.saveEvery) = (6, 4, 1e-3, 2)
        let straight = try task(config, evalFraction: 0)
        try train(straight, config, output: try temporaryDirectory(), totalSteps: 6, resume: false)

        let output = try temporaryDirectory()
        let interrupted = try task(config, evalFraction: 0)
        try train(interrupted, config, output: output, totalSteps: 6, resume: false) { event in
            if case .stepEnded(let step, _, _) = event { return step < 3 }  // dies after step 3, checkpoint 2 on disk
            return true
        }
        let checkpoint = output.appendingPathComponent("checkpoint-000002")
        XCTAssertTrue(FileManager.default.fileExists(atPath: checkpoint.appendingPathComponent(PEFTAdapter.weightsFile).path))
        let resumed = try task(config, evalFraction: 0)
        try train(resumed, config, output: output, totalSteps: 6, resume: true)
        for ((name, a), (_, b)) in zip(straight.adapters!.namedParameters, resumed.adapters!.namedParameters) {
            XCTAssertEqual(a.value.scalars, b.value.scalars, name)
        }
    }
}
