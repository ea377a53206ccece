import Alignment
import Data
import Foundation
import Models
import NN
import Tensor
import Tokenizer
import XCTest

final class SFTTests: XCTestCase {
    static let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    static let qwen = here.deletingLastPathComponent().appendingPathComponent("ModelsTests/Fixtures/tiny-qwen2")

    private func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("rlhf-sft-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// A small task a tiny model can learn: answer with the color named in the prompt.
    private func demonstrations(_ count: Int) -> [Demonstration] {
        let colors = ["red", "green", "blue", "black", "white"]
        return (0..<count).map { i in
            let color = colors[i % colors.count]
            return .completion(prompt: "The \(["sky", "car", "hat", "cup"][i % 4]) is \(color). Its color?", completion: " \(color)")
        }
    }

    private func trainer(_ model: any CausalLanguageModel, _ tokenizer: Tokenizer, _ config: TrainingConfig,
                         evalFraction: Double = 0.2) throws -> SFTTrainer {
        let prepared = try SFTData.prepare(demonstrations(40), tokenizer: tokenizer, maxLength: 64, evalFraction: evalFraction,
                                           seed: config.seed, packing: false)
        return SFTTrainer(model: model, train: prepared.train, eval: prepared.eval, padID: tokenizer.padTokenID!,
                          config: config, tokenizerDirectory: Self.qwen)
    }

    func testSFTLowersHeldOutLoss() throws {
        var config = TrainingConfig(learningRate: 1e-3)
        (config.steps, config.batchSize, config.learningRate, config.schedule) = (40, 8, 3e-3, .constant)
        let task = try trainer(try ModelDirectory.load(Self.qwen), try Tokenizer(directory: Self.qwen), config)
        let before = try withNoGrad { try task.evaluate()["eval_loss"]! }
        let output = try temporaryDirectory()
        try train(task, config, output: output, totalSteps: 40, resume: false)
        let after = try withNoGrad { try task.evaluate()["eval_loss"]! }
        print("sft eval loss \(before) → \(after)")
        XCTAssertLessThan(after, 0.5 * before)
        let logged = try String(contentsOf: output.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
        XCTAssertEqual(logged.split(separator: "\n").filter { $0.contains("\"loss\"") }.count, 40)
        XCTAssertTrue(logged.contains("eval_loss"))
    }

    /// Stopping after a checkpoint and resuming (fresh model object, optimizer restored) ends with exactly
    /// the weights of an uninterrupted run.
    func testResumedRunEndsWithTheSameWeights() throws {
        var config = TrainingConfig(learningRate: 1e-3)
        (config.steps, config.batchSize, config.learningRate, config.saveEvery) = (6, 4, 1e-3, 2)
        config.warmupSteps = 2
        let tokenizer = try Tokenizer(directory: Self.qwen)

        let straight = try trainer(try ModelDirectory.load(Self.qwen), tokenizer, config, evalFraction: 0)
        try train(straight, config, output: try temporaryDirectory(), totalSteps: 6, resume: false)

        let output = try temporaryDirectory()
        let interrupted = try trainer(try ModelDirectory.load(Self.qwen), tokenizer, config, evalFraction: 0)
        let stoppedAt = try train(interrupted, config, output: output, totalSteps: 6, resume: false) { event in
            if case .stepEnded(let step, _, _) = event { return step < 3 }  // dies after step 3, checkpoint 2 on disk
            return true
        }
        XCTAssertEqual(stoppedAt, 3)
        let resumed = try trainer(try ModelDirectory.load(Self.qwen), tokenizer, config, evalFraction: 0)
        var resumedFrom = -1
        try train(resumed, config, output: output, totalSteps: 6, resume: true) { event in
            if case .started(let step, _) = event { resumedFrom = step }
            return true
        }
        XCTAssertEqual(resumedFrom, 2)
        for ((name, a), (_, b)) in zip(straight.model.namedParameters, resumed.model.namedParameters) {
            XCTAssertEqual(a.value.scalars, b.value.scalars, name)
        }
        let steps = try String(contentsOf: output.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
            .split(separator: "\n").filter { $0.contains("\"loss\"") }.count
        XCTAssertEqual(steps, 6, "metrics.jsonl holds each step once")
    }

    /// One SGD step equals PyTorch's (scripts/fixtures/make_sft_fixture.py) within 1e-4.
    func testOneSGDStepMatchesPyTorch() throws {
        let fixture = Self.here.appendingPathComponent("Fixtures/sft-sgd-step")
        var config = TrainingConfig(learningRate: 1e-3)
        (config.steps, config.batchSize, config.learningRate, config.optimizer) = (1, 8, 0.1, .sgd)
        (config.schedule, config.maxGradNorm, config.shuffle) = (.constant, 0, false)
        let tokenizer = try Tokenizer(directory: Self.qwen)
        let prepared = try SFTData.prepare(try Demonstration.load(fixture.appendingPathComponent("data.jsonl")), tokenizer: tokenizer,
                                           maxLength: 1024, evalFraction: 0, seed: 0, packing: false)
        let model = try ModelDirectory.load(Self.qwen)
        let task = SFTTrainer(model: model, train: prepared.train, eval: [], padID: tokenizer.padTokenID!, config: config,
                              tokenizerDirectory: nil)
        try train(task, config, output: try temporaryDirectory(), totalSteps: 1, resume: false)
        let expected = try SafetensorsFile(contentsOf: fixture.appendingPathComponent("expected.safetensors"))
        var worst: Float = 0
        for (name, parameter) in model.namedParameters {
            let reference = try expected.tensor(name).scalars
            worst = max(worst, zip(parameter.value.scalars, reference).map { abs($0 - $1) }.max()!)
        }
        print("sft one SGD step vs PyTorch: max |Δ weight| \(worst)")
        XCTAssertLessThanOrEqual(worst, 1e-4)
    }
}

/// Sequence-to-sequence SFT: T5 v1.1 reads each prompt as its input and learns the completion (+ </s>) as its
/// target, as transformers' T5 loss does.
extension SFTTests {
    func testOneT5SGDStepMatchesPyTorch() throws {
        let fixture = SFTTests.here.appendingPathComponent("Fixtures/t5-sft-sgd-step")
        let directory = SFTTests.here.deletingLastPathComponent().appendingPathComponent("ModelsTests/Fixtures/tiny-t5-v1_1")
        var config = TrainingConfig(learningRate: 1e-3)
        (config.steps, config.batchSize, config.learningRate, config.optimizer) = (1, 8, 0.1, .sgd)
        (config.schedule, config.maxGradNorm, config.shuffle) = (.constant, 0, false)
        let tokenizer = try Tokenizer(directory: directory)
        let prepared = try SFTData.prepare(try Demonstration.load(fixture.appendingPathComponent("data.jsonl")), tokenizer: tokenizer,
                                           maxLength: 1024, evalFraction: 0, seed: 0, packing: false)
        let model = try ModelDirectory.loadLanguageModel(directory)
        let task = SFTTrainer(model: model, train: prepared.train, eval: [], padID: tokenizer.paddingID, config: config, tokenizerDirectory: nil)
        let meta = try JSONSerialization.jsonObject(with: Data(contentsOf: fixture.appendingPathComponent("meta.json"))) as! [String: Any]
        XCTAssertEqual(try task.loss(microBatch: 0).loss.item, (meta["loss"] as! NSNumber).floatValue, accuracy: 1e-5)
        try train(task, config, output: try temporaryDirectory(), totalSteps: 1, resume: false)
        let expected = try SafetensorsFile(contentsOf: fixture.appendingPathComponent("expected.safetensors"))
        var worst: Float = 0
        for (name, parameter) in model.namedParameters {
            worst = max(worst, zip(parameter.value.scalars, try expected.tensor(name).scalars).map { abs($0 - $1) }.max()!)
        }
        print("T5 SFT one SGD step vs PyTorch: max |Δ weight| \(worst)")
        XCTAssertLessThanOrEqual(worst, 1e-5)
    }
}
