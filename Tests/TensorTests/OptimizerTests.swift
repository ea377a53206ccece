import Foundation
import Tensor
import XCTest

/// AdamW, SGD, gradient clipping and LR schedules step for step against torch and transformers
/// (fixture written by scripts/make_optimizer_fixtures.py).
final class OptimizerTests: XCTestCase {
    struct Fixture: Decodable {
        struct OptimizerRun: Decodable {
            let lr: Float
            let beta1: Float?, beta2: Float?, eps: Float?
            let momentum: Float?
            let weightDecay: Float
            let steps: [[String: [Float]]]
            /// Per-step gradients when they differ from the fixture's shared ones (a missing name: no gradient).
            let gradients: [[String: [Float]]]?
        }
        struct Clip: Decodable {
            let maxNorm: Float
            let gradients: [String: [Float]]
            let totalNorm: Float
            let clipped: [String: [Float]]
        }
        struct Schedule: Decodable {
            let kind: String
            let warmup: Int, total: Int
            let multipliers: [Float]
        }
        let shapes: [String: [Int]]
        let initial: [String: [Float]]
        let gradients: [[String: [Float]]]
        let adamw: OptimizerRun
        let adamwLateStart: OptimizerRun
        let sgd: OptimizerRun
        let sgdPlain: OptimizerRun
        let clip: [Clip]
        let schedules: [Schedule]
    }

    static let tolerance: Float = 1e-6
    let names = ["weight", "bias"]

    func loadFixture() throws -> Fixture {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("Fixtures/optim/optimizers.json")
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try decoder.decode(Fixture.self, from: Data(contentsOf: url))
    }

    /// "weight" decays, "bias" does not (torch: a param group with weight_decay 0).
    func makeParameters(_ fixture: Fixture) throws -> [String: Parameter] {
        try Dictionary(uniqueKeysWithValues: names.map { name in
            (name, Parameter(try Tensor(shape: fixture.shapes[name]!, scalars: fixture.initial[name]!),
                             appliesWeightDecay: name == "weight"))
        })
    }

    /// Leaves exactly `gradients[name]` in each parameter's grad (∂(Σ p·g)/∂p = g), or none where it is missing.
    func setGradients(_ parameters: [String: Parameter], _ gradients: [String: [Float]]) throws {
        for (name, p) in parameters {
            p.zeroGrad()
            guard let g = gradients[name] else { continue }
            try (p.value * Tensor(shape: p.value.shape, scalars: g)).sum().backward()
        }
    }

    func assertClose(_ actual: [Float], _ expected: [Float], _ message: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.count, expected.count, message, file: file, line: line)
        let worst = zip(actual, expected).map { Swift.abs($0 - $1) / Swift.max(1, Swift.abs($1)) }.max() ?? 0
        XCTAssertLessThanOrEqual(worst, Self.tolerance, "\(message): \(actual) vs torch \(expected)", file: file, line: line)
    }

    func runSteps(_ fixture: Fixture, _ run: Fixture.OptimizerRun, label: String,
                  makeOptimizer: ([Parameter]) -> Optimizer) throws {
        let parameters = try makeParameters(fixture)
        let optimizer = makeOptimizer(names.map { parameters[$0]! })
        for (step, (gradients, expected)) in zip(run.gradients ?? fixture.gradients, run.steps).enumerated() {
            try setGradients(parameters, gradients)
            try optimizer.step()
            for name in names {
                assertClose(parameters[name]!.value.scalars, expected[name]!, "\(label) step \(step + 1) \(name)")
            }
        }
        XCTAssertEqual(run.steps.count, 3)
    }

    private func adamW(_ parameters: [Parameter], _ run: Fixture.OptimizerRun) -> AdamW {
        AdamW(parameters: parameters, learningRate: run.lr, beta1: run.beta1!, beta2: run.beta2!, epsilon: run.eps!,
              weightDecay: run.weightDecay)
    }

    func testAdamWMatchesTorch() throws {
        let fixture = try loadFixture()
        let run = fixture.adamw
        try runSteps(fixture, run, label: "AdamW") { adamW($0, run) }
    }

    /// torch counts steps per parameter: one whose first gradient comes at step 2 gets step-1 bias correction.
    func testAdamWCountsStepsPerParameterLikeTorch() throws {
        let fixture = try loadFixture()
        let run = fixture.adamwLateStart
        try runSteps(fixture, run, label: "AdamW, bias from step 2") { adamW($0, run) }
    }

    func testSGDWithMomentumMatchesTorch() throws {
        let fixture = try loadFixture()
        let run = fixture.sgd
        try runSteps(fixture, run, label: "SGD momentum") {
            SGD(parameters: $0, learningRate: run.lr, momentum: run.momentum!, weightDecay: run.weightDecay)
        }
    }

    func testSGDWithoutMomentumMatchesTorch() throws {
        let fixture = try loadFixture()
        let run = fixture.sgdPlain
        try runSteps(fixture, run, label: "SGD") {
            SGD(parameters: $0, learningRate: run.lr, momentum: run.momentum!, weightDecay: run.weightDecay)
        }
    }

    func testParametersWithoutGradientsAreSkipped() throws {
        let fixture = try loadFixture()
        let parameters = try makeParameters(fixture)
        let optimizer = AdamW(parameters: names.map { parameters[$0]! }, learningRate: 0.1)
        try (parameters["weight"]!.value * 2).sum().backward()
        try optimizer.step()
        XCTAssertEqual(parameters["bias"]!.value.scalars, fixture.initial["bias"]!)
        XCTAssertNotEqual(parameters["weight"]!.value.scalars, fixture.initial["weight"]!)
    }

    func testClipGradientNormMatchesTorch() throws {
        let fixture = try loadFixture()
        for clip in fixture.clip {
            let parameters = try makeParameters(fixture)
            try setGradients(parameters, clip.gradients)
            let norm = clipGradientNorm(names.map { parameters[$0]! }, maxNorm: clip.maxNorm)
            XCTAssertEqual(norm, clip.totalNorm, accuracy: Self.tolerance * clip.totalNorm, "max norm \(clip.maxNorm)")
            for name in names {
                assertClose(parameters[name]!.grad!.scalars, clip.clipped[name]!, "clip \(clip.maxNorm) \(name)")
            }
        }
        XCTAssertTrue(fixture.clip.contains { $0.totalNorm > $0.maxNorm } && fixture.clip.contains { $0.totalNorm < $0.maxNorm },
                      "the fixture should hold a clipping and a non-clipping case")
    }

    func testLRSchedulesMatchTransformers() throws {
        let fixture = try loadFixture()
        for s in fixture.schedules {
            let schedule: LRSchedule
            switch s.kind {
            case "cosine": schedule = .cosine(warmupSteps: s.warmup, totalSteps: s.total)
            case "linear": schedule = .linear(warmupSteps: s.warmup, totalSteps: s.total)
            case "constant": schedule = .constant(warmupSteps: s.warmup)
            default: return XCTFail("unknown schedule \(s.kind)")
            }
            let actual = s.multipliers.indices.map { schedule.multiplier(at: $0) }
            assertClose(actual, s.multipliers, "\(s.kind) warmup \(s.warmup) total \(s.total)")
        }
    }
}
