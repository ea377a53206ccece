import Foundation
import Tensor
import XCTest

/// Seeded random inputs, so every check sees the same values on every run.
final class SeededInputs {
    private var generator: SeededGenerator

    init(seed: UInt64) { generator = SeededGenerator(seed: seed) }

    func normal(_ shape: [Int], std: Float = 1) -> Tensor { Tensor.randn(shape, std: std, using: &generator) }

    func uniform(_ shape: [Int], in range: ClosedRange<Float>) -> Tensor { Tensor.uniform(shape, in: range, using: &generator) }

    /// Magnitudes uniform in `range` with random signs: denominators kept away from zero.
    func signed(_ shape: [Int], magnitude range: ClosedRange<Float>) -> Tensor {
        tensor(shape, (0..<shape.reduce(1, *)).map { _ in
            Float.random(in: range, using: &generator) * (Bool.random(using: &generator) ? 1 : -1)
        })
    }

    /// Normal values moved at least `margin` away from every point in `kinks` (clamp bounds, or the values
    /// the other operand of minimum/maximum takes), so a finite difference never straddles a kink.
    func normal(_ shape: [Int], std: Float = 1, awayFrom kinks: [Float], margin: Float) -> Tensor {
        tensor(shape, normal(shape, std: std).scalars.map { value in
            var v = value
            for k in kinks where Swift.abs(v - k) < margin { v = v < k ? k - margin : k + margin }
            return v
        })
    }

    /// Values drawn from `choices`.
    func choice(_ shape: [Int], from choices: [Float]) -> Tensor {
        tensor(shape, (0..<shape.reduce(1, *)).map { _ in choices.randomElement(using: &generator)! })
    }

    func integers(_ count: Int, in range: Range<Int>) -> [Int] {
        (0..<count).map { _ in Int.random(in: range, using: &generator) }
    }

    private func tensor(_ shape: [Int], _ values: [Float]) -> Tensor {
        // The count always matches the shape here.
        try! Tensor(shape: shape, scalars: values)
    }
}

/// Gradient checking of the engine against the float64 reference.
///
/// loss = Σ op(x)·w for a random projection w. The engine's float32 backward gives ∂loss/∂x; central finite
/// differences of the float64 reference (step `GradCheck.step`) give the numeric gradient. Errors are
/// max|analytic − numeric| / max(max|numeric|, 1e-3), and likewise for the forward values; by default a check
/// passes at ≤ 1e-6 forward and ≤ 1e-5 gradient (float32 rounding measures at most a few 1e-7 on these sizes).
enum GradCheck {
    static let step = 1e-6
    static let floor = 1e-3

    /// How the numeric gradient is taken.
    enum Mode {
        /// One pair of reference evaluations per input element.
        case full
        /// For ops whose output j depends on input j only: all elements differenced at once.
        case pointwise
        /// For inputs too large for `full`: the derivative along a few random directions u, compared with
        /// ⟨analytic, u⟩ relative to Σ|analytic·u|.
        case directional(Int)
    }

    static func relativeError(_ actual: [Double], _ expected: [Double]) -> Double {
        precondition(actual.count == expected.count)
        let scale = Swift.max(expected.map(Swift.abs).max() ?? 0, floor)
        return zip(actual, expected).map { Swift.abs($0 - $1) }.max().map { $0 / scale } ?? 0
    }

    /// The error of `analytic` (∂loss/∂ input i) against central differences of Σ reference(x)·w.
    static func gradientError(_ analytic: [Double], of reference: ([RefTensor]) -> RefTensor, at inputs: [RefTensor],
                              input i: Int, projection w: [Double], mode: Mode, seed: UInt64) -> Double {
        func loss(_ y: RefTensor) -> Double { zip(y.values, w).reduce(0) { $0 + $1.0 * $1.1 } }
        /// The reference at x ± δ, δ_j = `delta(j)` on input i.
        func difference(_ delta: (Int) -> Double) -> (plus: RefTensor, minus: RefTensor) {
            var (plus, minus) = (inputs, inputs)
            for j in inputs[i].values.indices {
                let d = delta(j)
                plus[i].values[j] += d
                minus[i].values[j] -= d
            }
            return (reference(plus), reference(minus))
        }
        switch mode {
        case .full:
            let numeric = inputs[i].values.indices.map { j in
                let (plus, minus) = difference { $0 == j ? step : 0 }
                return (loss(plus) - loss(minus)) / (2 * step)
            }
            return relativeError(analytic, numeric)
        case .pointwise:
            let (plus, minus) = difference { _ in step }
            return relativeError(analytic, w.indices.map { (plus.values[$0] - minus.values[$0]) * w[$0] / (2 * step) })
        case .directional(let count):
            var generator = SeededGenerator(seed: seed)
            return (0..<count).map { _ in
                let u = analytic.indices.map { _ in generator.nextGaussian() }
                let (plus, minus) = difference { step * u[$0] }
                let numeric = (loss(plus) - loss(minus)) / (2 * step)
                let dot = zip(analytic, u).reduce(0) { $0 + $1.0 * $1.1 }
                let scale = Swift.max(zip(analytic, u).reduce(0) { $0 + Swift.abs($1.0 * $1.1) }, floor)
                return Swift.abs(dot - numeric) / scale
            }.max() ?? 0
        }
    }

    /// FNV-1a, so each case's projection is seeded by its name, stably across runs.
    static func seed(_ name: String) -> UInt64 {
        name.utf8.reduce(0xcbf2_9ce4_8422_2325) { ($0 ^ UInt64($1)) &* 0x100_0000_01b3 }
    }

    static func format(_ error: Double) -> String { String(format: "%.1e", error) }
}

extension XCTestCase {
    /// Checks one op: the engine's forward against `reference`, and the engine's gradient for every input
    /// not listed in `constant` against finite differences of `reference`. Prints one line of errors.
    func checkGradients(_ name: String, _ inputs: KeyValuePairs<String, Tensor>, constant: Set<String> = [],
                        mode: GradCheck.Mode = .full, forwardTolerance: Double = 1e-6, gradientTolerance: Double = 1e-5,
                        engine: ([Tensor]) throws -> Tensor, reference: ([RefTensor]) -> RefTensor,
                        file: StaticString = #filePath, line: UInt = #line) {
        let names = inputs.map(\.key), values = inputs.map(\.value)
        let takesGrad = names.map { !constant.contains($0) }
        let leaves = zip(values, takesGrad).map { $1 ? $0.requiringGrad() : $0 }
        let refInputs = values.map(RefTensor.init)
        let expected = reference(refInputs)
        var report = "gradcheck  " + name.padding(toLength: 46, withPad: " ", startingAt: 0)
        defer { print(report) }
        do {
            let output = try engine(leaves)
            guard output.shape == expected.shape else {
                return XCTFail("\(name): engine shape \(output.shape), reference \(expected.shape)", file: file, line: line)
            }
            let forwardError = GradCheck.relativeError(output.scalars.map(Double.init), expected.values)
            report += " forward \(GradCheck.format(forwardError))"
            XCTAssertLessThanOrEqual(forwardError, forwardTolerance, "\(name): forward", file: file, line: line)

            let seed = GradCheck.seed(name)
            var generator = SeededGenerator(seed: seed)
            let projection = Tensor.randn(output.shape, using: &generator)
            try (output * projection).sum().backward()
            let w = projection.scalars.map(Double.init)

            for (i, inputName) in names.enumerated() where takesGrad[i] {
                guard let analytic = leaves[i].grad, analytic.shape == values[i].shape else {
                    XCTFail("\(name): no gradient of shape \(values[i].shape) for \(inputName): \(String(describing: leaves[i].grad))",
                            file: file, line: line)
                    continue
                }
                let error = GradCheck.gradientError(analytic.scalars.map(Double.init), of: reference, at: refInputs, input: i,
                                                    projection: w, mode: mode, seed: seed &+ UInt64(i))
                report += "  ∂\(inputName) \(GradCheck.format(error))"
                XCTAssertLessThanOrEqual(error, gradientTolerance, "\(name): gradient of \(inputName)", file: file, line: line)
            }
            for (i, inputName) in names.enumerated() where values[i].scalars != refInputs[i].values.map(Float.init) {
                XCTFail("\(name): the op wrote into its input \(inputName)", file: file, line: line)
            }
        } catch {
            XCTFail("\(name): \(error)", file: file, line: line)
        }
    }
}
