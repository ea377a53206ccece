import Foundation
import XCTest

/// `rlhf classify` and classifiers as rewards and metrics from the command line: logits as transformers computes
/// them, JSONL input with its one-line errors, a classifier whose tokenizer differs from the policy's scoring GRPO,
/// PPO and eval, and an unknown label refused with the labels listed.
final class ClassifierCommandTests: XCTestCase {
    static let roberta = Fixture.models.appendingPathComponent("tiny-roberta-classifier")

    struct Classification: Decodable { let labels: [String]; let logits: [Float]; let probs: [Float] }

    func testClassifyGivesTransformersLogitsPerLabel() throws {
        let reference = try JSONSerialization.jsonObject(with: Data(contentsOf: Self.roberta.appendingPathComponent("reference.json"))) as! [String: Any]
        let texts = (reference["texts"] as! [[String: Any]])
        let data = try temporaryDirectory().appendingPathComponent("texts.jsonl")
        let lines = try texts.map { String(decoding: try JSONSerialization.data(withJSONObject: ["text": $0["text"]!]), as: UTF8.self) }
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: data)
        let run = try runRLHF(["classify", "--model", Self.roberta.path, "--data", data.path, "--json", "--batch-size", "3"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let rows = try run.stdout.split(separator: "\n").map { try JSONDecoder().decode(Classification.self, from: Data($0.utf8)) }
        XCTAssertEqual(rows.count, texts.count)
        for (row, text) in zip(rows, texts) {
            XCTAssertEqual(row.labels, ["nothate", "hate"])
            let expected = (text["logits"] as! [NSNumber]).map(\.floatValue)
            for (ours, theirs) in zip(row.logits, expected) { XCTAssertEqual(ours, theirs, accuracy: 1e-4, "\(text["name"]!)") }
            XCTAssertEqual(row.probs.reduce(0, +), 1, accuracy: 1e-5)
            XCTAssertEqual(row.probs[1] / row.probs[0], exp(row.logits[1] - row.logits[0]), accuracy: 1e-3)
        }
        let table = try runRLHF(["classify", "--model", Self.roberta.path, "--text", "Hello there"])
        XCTAssertEqual(table.status, 0, table.stderr)
        XCTAssertTrue(table.stdout.contains("nothate") && table.stdout.contains("hate"), table.stdout)
    }

    func testBadInputIsOneLineWithFileAndLine() throws {
        let data = try temporaryDirectory().appendingPathComponent("texts.jsonl")
        try Data("{\"text\": \"fine\"}\n{\"txt\": \"no text field\"}\n".utf8).write(to: data)
        let run = try runRLHF(["classify", "--model", Self.roberta.path, "--data", data.path])
        XCTAssertNotEqual(run.status, 0)
        XCTAssertEqual(run.stderr.split(separator: "\n").count, 1, run.stderr)
        XCTAssertTrue(run.stderr.contains("texts.jsonl:2") && run.stderr.contains("\"text\""), run.stderr)
        let notAClassifier = try runRLHF(["classify", "--model", Fixture.gpt2, "--text", "hi"])
        XCTAssertNotEqual(notAClassifier.status, 0)
        XCTAssertEqual(notAClassifier.stderr.split(separator: "\n").count, 1, notAClassifier.stderr)
    }

    private func prompts() throws -> URL {
        let file = try temporaryDirectory().appendingPathComponent("prompts.jsonl")
        try Data((["Hello there", "What is up", "Tell me a story", "Say something kind"].map { "{\"prompt\": \"\($0)\"}" }
                  .joined(separator: "\n") + "\n").utf8).write(to: file)
        return file
    }

    /// The policy (GPT-2's byte-level BPE, 700 ids) and the classifier (RoBERTa's BPE, 800 ids) share no tokenizer:
    /// the reward is read from the classifier on the decoded text, in GRPO, PPO and eval alike.
    func testAClassifierWithAnotherTokenizerScoresGRPOPPOAndEval() throws {
        let prompts = try prompts().path
        let grpo = try temporaryDirectory().appendingPathComponent("grpo")
        let run = try runRLHF(["grpo", "--policy", Fixture.gpt2, "--prompts", prompts, "--out", grpo.path, "--steps", "2", "--batch-size", "4",
                               "--num-generations", "2", "--max-completion-length", "6", "--reward-classifier", Self.roberta.path,
                               "--reward-label", "nothate", "--reward-transform", "prob"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let metrics = try String(contentsOf: grpo.appendingPathComponent("metrics.jsonl"), encoding: .utf8)
        XCTAssertTrue(metrics.contains("rewards/tiny-roberta-classifier:nothate/mean"), metrics)

        let ppo = try temporaryDirectory().appendingPathComponent("ppo")
        let trained = try runRLHF(["ppo", "--policy", Fixture.gpt2, "--prompts", prompts, "--out", ppo.path, "--iterations", "2",
                                   "--batch-size", "4", "--max-new-tokens", "6", "--reward-classifier", Self.roberta.path, "--reward-label", "0"])
        XCTAssertEqual(trained.status, 0, trained.stderr)
        XCTAssertTrue(exists(ppo.appendingPathComponent("critic/config.json")))

        let eval = try runRLHF(["eval", "--model", ppo.path, "--baseline", Fixture.gpt2, "--prompts", prompts, "--max-new-tokens", "6",
                                "--reward-classifier", Self.roberta.path, "--reward-label", "nothate",
                                "--classifier", Self.roberta.path, "--label", "hate", "--json"])
        XCTAssertEqual(eval.status, 0, eval.stderr)
        let result = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as? [String: Any])
        for side in ["model", "baseline"] {
            let rates = try XCTUnwrap((result[side] as? [String: Any])?["label_rates"] as? [String: Any], eval.stdout)
            let rate = try XCTUnwrap(rates["tiny-roberta-classifier:hate"] as? [String: Any])
            let mean = try XCTUnwrap(rate["mean_probability"] as? Double), share = try XCTUnwrap(rate["share_at_threshold"] as? Double)
            XCTAssertTrue((0...1).contains(mean) && (0...1).contains(share), "\(rate)")
            let interval = try XCTUnwrap(rate["mean_interval"] as? [Double])
            XCTAssertTrue(interval[0] <= mean && mean <= interval[1], "\(rate)")
        }
    }

    func testAnUnknownLabelIsOneLineListingTheLabels() throws {
        let out = try temporaryDirectory().appendingPathComponent("ppo")
        let run = try runRLHF(["ppo", "--policy", Fixture.gpt2, "--prompts", try prompts().path, "--out", out.path, "--iterations", "1",
                               "--reward-classifier", Self.roberta.path, "--reward-label", "toxic"])
        XCTAssertNotEqual(run.status, 0)
        XCTAssertEqual(run.stderr.trimmingCharacters(in: .newlines).split(separator: "\n").count, 1, run.stderr)
        XCTAssertTrue(run.stderr.contains("no label \"toxic\"") && run.stderr.contains("0 \"nothate\", 1 \"hate\""), run.stderr)
        let eval = try runRLHF(["eval", "--model", Fixture.gpt2, "--baseline", Fixture.gpt2, "--prompts", try prompts().path,
                                "--reward", Fixture.gpt2Reward, "--classifier", Self.roberta.path, "--label", "toxic"])
        XCTAssertNotEqual(eval.status, 0)
        XCTAssertTrue(eval.stderr.contains("no label \"toxic\""), eval.stderr)
    }
}
