import Alignment
import Data
import Foundation
import Models
import Tensor
import Tokenizer
import XCTest

/// DPO and KTO against TRL 1.16.0: the losses, rewards and logged metrics on fixed log-probabilities
/// (scripts/fixtures/make_dpo_fixture.py, make_kto_fixture.py), and one whole DPO SGD step on a small GPT-2 against
/// PyTorch + TRL's loss (make_dpo_step_fixture.py), within 1e-5.
final class DPOTests: XCTestCase {
    static let here = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    static let gpt2 = here.deletingLastPathComponent().appendingPathComponent("ModelsTests/Fixtures/tiny-gpt2")

    private func json(_ path: String) throws -> [String: Any] {
        let data = try Data(contentsOf: Self.here.appendingPathComponent("Fixtures/\(path)"))
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    private func floats(_ value: Any?) -> [Float] { (value as? [NSNumber] ?? []).map(\.floatValue) }

    private func assertClose(_ actual: Double, _ expected: Double, _ what: String, file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(actual, expected, accuracy: 1e-5, what, file: file, line: line)
    }

    func testDPOLossesMatchTRL() throws {
        let fixture = try json("dpo-loss/cases.json")
        let inputs = try XCTUnwrap(fixture["inputs"] as? [String: Any])
        let logps = PreferenceLogProbabilities(
            policyChosen: try Tensor(shape: [6], scalars: floats(inputs["policy_chosen_logps"])),
            policyRejected: try Tensor(shape: [6], scalars: floats(inputs["policy_rejected_logps"])),
            referenceChosen: floats(inputs["ref_chosen_logps"]), referenceRejected: floats(inputs["ref_rejected_logps"]),
            chosenLengths: (inputs["chosen_lengths"] as? [Int]) ?? [], rejectedLengths: (inputs["rejected_lengths"] as? [Int]) ?? [])
        let cases = try XCTUnwrap(fixture["cases"] as? [[String: Any]])
        XCTAssertEqual(cases.count, 11)
        for testCase in cases {
            let name = try XCTUnwrap(testCase["name"] as? String)
            let types = try XCTUnwrap(testCase["loss_type"] as? [String])
            let weights = floats(testCase["loss_weights"])
            let beta = Float(try XCTUnwrap(testCase["beta"] as? Double))
            let smoothing = Float(try XCTUnwrap(testCase["label_smoothing"] as? Double))
            // TRL 1.16's sigmoid loss ignores label smoothing (its cDPO cases equal plain sigmoid); ours accepts it only
            // for the robust loss, so those cases are computed without it.
            let type = try XCTUnwrap(DPOLossType(rawValue: types[0]))
            let loss = DPOLoss(type: type, beta: beta, labelSmoothing: type == .robust ? smoothing : 0,
                               rpoAlpha: types.contains("sft") ? weights[1] : 0)
            assertClose(Double(try loss.loss(logps).item), try XCTUnwrap(testCase["loss"] as? Double), "\(name): loss")
            if let losses = testCase["losses"] {
                for (actual, expected) in zip(try loss.losses(logps).scalars, floats(losses)) {
                    assertClose(Double(actual), Double(expected), "\(name): per-pair loss")
                }
            } else {
                assertClose(Double(try loss.nll(logps).item), try XCTUnwrap(testCase["chosen_nll"] as? Double), "\(name): RPO's NLL")
            }
            let metrics = loss.metrics(logps)
            for (key, value) in try XCTUnwrap(testCase["metrics"] as? [String: Double]) {
                assertClose(try XCTUnwrap(metrics[key], "\(name): \(key) missing"), value, "\(name): \(key)")
            }
        }
    }

    func testKTOLossesMatchTRL() throws {
        let fixture = try json("kto-loss/cases.json")
        let cases = try XCTUnwrap(fixture["cases"] as? [[String: Any]])
        XCTAssertEqual(cases.count, 6)
        for testCase in cases {
            let name = try XCTUnwrap(testCase["name"] as? String)
            let inputs = try XCTUnwrap(testCase["inputs"] as? [String: Any])
            let labels = try XCTUnwrap(inputs["labels"] as? [Bool])
            let batch = KTOLoss.Batch(policy: try Tensor(shape: [labels.count], scalars: floats(inputs["policy_logps"])),
                                      reference: floats(inputs["ref_logps"]), labels: labels,
                                      policyMismatched: floats(inputs["policy_KL_logps"]), referenceMismatched: floats(inputs["ref_KL_logps"]))
            let loss = KTOLoss(beta: Float(try XCTUnwrap(testCase["beta"] as? Double)),
                               desirableWeight: Float(try XCTUnwrap(testCase["desirable_weight"] as? Double)),
                               undesirableWeight: Float(try XCTUnwrap(testCase["undesirable_weight"] as? Double)))
            assertClose(Double(batch.referencePoint), try XCTUnwrap(testCase["kl"] as? Double), "\(name): kl")
            assertClose(Double(try loss.loss(batch).item), try XCTUnwrap(testCase["loss"] as? Double), "\(name): loss")
            // TRL lists the desirable examples' losses first, then the undesirable ones'.
            let losses = try loss.losses(batch).scalars
            let ordered = labels.indices.filter { labels[$0] } + labels.indices.filter { !labels[$0] }
            for (index, expected) in zip(ordered, floats(testCase["losses"])) {
                assertClose(Double(losses[index]), Double(expected), "\(name): loss of example \(index)")
            }
            let metrics = loss.metrics(batch)
            let expected = try XCTUnwrap(testCase["metrics"] as? [String: Double])
            XCTAssertEqual(Set(metrics.keys), Set(expected.keys), "\(name): the same metrics, as TRL leaves some out")
            for (key, value) in expected { assertClose(metrics[key] ?? .nan, value, "\(name): \(key)") }
        }
    }

    /// One DPO step through the run API (sigmoid, then IPO) gives the weights of PyTorch + TRL's loss within 1e-5,
    /// after tokenizing the pairs exactly as TRL did.
    func testOneDPOStepMatchesPyTorchAndTRL() throws {
        let fixture = Self.here.appendingPathComponent("Fixtures/dpo-sgd-step")
        let meta = try json("dpo-sgd-step/meta.json")
        let tokenizer = try Tokenizer(directory: Self.gpt2)
        let pairs = try PreferencePair.load(fixture.appendingPathComponent("data.jsonl")).map { try $0.tokenized(with: tokenizer) }
        XCTAssertEqual(pairs.map(\.prompt), meta["prompt_ids"] as? [[Int]])
        XCTAssertEqual(pairs.map(\.chosen), meta["chosen_ids"] as? [[Int]])
        XCTAssertEqual(pairs.map(\.rejected), meta["rejected_ids"] as? [[Int]])
        for (loss, file) in [(DPOLossType.sigmoid, "expected.safetensors"), (.ipo, "expected-ipo.safetensors")] {
            var config = DPOConfig()
            (config.model, config.dataset.data, config.out) = (Self.gpt2.path, fixture.appendingPathComponent("data.jsonl").path, try temporaryDirectory().path)
            (config.loss, config.beta, config.dataset.evalSplit) = (loss, 0.1, 0)
            (config.training.steps, config.training.batchSize, config.training.learningRate) = (1, 3, 0.1)
            (config.training.optimizer, config.training.schedule, config.training.maxGradNorm, config.training.shuffle) = (.sgd, .constant, 0, false)
            let result = try config.run()
            let expected = try XCTUnwrap((meta["losses"] as? [String: Any])?[loss.rawValue] as? [String: Any])
            XCTAssertEqual(try XCTUnwrap(result.metrics["loss"]), try XCTUnwrap(expected["loss"] as? Double), accuracy: 1e-5)
            let written = try SafetensorsFile(contentsOf: URL(fileURLWithPath: config.out).appendingPathComponent("model.safetensors"))
            let reference = try SafetensorsFile(contentsOf: fixture.appendingPathComponent(file))
            var worst: Float = 0
            for name in reference.names {
                worst = max(worst, zip(try written.tensor(name).scalars, try reference.tensor(name).scalars).map { abs($0 - $1) }.max() ?? 0)
            }
            print("dpo (\(loss.rawValue)) one SGD step vs PyTorch + TRL: max |Δ weight| \(worst)")
            XCTAssertLessThanOrEqual(worst, 1e-5, loss.rawValue)
        }
    }

    /// Reference log-probabilities precomputed once or computed in every step train the same weights (up to float
    /// rounding), and a run stopped after a checkpoint and resumed ends with exactly the weights of an uninterrupted one.
    func testPrecomputedReferenceAndResumeGiveTheSameWeights() throws {
        let data = Self.here.appendingPathComponent("Fixtures/reward-rule/pairs.jsonl").path
        func config(precompute: Bool, out: URL) -> DPOConfig {
            var config = DPOConfig()
            (config.model, config.dataset.data, config.out, config.dataset.evalSplit, config.precomputeRef) = (Self.gpt2.path, data, out.path, 0.1, precompute)
            (config.training.steps, config.training.batchSize, config.training.learningRate, config.training.saveEvery) = (6, 8, 1e-3, 2)
            return config
        }
        let straight = try config(precompute: true, out: try temporaryDirectory()).run()
        let onTheFly = try config(precompute: false, out: try temporaryDirectory()).run()
        let interrupted = try temporaryDirectory()
        let stopped = try config(precompute: true, out: interrupted).run(RunControl { event in
            if case .stepEnded(let step, _, _) = event { return step < 3 }
            return true
        })
        XCTAssertEqual(stopped.steps, 3)
        let resumed = try config(precompute: true, out: interrupted).run(RunControl(resume: true))
        XCTAssertEqual(resumed.steps, 6)
        let weights = { (run: RunResult) in try Data(contentsOf: URL(fileURLWithPath: run.output).appendingPathComponent("model.safetensors")) }
        XCTAssertEqual(try weights(resumed), try weights(straight))
        let (a, b) = (try SafetensorsFile(contentsOf: URL(fileURLWithPath: straight.output).appendingPathComponent("model.safetensors")),
                      try SafetensorsFile(contentsOf: URL(fileURLWithPath: onTheFly.output).appendingPathComponent("model.safetensors")))
        // The reference scored in other batches (other padding, so other float rounding in the products) moves the
        // weights only by rounding.
        var worst: Float = 0
        for name in a.names { worst = max(worst, zip(try a.tensor(name).scalars, try b.tensor(name).scalars).map { abs($0 - $1) }.max() ?? 0) }
        XCTAssertLessThan(worst, 1e-4)
        for key in ["rewards/chosen", "rewards/rejected", "rewards/accuracies", "rewards/margins", "logps/chosen", "logps/rejected",
                    "eval_rewards/accuracies", "eval_loss"] {
            XCTAssertNotNil(straight.metrics[key], key)
        }
        XCTAssertEqual(straight.logHistory.filter { $0["loss"] != nil }.count, 6)
    }

    /// DPO with LoRA: the reference is the base with the adapters off (the first step's policy equals it, so its
    /// rewards are 0), the base weights never change, and the policy learns to prefer the chosen completions.
    func testLoRADPOLearnsThePreferencesAgainstTheBase() throws {
        var config = DPOConfig()
        (config.model, config.dataset.data, config.out, config.dataset.evalSplit) = (Self.gpt2.path, Self.here.appendingPathComponent("Fixtures/reward-rule/pairs.jsonl").path,
                                                                     try temporaryDirectory().path, 0.25)
        (config.training.steps, config.training.batchSize, config.training.learningRate, config.beta) = (30, 8, 2e-2, 0.5)
        (config.lora.rank, config.lora.targets, config.lora.dropout) = (8, ["c_attn", "c_fc"], 0)
        let result = try config.run()
        let first = try XCTUnwrap(result.logHistory.first)
        XCTAssertEqual(first["rewards/chosen"] ?? .nan, 0, accuracy: 1e-4)
        XCTAssertEqual(first["rewards/margins"] ?? .nan, 0, accuracy: 1e-4)
        let last = result.metrics
        print("lora dpo: margins \(first["rewards/margins"]!) → \(last["rewards/margins"]!), held-out accuracy \(last["eval_rewards/accuracies"]!)")
        XCTAssertGreaterThan(last["eval_rewards/accuracies"] ?? 0, 0.9)
        XCTAssertGreaterThan(last["eval_rewards/margins"] ?? 0, 0.5)
        let adapter = URL(fileURLWithPath: config.out).appendingPathComponent("adapter")
        XCTAssertTrue(FileManager.default.fileExists(atPath: adapter.appendingPathComponent(PEFTAdapter.weightsFile).path))
        // The merged model minus the adapter is the untouched base.
        let merged = try ModelDirectory.load(URL(fileURLWithPath: config.out)), base = try ModelDirectory.load(Self.gpt2)
        let changed = zip(base.namedParameters, merged.namedParameters).filter { $0.0.parameter.value.scalars != $0.1.parameter.value.scalars }
        XCTAssertFalse(changed.isEmpty)
        XCTAssertTrue(changed.allSatisfy { $0.0.name.hasSuffix("c_attn.weight") || $0.0.name.hasSuffix("c_fc.weight") }, "\(changed.map(\.0.name))")
    }

    private func temporaryDirectory() throws -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("rlhf-dpo-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
