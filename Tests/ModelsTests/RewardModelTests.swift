import Data
import Foundation
import Models
import Tensor
import Tokenizer
import XCTest

final class RewardModelTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    struct Reference: Decodable {
        let input_ids: [[Int]]
        let rewards: [Float]
    }

    private func rewards(_ model: RewardModel, _ rows: [[Int]], padID: Int) throws -> [Float] {
        let batch = Batch(rows.map { TokenizedExample(ids: $0, labels: $0) }, padID: padID)
        return try withNoGrad { try model.rewards(batch.ids, batch: batch.size, length: batch.length, keyMask: batch.keyMask).scalars }
    }

    /// transformers' *ForSequenceClassification rewards on a right-padded batch, within 1e-4.
    func testRewardsMatchTransformers() throws {
        for name in ["tiny-gpt2-reward", "tiny-qwen2-reward"] {
            let directory = Self.fixtures.appendingPathComponent(name)
            let reference = try JSONDecoder().decode(Reference.self, from: Data(contentsOf: directory.appendingPathComponent("reward_reference.json")))
            let model = try ModelDirectory.loadRewardModel(directory)
            let tokenizer = try Tokenizer(directory: directory)
            XCTAssertEqual(model.labelCount, 1)
            let ours = try rewards(model, reference.input_ids, padID: tokenizer.padTokenID!)
            let worst = zip(ours, reference.rewards).map { abs($0 - $1) }.max()!
            print("reward parity \(name): max |Δ reward| \(worst)")
            XCTAssertLessThanOrEqual(worst, 1e-4, name)
        }
    }

    func testSaveLoadRoundTripAndNewHeadOnACausalModel() throws {
        let causal = Self.fixtures.appendingPathComponent("tiny-llama")  // untied: its lm_head is not part of a reward model
        XCTAssertThrowsError(try ModelDirectory.loadRewardModel(causal), "a causal LM is not a reward model") { error in
            XCTAssertTrue("\(error)".contains("no reward head (score.weight)"), "\(error)")
        }
        let model = try ModelDirectory.rewardModelToTrain(causal, seed: 3)
        model.offset = 0.25
        model.padTokenID = 2  // saved as config.json's pad_token_id, which decides where rewards are read
        let rows = [[1, 40, 41, 42, 2], [1, 50, 2]]
        let before = try rewards(model, rows, padID: 2)
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("rlhf-reward-\(UUID().uuidString)")
        try ModelDirectory.save(model, to: directory, padTokenID: 2)
        let reloaded = try ModelDirectory.loadRewardModel(directory)
        XCTAssertEqual(try rewards(reloaded, rows, padID: 2), before)
        let config = try JSONSerialization.jsonObject(with: Data(contentsOf: directory.appendingPathComponent("config.json"))) as! [String: Any]
        XCTAssertEqual(config["architectures"] as? [String], ["LlamaForSequenceClassification"])
        XCTAssertEqual(config["rlhf_reward_offset"] as? Double, 0.25)
        let names = try SafetensorsCheckpoint(directory: directory).names
        XCTAssertTrue(names.contains("score.weight"))
        XCTAssertFalse(names.contains("lm_head.weight"))
    }
}
