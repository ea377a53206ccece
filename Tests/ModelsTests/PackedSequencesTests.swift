import Data
import Foundation
import XCTest
@testable import Models
import NN
import Tensor

/// Packing one prompt's completions behind a single copy of the prompt gives every sequence the reward, and every
/// weight the gradient, it gets unpacked.
final class PackedSequencesTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")

    func testPackedRewardsAndGradientsEqualUnpackedOnes() throws {
        for fixture in ["tiny-gpt2", "tiny-llama", "tiny-qwen2-reward"] {
            let directory = Self.fixtures.appendingPathComponent(fixture)
            let model = try ModelDirectory.rewardModelToTrain(directory, seed: 3)
            let pad = 0
            // A 3-way group sharing 5 tokens, a pair sharing nothing but its first token, a lone sequence, and a
            // completion that is a prefix of its sibling.
            let groups: [[[Int]]] = [[[5, 6, 7, 8, 9, 10, 11], [5, 6, 7, 8, 9, 12], [5, 6, 7, 8, 9, 13, 14, 15, 16]],
                                     [[20, 21, 22], [20, 23]], [[30, 31, 32, 33]], [[40, 41], [40, 41, 42]]]
            let packed = try PackedSequences(groups: groups, padID: pad)
            XCTAssertEqual(packed.rows, 4)
            XCTAssertEqual(packed.length, 5 + 2 + 1 + 4)
            let sequences = groups.flatMap { $0 }
            let batch = Batch(sequences.map { TokenizedExample(ids: $0, labels: $0) }, padID: pad)

            func rewardsAndGradients(_ rewards: () throws -> Tensor) throws -> ([Float], [Float]) {
                model.parameters.forEach { $0.zeroGrad() }
                let values = try rewards()
                try (values * Tensor(shape: values.shape, scalars: (0..<values.count).map { Float($0 + 1) })).sum().backward()
                return (values.scalars, model.parameters.flatMap { $0.value.grad?.scalars ?? [] })
            }
            let (unpacked, unpackedGradients) = try rewardsAndGradients {
                try model.rewards(batch.ids, batch: batch.size, length: batch.length, keyMask: batch.keyMask)
            }
            let (packedRewards, packedGradients) = try rewardsAndGradients { try model.rewards(packed) }
            XCTAssertEqual(packedRewards.count, sequences.count)
            for (a, b) in zip(packedRewards, unpacked) { XCTAssertEqual(a, b, accuracy: 1e-5, fixture) }
            XCTAssertEqual(packedGradients.count, unpackedGradients.count)
            let worst = zip(packedGradients, unpackedGradients).map { abs($0 - $1) }.max() ?? 0
            XCTAssertLessThan(worst, 1e-4, fixture)
            XCTAssertGreaterThan(unpackedGradients.map(abs).max() ?? 0, 1e-3, "the check must see real gradients")
        }
    }
}
