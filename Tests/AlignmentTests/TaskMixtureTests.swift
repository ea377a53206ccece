import Alignment
import Data
import Foundation
import Tensor
import XCTest

/// Several objectives on one set of parameters: the mixture's loss (and so its gradient) is the weighted sum of its
/// members' on the same micro-batch index, and members that train other parameters are refused.
final class TaskMixtureTests: XCTestCase {
    /// (x - target)² on one shared parameter, one example per micro-batch.
    private final class Quadratic: TrainingTask {
        let name: String
        let parameter: Parameter
        let targets: [Float]

        init(_ name: String, _ parameter: Parameter, targets: [Float]) { (self.name, self.parameter, self.targets) = (name, parameter, targets) }

        var trainableParameters: [(name: String, parameter: Parameter)] { [("x", parameter)] }
        var microBatchesPerEpoch: Int { targets.count }

        func loss(microBatch index: Int, shard: Shard) throws -> MicroBatchLoss {
            let difference = try parameter.value - Tensor(shape: [1], scalars: [targets[index % targets.count]])
            return MicroBatchLoss(loss: try (difference * difference).sum(), tokens: 1, metrics: ["target": Double(targets[index % targets.count])])
        }

        func evaluate() throws -> [String: Double] { [:] }
        func saveModel(to directory: URL) throws {}
        func loadModel(from directory: URL) throws {}
    }

    func testWeightedSumOfMembersOnSharedParameters() throws {
        let x = Parameter(try Tensor(shape: [1], scalars: [0.5]))
        let mixture = try TaskMixture([(Quadratic("a", x, targets: [1, 2]), 1), (Quadratic("b", x, targets: [3]), 0.25)])
        XCTAssertEqual(mixture.name, "a+b")
        XCTAssertEqual(mixture.microBatchesPerEpoch, 2)
        let step = try mixture.loss(microBatch: 1)
        let expected: Float = 1.5 * 1.5 + 0.25 * 2.5 * 2.5  // (x - 2)² + ¼(x - 3)² at x = 0.5
        XCTAssertEqual(try step.loss.item, expected, accuracy: 1e-6)
        XCTAssertEqual(step.metrics["a/target"], 2)
        XCTAssertEqual(step.metrics["b/target"], 3)
        try step.loss.backward()
        let gradient: Float = 2 * -1.5 + 0.25 * 2 * -2.5
        XCTAssertEqual(try XCTUnwrap(x.grad).scalars[0], gradient, accuracy: 1e-6)

        let other = Parameter(try Tensor(shape: [1], scalars: [0]))
        XCTAssertThrowsError(try TaskMixture([(Quadratic("a", x, targets: [1]), 1), (Quadratic("c", other, targets: [1]), 1)]))
    }
}
