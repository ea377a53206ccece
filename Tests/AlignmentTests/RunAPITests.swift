import Alignment
import Data
import Foundation
import Models
import XCTest

/// The pipeline a Swift program runs without the command line: SFT → reward model → PPO → DPO, each a run
/// configuration and its `run`, each result feeding the next, with the events and results a caller sees.
final class RunAPITests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    static let gpt2 = fixtures.deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("ModelsTests/Fixtures/tiny-gpt2")

    func testSFTRewardPPODPOThroughTheRunAPI() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("rlhf-runs-\(UUID().uuidString)")
        let pairs = Self.fixtures.appendingPathComponent("reward-rule/pairs.jsonl").path
        var steps: [String: Int] = [:], messages: [String] = []
        func control(_ name: String) -> RunControl {
            RunControl { event in
                switch event {
                case .stepEnded(let step, _, _): steps[name] = step
                case .message(let text): messages.append(text)
                default: break
                }
                return true
            }
        }

        var sft = SFTConfig()
        (sft.model, sft.dataset.data, sft.out) = (Self.gpt2.path, Self.fixtures.appendingPathComponent("sft-sgd-step/data.jsonl").path, root.appendingPathComponent("sft").path)
        (sft.dataset.evalSplit, sft.training.steps, sft.training.batchSize, sft.training.learningRate) = (0, 4, 2, 1e-3)
        let sftResult = try sft.run(control("sft"))
        XCTAssertEqual(sftResult.steps, 4)
        XCTAssertNotNil(sftResult.metrics["loss"])
        XCTAssertGreaterThan(sftResult.peakMemoryBytes, 0)

        var reward = RewardConfig()
        (reward.model, reward.dataset.data, reward.out) = (sft.out, pairs, root.appendingPathComponent("reward").path)
        (reward.training.steps, reward.training.learningRate, reward.dataset.maxLength) = (20, 2e-3, 64)
        let rewardResult = try reward.run(control("reward"))
        XCTAssertNotNil(rewardResult.metrics["eval_accuracy"])

        let prompts = root.appendingPathComponent("prompts.jsonl")
        try JSONLines.write((0..<6).map { ["prompt": "Can you help me fix the oven \($0)?"] }, to: prompts)
        var ppo = PPOConfig()
        (ppo.policy, ppo.reward, ppo.prompts, ppo.out) = (sft.out, reward.out, prompts.path, root.appendingPathComponent("ppo").path)
        (ppo.iterations, ppo.batchSize, ppo.maxNewTokens, ppo.learningRate) = (3, 3, 6, 1e-3)
        let ppoResult = try ppo.run(control("ppo"))
        XCTAssertEqual(ppoResult.logHistory.count, 3)
        XCTAssertNotNil(ppoResult.metrics["objective/kl"])
        XCTAssertNotNil(ppoResult.metrics["objective/scores"])

        var dpo = DPOConfig()
        (dpo.model, dpo.dataset.data, dpo.out) = (sft.out, pairs, root.appendingPathComponent("dpo").path)
        (dpo.training.steps, dpo.training.learningRate) = (5, 1e-3)
        let dpoResult = try dpo.run(control("dpo"))
        XCTAssertNotNil(dpoResult.metrics["rewards/margins"])

        XCTAssertEqual(steps, ["sft": 4, "reward": 20, "ppo": 3, "dpo": 5])
        XCTAssertTrue(messages.contains { $0.hasPrefix("dpo (sigmoid") }, "\(messages)")
        for run in [sft.out, reward.out, ppo.out, dpo.out] {
            let directory = URL(fileURLWithPath: run)
            XCTAssertTrue(FileManager.default.fileExists(atPath: directory.appendingPathComponent("model.safetensors").path), run)
            XCTAssertTrue(FileManager.default.fileExists(atPath: directory.appendingPathComponent(runConfigFile).path), run)
        }
        // Each output records the configuration it was made with, and loads as a model.
        XCTAssertEqual(try DPOConfig.stored(in: URL(fileURLWithPath: dpo.out)), dpo)
        _ = try ModelDirectory.load(URL(fileURLWithPath: ppo.out))
        XCTAssertEqual(try ModelDirectory.loadRewardModel(URL(fileURLWithPath: reward.out)).labelCount, 1)
    }
}
