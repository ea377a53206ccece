import Alignment
import Foundation
import Models
import XCTest

final class EvaluationTests: XCTestCase {
    static let models = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("ModelsTests/Fixtures")

    struct LengthScorer: ResponseScorer {
        func scores(queries: [[Int]], responses: [[Int]]) throws -> [Float] { responses.map { Float($0.first ?? 0) } }
    }

    func testAModelAgainstItselfTiesWithZeroKL() throws {
        let directory = Self.models.appendingPathComponent("tiny-llama")
        let queries = [[1, 5, 6], [1, 7], [1, 8, 9, 10]]
        let result = try Evaluation.run(model: try ModelDirectory.load(directory), baseline: try ModelDirectory.load(directory),
                                        scorer: LengthScorer(), queries: queries, maxNewTokens: 6, stopTokenIDs: [], padID: 2)
        XCTAssertEqual(result.winRate, 0.5)
        XCTAssertEqual(result.klPerToken, 0, accuracy: 1e-6)
        XCTAssertEqual(result.model.meanReward, result.baseline.meanReward)
        XCTAssertEqual(result.model.meanLength, 6)
        XCTAssertEqual(result.prompts, 3)
    }

    func testAPPOTunedModelDiffersFromItsBaseline() throws {
        let directory = Self.models.appendingPathComponent("tiny-gpt2")
        var options = PPOConfig()
        (options.temperature, options.seed) = (1, 0)  // the settings these tests were written for
        (options.maxNewTokens, options.learningRate) = (6, 3e-3)
        let trainer = try PPOTrainer(policy: try ModelDirectory.load(directory), reference: ReferencePolicy(frozen: try ModelDirectory.load(directory)),
                                     critic: try ModelDirectory.rewardModelToTrain(directory, seed: 0), scorer: PPOTrainerTests.LowTokenRule(),
                                     config: options, stopTokenIDs: [], padID: 699)
        let queries = (0..<6).map { [($0 * 37) % 600 + 2, 300] }
        for _ in 0..<8 { _ = try trainer.step(queries: queries) }
        let result = try Evaluation.run(model: trainer.policy, baseline: try ModelDirectory.load(directory),
                                        scorer: PPOTrainerTests.LowTokenRule(), queries: queries, maxNewTokens: 6,
                                        stopTokenIDs: [], padID: 699)
        XCTAssertGreaterThan(result.model.meanReward, result.baseline.meanReward)
        XCTAssertGreaterThan(result.winRate, 0.5)
        XCTAssertGreaterThan(result.klPerToken, 0)
    }
}
