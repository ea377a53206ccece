@testable import Alignment
import Foundation
import Tensor
import XCTest

/// GRPO's and RLOO's math against TRL 1.16.0's own `_compute_loss` and `_generate_and_score_completions` on fixed
/// inputs (scripts/fixtures/make_grpo_fixture.py): advantages, reward metrics, per-token losses for every
/// aggregation, gradients, KL and clip ratios, within 1e-6.
final class GRPOMathTests: XCTestCase {
    static let fixture = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/grpo-loss/cases.json")
    static let tolerance = 1e-6

    private var cases: [String: Any] = [:]

    override func setUpWithError() throws {
        cases = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: Self.fixture)) as? [String: Any])
    }

    private func section(_ name: String) throws -> [[String: Any]] { try XCTUnwrap(cases[name] as? [[String: Any]]) }

    /// Nested arrays of numbers, flattened row-major.
    private func floats(_ value: Any?) -> [Float] {
        if let array = value as? [Any] { return array.flatMap { floats($0) } }
        if let number = value as? NSNumber { return [number.floatValue] }
        return []
    }

    private func number(_ value: Any?) -> Float? { (value as? NSNumber)?.floatValue }

    private func tensor(_ value: Any?) throws -> Tensor? {
        guard let rows = value as? [[Any]] else { return nil }
        return try Tensor(shape: [rows.count, rows[0].count], scalars: floats(rows))
    }

    /// TRL's rewards_per_func with null as nil.
    private func rewards(_ value: Any?) -> [[Float?]] {
        ((value as? [[Any]]) ?? []).map { row in row.map { ($0 as? NSNumber)?.floatValue } }
    }

    private func assertClose(_ actual: [Double], _ expected: [Double], _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual.count, expected.count, "\(what): count", file: file, line: line)
        let worst = zip(actual, expected).map { abs($0 - $1) }.max() ?? 0
        XCTAssertLessThanOrEqual(worst, Self.tolerance, "\(what): max |Δ| \(worst)\n got \(actual)\n TRL \(expected)", file: file, line: line)
    }

    private func assertMetrics(_ actual: [String: Double], _ expected: Any?, _ name: String, file: StaticString = #filePath, line: UInt = #line) throws {
        let expected = try XCTUnwrap(expected as? [String: NSNumber])
        for (key, value) in expected {
            assertClose([try XCTUnwrap(actual[key], "\(name): no \(key) in \(actual.keys.sorted())")], [value.doubleValue], "\(name) \(key)", file: file, line: line)
        }
    }

    func testGRPOLossMatchesTRL() throws {
        let all = try section("grpo_loss")
        XCTAssertEqual(Set(all.compactMap { $0["loss_type"] as? String }), Set(GRPOLossType.allCases.map(\.rawValue)))
        for item in all {
            let name = item["name"] as! String
            let logprobs = try XCTUnwrap(try tensor(item["per_token_logps"])).requiringGrad()
            let epsilon = number(item["epsilon"])!
            let settings = GRPOLossSettings(lossType: GRPOLossType(rawValue: item["loss_type"] as! String)!, epsilonLow: epsilon,
                                            epsilonHigh: number(item["epsilon_high"]) ?? epsilon, beta: number(item["beta"])!,
                                            maxCompletionLength: item["max_completion_length"] as! Int)
            let (accumulation, perGeneration) = (item["current_gradient_accumulation_steps"] as! Int, item["steps_per_generation"] as! Int)
            let (loss, stats) = try GRPOMath.loss(
                logprobs: logprobs, oldLogprobs: try tensor(item["old_per_token_logps"]), refLogprobs: try tensor(item["ref_per_token_logps"]),
                entropies: floats(item["entropies"]), advantages: floats(item["advantages"]), mask: floats(item["completion_mask"]),
                generationTokens: (item["num_items_in_batch"] as! Int) * accumulation / perGeneration, microBatches: accumulation,
                settings: settings)
            try loss.backward()
            assertClose([Double(try loss.item)], [Double(number(item["loss"])!)], "\(name) loss")
            assertClose(try XCTUnwrap(logprobs.grad).scalars.map(Double.init), floats(item["grad"]).map(Double.init), "\(name) ∂loss/∂logps")
            try assertMetrics(stats.metrics, item["metrics"], name)
            XCTAssertEqual(stats.kl == nil, settings.beta == 0, "\(name): kl is logged exactly when β ≠ 0")
        }
    }

    func testGRPOAdvantagesMatchTRL() throws {
        for item in try section("grpo_advantages") where item["multi_objective_aggregation"] as? String == "sum_then_normalize" {
            let name = item["name"] as! String
            let perFunction = rewards(item["rewards_per_func"]), weights = floats(item["reward_weights"])
            let (advantages, stdIsZero) = GRPOMath.groupAdvantages(
                rewards: GRPOMath.combinedRewards(perFunction, weights: weights), groupSize: item["num_generations"] as! Int,
                scaling: RewardScaling(rawValue: item["scale_rewards"] as! String)!)
            assertClose(advantages.map(Double.init), floats(item["advantages"]).map(Double.init), "\(name) advantages")
            try assertMetrics(GRPOMath.rewardMetrics(perFunction: perFunction, names: item["reward_names"] as! [String], weights: weights,
                                                     stdIsZero: stdIsZero), item["metrics"], name)
        }
    }

    func testRLOOLossMatchesTRL() throws {
        for item in try section("rloo_loss") {
            let name = item["name"] as! String
            let logprobs = try XCTUnwrap(try tensor(item["per_token_logps"])).requiringGrad()
            let epsilon = number(item["epsilon"])!
            let (loss, stats) = try GRPOMath.leaveOneOutLoss(
                logprobs: logprobs, oldSequenceLogprobs: floats(item["old_logps"]), entropies: floats(item["entropies"]),
                advantages: floats(item["advantages"]), mask: floats(item["completion_mask"]), epsilonLow: epsilon,
                epsilonHigh: number(item["epsilon_high"]) ?? epsilon)
            try loss.backward()
            assertClose([Double(try loss.item)], [Double(number(item["loss"])!)], "\(name) loss")
            assertClose(try XCTUnwrap(logprobs.grad).scalars.map(Double.init), floats(item["grad"]).map(Double.init), "\(name) ∂loss/∂logps")
            try assertMetrics(stats.metrics, item["metrics"], name)
        }
    }

    func testRLOOAdvantagesMatchTRL() throws {
        for item in try section("rloo_advantages") {
            let name = item["name"] as! String
            let perFunction = rewards(item["rewards_per_func"]), weights = floats(item["reward_weights"])
            let mask = floats(item["completion_mask"]), old = floats(item["old_per_token_logps"])
            let ref = floats(item["ref_per_token_logps"])
            let length = mask.count / perFunction.count
            let sequenceKL: [Double]? = ref.isEmpty ? nil : perFunction.indices.map { b in
                (0..<length).reduce(0.0) { $0 + Double((old[b * length + $1] - ref[b * length + $1]) * mask[b * length + $1]) }
            }
            let (advantages, stdIsZero) = GRPOMath.leaveOneOutAdvantages(
                rewards: GRPOMath.combinedRewards(perFunction, weights: weights), sequenceKL: sequenceKL,
                beta: Double(number(item["beta"])!), groupSize: item["num_generations"] as! Int,
                normalize: item["normalize_advantages"] as! Bool)
            assertClose(advantages.map(Double.init), floats(item["advantages"]).map(Double.init), "\(name) advantages")
            var metrics = GRPOMath.rewardMetrics(perFunction: perFunction, names: item["reward_names"] as! [String], weights: weights,
                                                 stdIsZero: stdIsZero)
            if let sequenceKL { metrics["kl"] = sequenceKL.reduce(0, +) / Double(mask.reduce(0, +)) }
            try assertMetrics(metrics, item["metrics"], name)
        }
    }
}
