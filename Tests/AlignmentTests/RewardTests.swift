import Alignment
import Data
import Foundation
import Models
import NN
import Tensor
import Tokenizer
import XCTest

final class RewardTests: XCTestCase {
    static let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    static let models = here.deletingLastPathComponent().appendingPathComponent("ModelsTests/Fixtures")

    private func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("rlhf-reward-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// One SGD step of the pairwise loss writes PyTorch's weights within 1e-4 (scripts/fixtures/make_reward_fixtures.py).
    func testOneSGDStepMatchesPyTorch() throws {
        let (_, worst) = try sgdStep(fixture: "reward-sgd-step")
        print("reward one SGD step vs PyTorch: max |Δ weight| \(worst)")
        XCTAssertLessThanOrEqual(worst, 1e-4)
    }

    /// One plain SGD step (lr 0.1) of the tiny Qwen2 reward model on a fixture's pairs: the step's loss, and the largest
    /// difference between the weights and PyTorch's after its step.
    private func sgdStep(fixture name: String) throws -> (loss: Double?, worst: Float) {
        let fixture = Self.here.appendingPathComponent("Fixtures/\(name)")
        let directory = Self.models.appendingPathComponent("tiny-qwen2-reward")
        let tokenizer = try Tokenizer(directory: directory)
        let model = try ModelDirectory.loadRewardModel(directory)
        let groups = try RewardGroup.groups(try PreferencePair.load(fixture.appendingPathComponent("pairs.jsonl")), tokenizer: tokenizer,
                                            maxLength: 512)
        var config = TrainingConfig(learningRate: 0.1)
        (config.steps, config.batchSize, config.optimizer, config.schedule, config.maxGradNorm, config.shuffle) = (1, 8, .sgd, .constant, 0, false)
        let trainer = RewardTrainer(model: model, train: groups, eval: [], padID: tokenizer.padTokenID!, config: config, tokenizerDirectory: nil)
        var loss: Double?
        try train(trainer, config, output: try temporaryDirectory(), totalSteps: 1) { event in
            if case .stepEnded(_, _, let metrics) = event { loss = metrics["loss"] }
            return true
        }
        let expected = try SafetensorsFile(contentsOf: fixture.appendingPathComponent("expected.safetensors"))
        var worst: Float = 0
        for (name, parameter) in model.namedParameters {
            worst = max(worst, zip(parameter.value.scalars, try expected.tensor(name).scalars).map { abs($0 - $1) }.max()!)
        }
        return (loss, worst)
    }

    /// Soft labels (an AI labeler's probabilities): one SGD step of binary cross-entropy on σ(r_chosen − r_rejected −
    /// margin) against each pair's `preference` gives PyTorch's loss within 1e-5 and its weights within 1e-5
    /// (scripts/fixtures/make_reward_fixtures.py --only soft).
    func testSoftLabelsMatchAPyTorchStep() throws {
        let fixture = Self.here.appendingPathComponent("Fixtures/reward-soft-step")
        XCTAssertEqual(try PreferencePair.load(fixture.appendingPathComponent("pairs.jsonl")).map(\.preference), [0.9, 0.6, 1.0, 0.5])
        let (loss, worst) = try sgdStep(fixture: "reward-soft-step")
        let meta = try JSONSerialization.jsonObject(with: Data(contentsOf: fixture.appendingPathComponent("meta.json"))) as! [String: Any]
        XCTAssertEqual(try XCTUnwrap(loss), meta["loss"] as! Double, accuracy: 1e-5)
        print("soft-label reward step vs PyTorch: loss \(loss!), max |Δ weight| \(worst)")
        XCTAssertLessThanOrEqual(worst, 1e-5)
    }

    /// Pairs whose chosen reply is always the polite one: a tiny model learns the rule it never sees, and the
    /// normalized, saved model scores as the trained one did.
    func testLearnsAHiddenRuleAndNormalizes() throws {
        let base = Self.models.appendingPathComponent("tiny-gpt2")
        let tokenizer = try Tokenizer(directory: base)
        let model = try ModelDirectory.rewardModelToTrain(base, seed: 0)
        model.padTokenID = tokenizer.padTokenID
        let groups = try RewardGroup.groups(try PreferencePair.load(Self.here.appendingPathComponent("Fixtures/reward-rule/pairs.jsonl")),
                                            tokenizer: tokenizer, maxLength: 64)
        var config = TrainingConfig(learningRate: 1e-3)
        (config.steps, config.batchSize, config.learningRate, config.schedule) = (60, 8, 2e-3, .constant)
        let (trainGroups, eval) = heldOut(groups, fraction: 0.25, seed: 1)
        let trainer = RewardTrainer(model: model, train: trainGroups, eval: eval, padID: tokenizer.padTokenID!, config: config,
                                    tokenizerDirectory: base)
        let output = try temporaryDirectory()
        try train(trainer, config, output: output, totalSteps: 60, resume: false)
        let accuracy = try withNoGrad { try trainer.evaluate()["eval_accuracy"]! }
        print("reward held-out accuracy on the hidden rule: \(accuracy) over \(eval.count) prompts")
        XCTAssertGreaterThanOrEqual(accuracy, 0.9)

        try withNoGrad { try trainer.normalizeRewards() }
        let batch = Batch(trainGroups.flatMap(\.sequences), padID: tokenizer.padTokenID!)
        let rewards = try withNoGrad { try model.rewards(batch.ids, batch: batch.size, length: batch.length, keyMask: batch.keyMask).scalars }
        let mean = rewards.reduce(0, +) / Float(rewards.count)
        let std = (rewards.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Float(rewards.count)).squareRoot()
        XCTAssertEqual(mean, 0, accuracy: 1e-4)
        XCTAssertEqual(std, 1, accuracy: 1e-4)
        XCTAssertEqual(try withNoGrad { try trainer.evaluate()["eval_accuracy"]! }, accuracy, "normalization keeps the order")

        try trainer.saveModel(to: output)
        let reloaded = try ModelDirectory.loadRewardModel(output)
        let again = try withNoGrad { try reloaded.rewards(batch.ids, batch: batch.size, length: batch.length, keyMask: batch.keyMask).scalars }
        XCTAssertEqual(zip(again, rewards).map { abs($0 - $1) }.max()!, 0, accuracy: 1e-5)
    }

    func testClassifierObjectiveLearnsLabels() throws {
        let base = Self.models.appendingPathComponent("tiny-gpt2")
        let tokenizer = try Tokenizer(directory: base)
        let pairs = try PreferencePair.load(Self.here.appendingPathComponent("Fixtures/reward-rule/pairs.jsonl"))
        let labelled = pairs.flatMap { [LabeledCompletion(prompt: $0.prompt, completion: $0.chosen, label: true),
                                        LabeledCompletion(prompt: $0.prompt, completion: $0.rejected, label: false)] }
        let (trainGroups, eval) = heldOut(try RewardGroup.groups(labelled, tokenizer: tokenizer, maxLength: 64), fraction: 0.25, seed: 2)
        var config = TrainingConfig(learningRate: 1e-3)
        (config.steps, config.batchSize, config.learningRate, config.schedule) = (60, 16, 2e-3, .constant)
        let model = try ModelDirectory.rewardModelToTrain(base, seed: 0)
        model.padTokenID = tokenizer.padTokenID
        let trainer = RewardTrainer(model: model, train: trainGroups, eval: eval, padID: tokenizer.padTokenID!, config: config,
                                    tokenizerDirectory: nil)
        try train(trainer, config, output: try temporaryDirectory(), totalSteps: 60, resume: false)
        let accuracy = try withNoGrad { try trainer.evaluate()["eval_accuracy"]! }
        print("classifier held-out accuracy: \(accuracy)")
        XCTAssertGreaterThanOrEqual(accuracy, 0.9)
    }

    /// LoRA on the backbone: only adapters and the head change, and the rule is still learnt.
    func testLoRARewardTrainingLeavesTheBackboneAndLearns() throws {
        let base = Self.models.appendingPathComponent("tiny-qwen2")
        let tokenizer = try Tokenizer(directory: base)
        let model = try ModelDirectory.rewardModelToTrain(base, seed: 0)
        model.padTokenID = tokenizer.padTokenID
        let backboneBefore = model.backbone.namedParameters.map { $0.parameter.value.scalars }
        let adapters = try PEFTAdapter.attach(to: model.backbone, rank: 8, alpha: 16, dropout: 0, targets: ["q_proj", "v_proj", "o_proj"], seed: 0)
        let groups = try RewardGroup.groups(try PreferencePair.load(Self.here.appendingPathComponent("Fixtures/reward-rule/pairs.jsonl")),
                                            tokenizer: tokenizer, maxLength: 64)
        let (trainGroups, eval) = heldOut(groups, fraction: 0.25, seed: 1)
        var config = TrainingConfig(learningRate: 1e-3)
        (config.steps, config.batchSize, config.learningRate, config.schedule) = (40, 8, 5e-3, .constant)
        let trainer = RewardTrainer(model: model, train: trainGroups, eval: eval, padID: tokenizer.padTokenID!, config: config,
                                    tokenizerDirectory: nil, adapters: adapters)
        XCTAssertEqual(Set(trainer.trainableParameters.map(\.name)).contains("score.weight"), true)
        try train(trainer, config, output: try temporaryDirectory(), totalSteps: 40, resume: false)
        XCTAssertEqual(model.backbone.namedParameters.map { $0.parameter.value.scalars }, backboneBefore)
        let accuracy = try withNoGrad { try trainer.evaluate()["eval_accuracy"]! }
        print("LoRA reward held-out accuracy: \(accuracy)")
        XCTAssertGreaterThanOrEqual(accuracy, 0.9)
        let adapted = try withNoGrad { try trainer.evaluate()["eval_loss"]! }
        try trainer.mergeAdapters()
        XCTAssertEqual(try withNoGrad { try trainer.evaluate()["eval_loss"]! }, adapted, accuracy: 1e-4, "merging keeps the rewards")
    }
}
