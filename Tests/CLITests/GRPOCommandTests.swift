import Foundation
import XCTest

/// `rlhf grpo` from the command line: reward programs in Python and shell, the one-line errors of programs that
/// crash, print garbage, answer too few lines or go silent, a reward model with another tokenizer, RLOO, and a
/// resumed run that ends where an uninterrupted one does.
final class GRPOCommandTests: XCTestCase {
    private static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("ModelsTests/Fixtures")
    private static let policy = fixtures.appendingPathComponent("tiny-gpt2").path
    private static let t5 = fixtures.appendingPathComponent("tiny-t5").path

    /// Four prompts with extra columns for the reward functions.
    private func prompts() throws -> URL {
        let file = try temporaryDirectory().appendingPathComponent("prompts.jsonl")
        let rows = (0..<4).map { #"{"prompt": "What is \#($0) plus 1?", "answers": ["\#($0 + 1)"], "topic": "sums"}"# }
        try Data((rows.joined(separator: "\n") + "\n").utf8).write(to: file)
        return file
    }

    private func program(_ name: String, _ text: String) throws -> String {
        let file = try temporaryDirectory().appendingPathComponent(name)
        try Data(text.utf8).write(to: file)
        return file.path
    }

    private func grpo(_ out: URL, _ extra: [String], policy: String = policy) throws -> (status: Int32, stdout: String, stderr: String) {
        try runRLHF(["grpo", "--policy", policy, "--prompts", try prompts().path, "--out", out.path, "--batch-size", "4",
                     "--num-generations", "2", "--max-completion-length", "6", "--lr", "1e-3"] + extra)
    }

    private func metrics(_ out: URL) throws -> [[String: Any]] {
        try String(contentsOf: out.appendingPathComponent("metrics.jsonl"), encoding: .utf8).split(separator: "\n").map {
            try XCTUnwrap(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any])
        }
    }

    func testRewardProgramsInPythonAndShell() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/python3") else { throw XCTSkip("no python3") }
        // Checks that every row arrives whole (extra columns too) and scores the completion's length.
        let python = try program("score.py", """
            import json, sys
            for line in sys.stdin:
                row = json.loads(line)
                if row["topic"] != "sums" or not row["prompt"].startswith("What is") or "completion" not in row:
                    sys.exit(7)
                print(len(row["completion"]) / 10, flush=True)
            """)
        let shell = try program("half.sh", "while read -r line; do echo 0.5; done\n")
        let out = try temporaryDirectory().appendingPathComponent("grpo")
        let run = try grpo(out, ["--steps", "2", "--reward-fn", "contains", "--reward-cmd", "python3 \(python)", "--reward-cmd", "sh \(shell)",
                                 "--reward-weights", "1", "2", "0.5"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let logged = try metrics(out)
        XCTAssertEqual(logged.count, 2)
        for line in logged {
            XCTAssertEqual(line["rewards/half.sh/mean"] as? Double, 0.5)
            let (contains, length) = (try XCTUnwrap(line["rewards/contains/mean"] as? Double), try XCTUnwrap(line["rewards/score.py/mean"] as? Double))
            XCTAssertEqual(try XCTUnwrap(line["reward"] as? Double), contains + 2 * length + 0.25, accuracy: 1e-6, "weighted in flag order")
            for key in ["reward_std", "frac_reward_zero_std", "entropy", "clip_ratio/region_mean", "completions/mean_length", "grad_norm"] {
                XCTAssertNotNil(line[key], key)
            }
        }
        let samples = try String(contentsOf: out.appendingPathComponent("samples.jsonl"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(samples.count, 4, "one group of 2 completions per step")
    }

    /// Each broken program ends the run with exit code 1 and one line that names the program and what it printed.
    func testBrokenRewardProgramsStopTheRunInOneLine() throws {
        let cases: [(program: String, expected: [String])] = [
            ("read -r line; echo 1; exit 3", ["exited (status 3)", "after answering 1 of 4"]),
            ("while read -r line; do echo 'oops, no number'; done", ["line 1 of its output", "is not a number: \"oops, no number\""]),
            ("read -r line; printf '1\\n0.5'; exec sleep 4", ["answered 1 of 4", "within 1 s", "it printed \"0.5\""]),
            ("exit 0", ["exited (status 0) after answering 0 of 4"]),
        ]
        for (index, item) in cases.enumerated() {
            let script = try program("broken\(index).sh", item.program + "\n")
            let run = try grpo(try temporaryDirectory().appendingPathComponent("grpo"),
                               ["--steps", "1", "--reward-cmd", "sh \(script)", "--reward-cmd-timeout", "1"])
            XCTAssertEqual(run.status, 1, "\(item.program): \(run.stderr)")
            let lines = run.stderr.split(separator: "\n").filter { $0.hasPrefix("error") || $0.contains("reward_cmd") }
            XCTAssertEqual(lines.count, 1, run.stderr)
            for part in item.expected { XCTAssertTrue(run.stderr.contains(part), "\(item.program): expected \(part) in \(run.stderr)") }
            XCTAssertTrue(run.stderr.contains("broken\(index).sh"), run.stderr)
        }
    }

    /// A reward model whose tokenizer is not the policy's scores re-encoded text (as PPO does); RLOO with a KL term
    /// runs on it; held-out prompts are scored before training and at the end.
    func testRewardModelWithAnotherTokenizerAndRLOO() throws {
        let out = try temporaryDirectory().appendingPathComponent("rloo")
        let run = try grpo(out, ["--steps", "2", "--reward", Self.fixtures.appendingPathComponent("tiny-qwen2-reward").path,
                                 "--advantage", "rloo", "--beta", "0.05", "--eval-prompts", try prompts().path, "--json"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let logged = try metrics(out)
        let evaluations = logged.filter { $0["eval_reward"] != nil }
        XCTAssertEqual(evaluations.map { $0["step"] as? Int }, [0, 2], "the starting policy, then the trained one")
        XCTAssertNotNil(evaluations[0]["eval_rewards/tiny-qwen2-reward/mean"] as? Double)
        for line in logged where line["eval_reward"] == nil {
            XCTAssertNotNil(line["rewards/tiny-qwen2-reward/mean"] as? Double)
            XCTAssertNotNil(line["kl"] as? Double)
        }
        XCTAssertTrue(exists(out.appendingPathComponent("model.safetensors")))
    }

    /// Micro-batches sum to the same gradient as the whole batch, also when prompts of different lengths are padded
    /// to one length (a micro-batch re-lays its own rows; padding must stay padding).
    func testMicroBatchesGiveTheWholeBatchsGradient() throws {
        let file = try temporaryDirectory().appendingPathComponent("mixed.jsonl")
        let rows = ["Hi?", "What is the sum of two and three, please tell me?", "Why?", "Name a colour that the sky has at noon."]
        try Data(rows.map { #"{"prompt": "\#($0)"}"# }.joined(separator: "\n").utf8).write(to: file)
        var norms: [Double] = []
        for accumulation in ["1", "2"] {
            let out = try temporaryDirectory().appendingPathComponent("accum\(accumulation)")
            let run = try runRLHF(["grpo", "--policy", Self.policy, "--prompts", file.path, "--out", out.path, "--batch-size", "4",
                                   "--num-generations", "2", "--max-completion-length", "6", "--steps", "1", "--reward-fn", "length:3",
                                   "--loss-type", "grpo", "--grad-accum", accumulation])
            XCTAssertEqual(run.status, 0, run.stderr)
            norms.append(try XCTUnwrap(try metrics(out)[0]["grad_norm"] as? Double))
        }
        XCTAssertGreaterThan(norms[0], 0)
        XCTAssertEqual(norms[1], norms[0], accuracy: 1e-4 * norms[0])
    }

    /// Resumed from a checkpoint, a run ends with the same weights and metrics as one that was never interrupted
    /// (sampling seeds and prompt order derive from the step; the optimizer's moments come back), for a decoder and a
    /// T5 policy alike.
    func testResumeIsExact() throws {
        for policy in [Self.policy, Self.t5] {
            try assertResumeIsExact(policy: policy)
        }
    }

    private func assertResumeIsExact(policy: String) throws {
        let common = ["--save-every", "1", "--reward-fn", "length:4", "--beta", "0.04", "--num-iterations", "2", "--lr-schedule", "constant"]
        let straight = try temporaryDirectory().appendingPathComponent("straight")
        let full = try grpo(straight, common + ["--steps", "4"], policy: policy)
        XCTAssertEqual(full.status, 0, full.stderr)
        let resumed = try temporaryDirectory().appendingPathComponent("resumed")
        let first = try grpo(resumed, common + ["--steps", "2"], policy: policy)  // leaves checkpoint-1
        XCTAssertEqual(first.status, 0, first.stderr)
        let again = try grpo(resumed, common + ["--steps", "4", "--resume", "--allow-config-change"], policy: policy)
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stderr.contains("resuming at step 1 of 4"), again.stderr)
        XCTAssertEqual(try Data(contentsOf: straight.appendingPathComponent("model.safetensors")),
                       try Data(contentsOf: resumed.appendingPathComponent("model.safetensors")))
        XCTAssertEqual(try String(contentsOf: straight.appendingPathComponent("samples.jsonl"), encoding: .utf8),
                       try String(contentsOf: resumed.appendingPathComponent("samples.jsonl"), encoding: .utf8))
        let losses = { (out: URL) in try self.metrics(out).map { $0["loss"] as? Double } }
        XCTAssertEqual(try losses(straight), try losses(resumed))
    }
}
