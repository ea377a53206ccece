import Alignment
import Foundation
import Tensor
import XCTest

/// PPO's math against TRL 1.12.0 on fixed tensors (scripts/fixtures/make_ppo_fixture.py): rewards, GAE,
/// whitening, losses, clip fractions, approxkl, entropy, logged metrics and gradients, within 1e-5.
final class PPOMathTests: XCTestCase {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/ppo-math")
    static let cases = ["k1", "k1-whiten-penalty", "k3-penalty", "k3-whiten", "k1-entropy-bonus"]
    static let tolerance: Float = 1e-5

    private func load(_ name: String) throws -> [String: Any] {
        let data = try Data(contentsOf: Self.fixtures.appendingPathComponent("\(name).json"))
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// Nested JSON arrays of numbers, flattened row-major.
    private func floats(_ value: Any?) -> [Float] {
        if let array = value as? [Any] { return array.flatMap { floats($0) } }
        if let number = value as? NSNumber { return [number.floatValue] }
        return []
    }

    private func tensor(_ value: Any?, _ shape: [Int]) throws -> Tensor { try Tensor(shape: shape, scalars: floats(value)) }

    private func assertClose(_ actual: [Float], _ expected: [Float], _ what: String, file: StaticString = #filePath,
                             line: UInt = #line) -> Float {
        XCTAssertEqual(actual.count, expected.count, "\(what): count", file: file, line: line)
        let worst = zip(actual, expected).map { abs($0 - $1) }.max() ?? 0
        XCTAssertLessThanOrEqual(worst, Self.tolerance, "\(what): max |Δ| \(worst)\n got \(actual)\n TRL \(expected)",
                                 file: file, line: line)
        return worst
    }

    private func hyperparameters(_ config: [String: Any]) -> PPOHyperparameters {
        var h = PPOHyperparameters()
        h.klCoefficient = (config["kl_coef"] as! NSNumber).floatValue
        h.klEstimator = KLEstimator(rawValue: config["kl_estimator"] as! String)!
        h.whitenRewards = config["whiten_rewards"] as! Bool
        h.missingEOSPenalty = (config["missing_eos_penalty"] as? NSNumber)?.floatValue
        h.gamma = (config["gamma"] as! NSNumber).floatValue
        h.lambda = (config["lam"] as! NSNumber).floatValue
        h.clipRange = (config["cliprange"] as! NSNumber).floatValue
        h.clipRangeValue = (config["cliprange_value"] as! NSNumber).floatValue
        h.valueCoefficient = (config["vf_coef"] as! NSNumber).floatValue
        h.entropyCoefficient = (config["entropy_coef"] as! NSNumber).floatValue
        return h
    }

    func testMatchesTRL() throws {
        let inputs = try load("inputs")
        let responses = try XCTUnwrap(inputs["responses"] as? [[Int]])
        let (batch, length) = (responses.count, responses[0].count)
        let eos = try XCTUnwrap(inputs["eos_token_id"] as? Int)
        let vocab = floats(inputs["new_logits"]).count / (batch * length)
        let shape = [batch, length]
        // What a trainer knows after truncating each response after its first EOS.
        let lengths = responses.map { row in row.firstIndex(of: eos).map { $0 + 1 } ?? row.count }
        let containsEOS = responses.map { $0.contains(eos) }
        let padding = try ResponsePadding(lengths: lengths, responseLength: length)
        var worst: Float = 0

        for name in Self.cases {
            let fixture = try load(name)
            let h = hyperparameters(try XCTUnwrap(fixture["config"] as? [String: Any]))
            XCTAssertEqual(padding.sequenceLengths, fixture["sequence_lengths"] as? [Int], name)
            XCTAssertEqual(containsEOS, fixture["contain_eos_token"] as? [Bool], name)
            let padMask = (fixture["padding_mask"] as! [[Bool]]).flatMap { $0 }.map { $0 ? Float(0) : 1 }
            let padMaskP1 = (fixture["padding_mask_p1"] as! [[Bool]]).flatMap { $0 }.map { $0 ? Float(0) : 1 }
            XCTAssertEqual(padding.tokenMask.scalars, padMask, name)
            XCTAssertEqual(padding.valueMask.scalars, padMaskP1, name)
            XCTAssertEqual((0..<batch).map(padding.scoreColumn), fixture["actual_end"] as? [Int], name)

            // Rollout → rewards → advantages.
            let rewards = try PPOMath.rewards(
                logprobs: try tensor(inputs["logprobs"], shape), refLogprobs: try tensor(inputs["ref_logprobs"], shape),
                scores: floats(inputs["scores"]), containsEOS: containsEOS, padding: padding,
                klCoefficient: h.klCoefficient, hyperparameters: h)
            let advantages = try PPOMath.advantages(rewards: rewards.rewards, values: try tensor(inputs["values"], shape),
                                                    padding: padding, hyperparameters: h)
            let checks: [(String, [Float])] = [
                ("scores", rewards.scores), ("logprobs", rewards.logprobs.scalars), ("ref_logprobs", rewards.refLogprobs.scalars),
                ("kl", rewards.kl.scalars), ("non_score_reward", rewards.nonScoreReward.scalars),
                ("rewards", rewards.rewards.scalars), ("values", advantages.values.scalars),
                ("whitened_rewards", advantages.rewards.scalars), ("gae", advantages.rawAdvantages.scalars),
                ("returns", advantages.returns.scalars), ("advantages", advantages.advantages.scalars),
            ]
            for (key, actual) in checks { worst = max(worst, assertClose(actual, floats(fixture[key]), "\(name) \(key)")) }

            // One micro-batch (the whole batch), from log-probabilities as leaves: gradients w.r.t. them and vpred.
            let logits = try tensor(inputs["new_logits"], shape + [vocab])
            let tokens = responses.flatMap { $0 }
            let newLogprobs = try withNoGrad { try logits.logSoftmax().gather(lastAxis: tokens) }.requiringGrad()
            let vpred = try tensor(inputs["vpred_raw"], shape).requiringGrad()
            let (loss, stats) = try PPOMath.loss(
                newLogprobs: newLogprobs, newValues: vpred, logits: logits, oldLogprobs: rewards.logprobs,
                oldValues: advantages.values, advantages: advantages.advantages, returns: advantages.returns,
                padding: padding, hyperparameters: h)
            try loss.backward()
            let expected = { (key: String) in self.floats(fixture[key]) }
            let statChecks: [(String, Float?)] = [
                ("loss", stats.loss), ("pg_loss", stats.policyLoss), ("vf_loss", stats.valueLoss),
                ("pg_clipfrac", stats.policyClipFraction), ("vf_clipfrac", stats.valueClipFraction),
                ("approxkl", stats.approxKL), ("entropy_mean", stats.entropy), ("ratio_mean", stats.ratio),
            ]
            for (key, actual) in statChecks {
                worst = max(worst, assertClose([try XCTUnwrap(actual, "\(name) \(key)")], expected(key), "\(name) \(key)"))
            }
            XCTAssertEqual(try loss.item, stats.loss)
            worst = max(worst, assertClose(newLogprobs.grad.map(\.scalars) ?? [], expected("grad_new_logprobs"), "\(name) ∂loss/∂new_logprobs"))
            worst = max(worst, assertClose(vpred.grad.map(\.scalars) ?? [], expected("grad_vpred"), "\(name) ∂loss/∂vpred"))
            let tokenEntropy = try PPOMath.entropy(logits: logits).scalars
            worst = max(worst, assertClose(tokenEntropy, expected("entropy"), "\(name) entropy"))
            let maskedNew = zip(newLogprobs.scalars, padding.tokenMask.scalars).map { $1 != 0 ? $0 : PPOMath.invalidLogprob }
            worst = max(worst, assertClose(maskedNew, expected("new_logprobs"), "\(name) new_logprobs"))

            // The same loss from the logits as the leaf: the gradient reaches them through the log-softmax and, with
            // c2 ≠ 0, through the entropy bonus.
            let logitsLeaf = logits.requiringGrad()
            let (loss2, _) = try PPOMath.loss(
                newLogprobs: try logitsLeaf.logSoftmax().gather(lastAxis: tokens), newValues: vpred.detached(),
                logits: logitsLeaf, oldLogprobs: rewards.logprobs, oldValues: advantages.values,
                advantages: advantages.advantages, returns: advantages.returns, padding: padding, hyperparameters: h)
            try loss2.backward()
            worst = max(worst, assertClose([try loss2.item], expected("loss"), "\(name) loss from logits"))
            worst = max(worst, assertClose(try XCTUnwrap(logitsLeaf.grad).scalars, expected("grad_logits"), "\(name) ∂loss/∂logits"))

            // The logged metrics.
            var log = PPOStatsLog()
            log.append(stats)
            let metrics = rewards.metrics.merging(log.metrics) { a, _ in a }
            let trlMetrics = try XCTUnwrap(fixture["metrics"] as? [String: Any])
            for (key, value) in trlMetrics where key != "val/num_eos_tokens" {
                let actual = try XCTUnwrap(metrics[key], "\(name): no metric \(key)")
                worst = max(worst, assertClose([Float(actual)], [(value as! NSNumber).floatValue], "\(name) \(key)"))
            }
        }
        print("PPO math vs TRL 1.12.0 (\(Self.cases.count) cases): max |Δ| \(worst)")
    }

    /// The stats of several micro-batches: means, and the unbiased variance of the mean ratios (torch's var()).
    func testStatsLogAveragesMicroBatches() {
        var log = PPOStatsLog()
        XCTAssertTrue(log.metrics.isEmpty)
        let ratios: [Float] = [0.9, 1.05, 1.3]
        for (i, ratio) in ratios.enumerated() {
            log.append(PPOStats(loss: 0, policyLoss: Float(i), valueLoss: 2 * Float(i), policyClipFraction: 0.1,
                                valueClipFraction: 0.2, approxKL: 0.01 * Float(i), ratio: ratio, entropy: 1 + Float(i)))
        }
        let m = log.metrics
        let mean = (0.9 + 1.05 + 1.3) / 3.0
        let variance = [0.9, 1.05, 1.3].map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / 2
        XCTAssertEqual(m["loss/policy_avg"]!, 1, accuracy: 1e-6)
        XCTAssertEqual(m["loss/value_avg"]!, 2, accuracy: 1e-6)
        XCTAssertEqual(m["policy/approxkl_avg"]!, 0.01, accuracy: 1e-6)
        XCTAssertEqual(m["policy/entropy_avg"]!, 2, accuracy: 1e-6)
        XCTAssertEqual(m["val/ratio"]!, mean, accuracy: 1e-6)
        XCTAssertEqual(m["val/ratio_var"]!, variance, accuracy: 1e-6)
        XCTAssertEqual(Set(m.keys), ["policy/approxkl_avg", "policy/clipfrac_avg", "loss/policy_avg", "loss/value_avg",
                                     "val/clipfrac_avg", "policy/entropy_avg", "val/ratio", "val/ratio_var"])
    }

    /// Ziegler et al.'s adaptive controller step by step against the formula, clipping both ways; a fixed
    /// controller never moves; a controller saved mid-run and restored continues identically.
    func testKLControllers() throws {
        var adaptive = try KLController.adaptive(initial: 0.2, target: 6, horizon: 10_000)
        var expected = 0.2
        let observations: [(kl: Double, steps: Int)] = [(3, 64), (6.6, 64), (12, 256), (0, 128), (6, 64), (7.5, 512)]
        var saved: Data?
        for (i, (kl, steps)) in observations.enumerated() {
            let error = min(max(kl / 6 - 1, -0.2), 0.2)
            expected *= 1 + error * Double(steps) / 10_000
            adaptive.update(currentKL: kl, steps: steps)
            XCTAssertEqual(adaptive.value, expected, accuracy: 1e-15, "update \(i)")
            if i == 2 { saved = try JSONEncoder().encode(adaptive) }
        }
        // 3/6 − 1 = −0.5 is clipped to −0.2: β shrinks by 0.2 · 64 / 10000.
        XCTAssertEqual(try KLController.adaptive(initial: 1, target: 6, horizon: 10_000).updated(3, 64), 1 - 0.2 * 64 / 10_000, accuracy: 1e-15)
        XCTAssertEqual(try KLController.adaptive(initial: 1, target: 6, horizon: 10_000).updated(6.6, 100), 1 + 0.1 * 100 / 10_000, accuracy: 1e-12)

        var restored = try JSONDecoder().decode(KLController.self, from: try XCTUnwrap(saved))
        for (kl, steps) in observations.dropFirst(3) { restored.update(currentKL: kl, steps: steps) }
        XCTAssertEqual(restored, adaptive)

        var fixed = KLController.fixed(0.05)
        fixed.update(currentKL: 100, steps: 1000)
        XCTAssertEqual(fixed.value, 0.05)
        XCTAssertEqual(try JSONDecoder().decode(KLController.self, from: try JSONEncoder().encode(fixed)), fixed)
        XCTAssertThrowsError(try KLController.adaptive(initial: 0.1, target: 0, horizon: 10))

        var h = PPOHyperparameters()
        XCTAssertEqual(try h.makeKLController(), .fixed(Double(h.klCoefficient)))
        h.klTarget = 6
        XCTAssertEqual(try h.makeKLController().mode, .adaptive)
    }

    /// Layouts from a response mask, TRL's edge cases for the score column, and bad input refused.
    func testResponsePadding() throws {
        let padding = try ResponsePadding(responseMask: [1, 1, 0, 0, /**/ 1, 1, 1, 1, /**/ 0, 0, 0, 0], responseLength: 4)
        XCTAssertEqual(padding.lengths, [2, 4, 0])
        XCTAssertEqual(padding.sequenceLengths, [1, 3, -1])
        // The score goes one column past the last token when there is one (TRL's actual_end), else on the last.
        XCTAssertEqual((0..<3).map(padding.scoreColumn), [2, 3, 0])
        XCTAssertEqual(padding.valueMask.scalars, [1, 1, 1, 0, /**/ 1, 1, 1, 1, /**/ 1, 0, 0, 0])
        XCTAssertThrowsError(try ResponsePadding(responseMask: [1, 0, 1, 0], responseLength: 4))
        XCTAssertThrowsError(try ResponsePadding(lengths: [5], responseLength: 4))
        XCTAssertThrowsError(try PPOMath.rewards(logprobs: .zeros([3, 4]), refLogprobs: .zeros([3, 3]), scores: [0, 0, 0],
                                                 containsEOS: [true, true, true], padding: padding, klCoefficient: 0.1,
                                                 hyperparameters: PPOHyperparameters()))
    }
}

private extension KLController {
    func updated(_ kl: Double, _ steps: Int) -> Double {
        var copy = self
        copy.update(currentKL: kl, steps: steps)
        return copy.value
    }
}
