@testable import Alignment
import Data
import Foundation
import Tensor
import XCTest

/// Training that turns to NaN stops at that step with one line, before the weights change, and nothing from that
/// step reaches a checkpoint (issue #19).
final class DivergenceTests: XCTestCase {
    /// Minimises Σw²; its loss becomes NaN from micro-batch `poisonedAt` on.
    final class PoisonedTask: TrainingTask {
        let weight = Parameter(try! Tensor(shape: [3], scalars: [1, -2, 3]))
        let poisonedAt: Int
        init(poisonedAt: Int) { self.poisonedAt = poisonedAt }

        var name: String { "poisoned" }
        var trainableParameters: [(name: String, parameter: Parameter)] { [("w", weight)] }
        var microBatchesPerEpoch: Int { 100 }
        func loss(microBatch index: Int, shard: Shard) throws -> MicroBatchLoss {
            let squares = try (weight.value * weight.value).sum()
            return MicroBatchLoss(loss: index >= poisonedAt ? squares * .nan : squares, tokens: 3)
        }
        func evaluate() throws -> [String: Double] { [:] }
        func saveModel(to directory: URL) throws { try Data(weight.value.scalars.description.utf8).write(to: directory.appendingPathComponent("w.txt")) }
        func loadModel(from directory: URL) throws {}
    }

    func testANaNLossStopsTheRunBeforeTheUpdate() throws {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("rlhf-nan-\(UUID().uuidString)")
        var config = TrainingConfig(learningRate: 0.1)
        (config.batchSize, config.saveEvery, config.shuffle) = (1, 1, false)
        let task = PoisonedTask(poisonedAt: 3)
        var before: [Float] = []
        XCTAssertThrowsError(try train(task, config, output: output, totalSteps: 6) { event in
            if case .stepEnded(step: 3, _, _) = event { before = task.weight.value.scalars }
            return true
        }) { error in
            XCTAssertTrue("\(error)".contains("step 4: the loss is nan"), "\(error)")
        }
        XCTAssertEqual(task.weight.value.scalars, before, "the failing step left the weights alone")
        XCTAssertTrue(task.weight.value.scalars.allSatisfy(\.isFinite))
        let checkpoints = try FileManager.default.contentsOfDirectory(atPath: output.path).filter { $0.hasPrefix("checkpoint-") }.sorted()
        XCTAssertEqual(checkpoints, ["checkpoint-000001", "checkpoint-000002", "checkpoint-000003"], "none from step 4")
    }
}
