import Tensor
import XCTest

final class DropoutTests: XCTestCase {
    func testDropsTheRequestedFractionAndRescalesTheRest() throws {
        let x = Tensor.ones([100_001])  // odd: the last element uses half of a generator step
        for p: Float in [0.05, 0.5, 0.9] {
            var generator = SeededGenerator(seed: 1)
            let y = try x.dropout(probability: p, generator: &generator).scalars
            let dropped = Double(y.filter { $0 == 0 }.count) / Double(y.count)
            XCTAssertEqual(dropped, Double(p), accuracy: 0.01, "p \(p)")
            XCTAssertTrue(y.allSatisfy { $0 == 0 || $0 == 1 / (1 - p) }, "survivors scaled by 1/(1 − p)")
        }
    }

    func testMasksFollowTheGenerator() throws {
        let x = Tensor.ones([64])
        func mask(seed: UInt64) throws -> [Float] {
            var generator = SeededGenerator(seed: seed)
            return try x.dropout(probability: 0.5, generator: &generator).scalars
        }
        XCTAssertEqual(try mask(seed: 3), try mask(seed: 3))
        XCTAssertNotEqual(try mask(seed: 3), try mask(seed: 4))
        var generator = SeededGenerator(seed: 3)
        let first = try x.dropout(probability: 0.5, generator: &generator).scalars
        XCTAssertNotEqual(try x.dropout(probability: 0.5, generator: &generator).scalars, first, "the generator advances")
    }

    func testZeroProbabilityIsTheIdentityAndBadProbabilitiesThrow() throws {
        var generator = SeededGenerator(seed: 0)
        let x = SeededInputs(seed: 1).normal([3, 4]).requiringGrad()
        let y = try x.dropout(probability: 0, generator: &generator)
        XCTAssertEqual(y.scalars, x.scalars)
        try y.sum().backward()
        XCTAssertEqual(x.grad?.scalars, [Float](repeating: 1, count: 12))
        for p: Float in [-0.1, 1, .nan] {
            XCTAssertThrowsError(try x.dropout(probability: p, generator: &generator)) { error in
                XCTAssertTrue("\(error)".hasPrefix("dropout: probability"), "\(error)")
            }
        }
    }

    /// Backward applies the forward's mask: the reference multiplies by the mask the same seed gives to ones.
    func testGradient() throws {
        let r = SeededInputs(seed: 2)
        for shape in [[2, 3, 5], [70_001]] {
            var maskGenerator = SeededGenerator(seed: 9)
            let mask = RefTensor(try Tensor.ones(shape).dropout(probability: 0.3, generator: &maskGenerator))
            checkGradients("dropout \(shape)", ["x": r.normal(shape)], mode: .pointwise,
                           engine: { var generator = SeededGenerator(seed: 9); return try $0[0].dropout(probability: 0.3, generator: &generator) },
                           reference: { Ref.mul($0[0], mask) })
        }
    }
}
