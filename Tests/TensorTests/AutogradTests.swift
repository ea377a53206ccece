import Foundation
import Tensor
import XCTest

/// The tape's bookkeeping: accumulation, zeroing, no-grad scopes, detaching, frozen parameters, errors.
final class AutogradTests: XCTestCase {
    func tensor(_ values: [Float]) -> Tensor { try! Tensor(shape: [values.count], scalars: values) }

    func assertAutogradError(_ body: () throws -> Void, mentioning phrase: String,
                             file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertThrowsError(try body(), file: file, line: line) { error in
            guard case TensorError.autograd(let detail)? = error as? TensorError else {
                return XCTFail("expected TensorError.autograd, got \(error)", file: file, line: line)
            }
            XCTAssertTrue(detail.contains(phrase), "\"\(detail)\" should mention \"\(phrase)\"", file: file, line: line)
        }
    }

    func testGradientsAccumulateAcrossBackwardCalls() throws {
        let x = tensor([1, -2, 3]).requiringGrad()
        try (x * x).sum().backward()
        let first = try XCTUnwrap(x.grad)
        XCTAssertEqual(first.scalars, [2, -4, 6])
        try (x * x).sum().backward()
        XCTAssertEqual(x.grad?.scalars, [4, -8, 12])
        XCTAssertEqual(first.scalars, [2, -4, 6], "a gradient read earlier is a value: accumulation must not change it")
    }

    func testZeroGradClearsTheGradient() throws {
        let x = tensor([1, 2]).requiringGrad()
        try (x * 3).sum().backward()
        XCTAssertNotNil(x.grad)
        x.zeroGrad()
        XCTAssertNil(x.grad)
        try (x * 3).sum().backward()
        XCTAssertEqual(x.grad?.scalars, [3, 3], "after zeroGrad the next backward starts from zero")
    }

    func testNoGradScopeRecordsNothing() throws {
        let x = tensor([0.5, 1.5]).requiringGrad()
        let y = try withNoGrad { try (x * x).exp().sum(axis: 0) + x.sum() }
        XCTAssertFalse(y.requiresGrad)
        assertAutogradError({ try y.backward() }, mentioning: "does not require grad")
        XCTAssertNil(x.grad)
        XCTAssertTrue((x * 2).requiresGrad, "recording resumes after the scope")
    }

    func testDetachedTensorsGetNoGradient() throws {
        let x = tensor([1, 2, 3]).requiringGrad()
        let d = x.detached()
        XCTAssertFalse(d.requiresGrad)
        XCTAssertEqual(d.scalars, x.scalars)
        try (x * d).sum().backward()  // ∂/∂x through the recorded path only: d
        XCTAssertEqual(x.grad?.scalars, [1, 2, 3])
        XCTAssertNil(d.grad)
    }

    func testFrozenParameterGetsNoGradient() throws {
        let frozen = Parameter(tensor([2, 3]), trainable: false)
        let trained = Parameter(tensor([5, 7]))
        let toggled = Parameter(tensor([1, 1]))
        toggled.isTrainable = false
        XCTAssertFalse(frozen.isTrainable)
        XCTAssertFalse(toggled.isTrainable)
        XCTAssertTrue(trained.isTrainable)
        try (frozen.value * trained.value * toggled.value).sum().backward()
        XCTAssertNil(frozen.grad)
        XCTAssertNil(toggled.grad)
        XCTAssertEqual(trained.grad?.scalars, [2, 3])

        let optimizer = SGD(parameters: [frozen, trained, toggled], learningRate: 1)
        try optimizer.step()
        XCTAssertEqual(frozen.value.scalars, [2, 3], "the optimizer skips a frozen parameter")
        XCTAssertEqual(trained.value.scalars, [3, 4])

        toggled.isTrainable = true
        try (toggled.value * 4).sum().backward()
        XCTAssertEqual(toggled.grad?.scalars, [4, 4], "unfreezing makes it a leaf again")
    }

    func testBackwardOnNonScalarThrows() {
        let x = tensor([1, 2]).requiringGrad()
        assertAutogradError({ try (x * 2).backward() }, mentioning: "scalar")
    }

    func testSecondBackwardThroughFreedGraphThrows() throws {
        let x = tensor([1, 2]).requiringGrad()
        let loss = try (x * x).sum()
        try loss.backward()
        assertAutogradError({ try loss.backward() }, mentioning: "freed")
        XCTAssertEqual(x.grad?.scalars, [2, 4], "the failed backward adds nothing")
    }

    func testTensorUsedTwiceAccumulatesBothPaths() throws {
        let x = tensor([1, -2, 0.5]).requiringGrad()
        try ((x * x).sum() + (x * 3).sum()).backward()  // 2x + 3
        XCTAssertEqual(x.grad?.scalars, [5, -1, 4])

        // A shared intermediate (diamond): h = tanh(x), loss = Σ h·h + h → ∂ = (2h + 1)(1 − h²).
        let z = tensor([0.3, -0.7]).requiringGrad()
        let h = z.tanh()
        try (h * h + h).sum().backward()
        let expected = z.scalars.map { v -> Float in let t = Foundation.tanh(v); return (2 * t + 1) * (1 - t * t) }
        for (a, e) in zip(try XCTUnwrap(z.grad).scalars, expected) { XCTAssertEqual(a, e, accuracy: 1e-6) }
    }

    func testOnlyLeavesRequiringGradReceiveGradients() throws {
        let a = tensor([1, 2]).requiringGrad()
        let b = tensor([3, 4])
        let loss = try (a * b + b).sum()
        XCTAssertTrue(loss.requiresGrad)
        try loss.backward()
        XCTAssertEqual(a.grad?.scalars, [3, 4])
        XCTAssertNil(b.grad)
        XCTAssertFalse(try (b * b).sum().requiresGrad, "ops on constants record nothing")
    }
}
