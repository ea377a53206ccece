import Foundation
import Tensor
import XCTest

/// Runs the built `rlhf` binary as a user would.
final class CLITests: XCTestCase {
    func testVersion() throws {
        let result = try runRLHF(["--version"])
        XCTAssertEqual(result.status, 0)
        XCTAssertTrue(result.stdout.range(of: #"^\d+\.\d+\.\d+\s*$"#, options: .regularExpression) != nil, result.stdout)
    }

    func testBenchEngineJSONReportsThroughputAndMFU() throws {
        let result = try runRLHF(["bench", "engine", "--preset", "tiny", "--steps", "1", "--batch-size", "2", "--json"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let object = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        let gflops = try XCTUnwrap(object["gflops"] as? Double)
        let mfu = try XCTUnwrap(object["mfu"] as? Double)
        let tokensPerSecond = try XCTUnwrap(object["tokens_per_second"] as? Double)
        let parameters = try XCTUnwrap(object["parameters"] as? Int)
        XCTAssertGreaterThan(gflops, 0)
        XCTAssertGreaterThan(tokensPerSecond, 0)
        // MFU is derived from the other figures exactly as documented.
        XCTAssertEqual(mfu, 6 * Double(parameters) * tokensPerSecond / (gflops * 1e9), accuracy: 1e-9)
        // tiny preset: 2 layers of width 128 with vocab 1024 and 64 positions.
        let perLayer = 12 * 128 * 128 + 13 * 128
        XCTAssertEqual(parameters, 1024 * 128 + 64 * 128 + 2 * perLayer + 2 * 128)
        XCTAssertTrue((object["loss"] as? Double).map { $0.isFinite && $0 > 0 } ?? false)
    }

    func testBadFlagFailsWithOneClearLine() throws {
        let result = try runRLHF(["bench", "engine", "--steps", "0"])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("must be positive"), result.stderr)
    }

    // MARK: Model commands on the transformers-made fixtures

    private static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("ModelsTests/Fixtures")

    private func reference(_ model: String) throws -> [String: Any] {
        let data = try Data(contentsOf: Self.fixtures.appendingPathComponent("\(model)/reference.json"))
        return try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    private func jsonOutput(_ arguments: [String]) throws -> [String: Any] {
        let result = try runRLHF(arguments)
        XCTAssertEqual(result.status, 0, result.stderr)
        return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any], result.stdout)
    }

    func testTokenizeGeneratePerplexityMatchTransformers() throws {
        for model in ["tiny-gpt2", "tiny-llama"] {
            let directory = Self.fixtures.appendingPathComponent(model).path
            let texts = try XCTUnwrap(reference(model)["texts"] as? [[String: Any]])
            let text = try XCTUnwrap(texts[1]["text"] as? String)
            let file = FileManager.default.temporaryDirectory.appendingPathComponent("rlhf-cli-\(UUID().uuidString).txt")
            try Data(text.utf8).write(to: file)
            let ids = try jsonOutput(["tokenize", "--model", directory, "--file", file.path, "--json"])["ids"] as? [Int]
            XCTAssertEqual(ids, texts[1]["input_ids"] as? [Int], model)

            let perplexity = try jsonOutput(["perplexity", "--model", directory, "--file", file.path, "--json"])
            let expected = try XCTUnwrap(texts[1]["perplexity"] as? Double)
            XCTAssertEqual(try XCTUnwrap(perplexity["perplexity"] as? Double), expected, accuracy: 1e-4 * expected, model)

            let greedy = try XCTUnwrap((reference(model)["greedy"] as? [[String: Any]])?.first)
            let prompt = try XCTUnwrap(greedy["prompt"] as? String)
            let generated = try jsonOutput(["generate", "--model", directory, "--prompt", prompt, "--max-new-tokens", "32",
                                            "--temperature", "0", "--json"])
            XCTAssertEqual(generated["prompt_ids"] as? [Int], greedy["prompt_ids"] as? [Int], model)
            XCTAssertEqual(generated["ids"] as? [Int], greedy["output_ids"] as? [Int], model)
        }
    }

    func testBadModelDirectoryFailsWithOneClearLine() throws {
        let result = try runRLHF(["generate", "--model", "/nonexistent", "--prompt", "hi"])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("/nonexistent/config.json"), result.stderr)
    }

    // MARK: Training runs

    private static let sftData = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("AlignmentTests/Fixtures/sft-sgd-step/data.jsonl")


    private func sftArguments(out: URL) -> [String] {
        ["sft", "--model", Self.fixtures.appendingPathComponent("tiny-qwen2").path, "--data", Self.sftData.path,
         "--out", out.path, "--steps", "40", "--batch-size", "2", "--lr", "1e-3", "--save-every", "5", "--eval-split", "0"]
    }

    /// A run killed with SIGKILL and resumed ends with exactly the weights of an uninterrupted run, and every
    /// checkpoint on disk after the kill is complete.
    func testKilledSFTRunResumesToTheSameWeights() throws {
        let straight = try temporaryDirectory().appendingPathComponent("run")
        XCTAssertEqual(try runRLHF(sftArguments(out: straight)).status, 0)

        let killed = try temporaryDirectory().appendingPathComponent("run")
        try killRLHF(sftArguments(out: killed)) { self.exists(killed.appendingPathComponent("checkpoint-000010")) }
        for name in try FileManager.default.contentsOfDirectory(atPath: killed.path) where name.hasPrefix("checkpoint-") {
            for file in ["trainer_state.json", "optimizer.safetensors", "model.safetensors", "config.json"] {
                XCTAssertTrue(FileManager.default.fileExists(atPath: killed.appendingPathComponent("\(name)/\(file)").path), "\(name)/\(file)")
            }
        }
        let resumed = try runRLHF(sftArguments(out: killed) + ["--resume"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertTrue(resumed.stderr.contains("resuming at step"), resumed.stderr)
        XCTAssertEqual(try Data(contentsOf: killed.appendingPathComponent("model.safetensors")),
                       try Data(contentsOf: straight.appendingPathComponent("model.safetensors")))
    }

    /// The issue's exact command: one SGD step writes PyTorch's weights within 1e-4.
    func testOneSFTStepFromTheCommandLineMatchesPyTorch() throws {
        let out = try temporaryDirectory().appendingPathComponent("step")
        let result = try runRLHF(["sft", "--model", Self.fixtures.appendingPathComponent("tiny-qwen2").path,
                                  "--data", Self.sftData.path, "--out", out.path, "--steps", "1", "--optimizer", "sgd",
                                  "--lr", "0.1", "--lr-schedule", "constant", "--max-grad-norm", "0", "--weight-decay", "0",
                                  "--eval-split", "0", "--no-shuffle"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let written = try SafetensorsFile(contentsOf: out.appendingPathComponent("model.safetensors"))
        let expected = try SafetensorsFile(contentsOf: Self.sftData.deletingLastPathComponent().appendingPathComponent("expected.safetensors"))
        XCTAssertEqual(Set(written.names), Set(expected.names))
        for name in expected.names {
            let difference = zip(try written.tensor(name).scalars, try expected.tensor(name).scalars).map { abs($0 - $1) }.max() ?? 0
            XCTAssertLessThanOrEqual(difference, 1e-4, name)
        }
    }

    func testRewardPairsMissingRejectedFailsAtItsLine() throws {
        let data = try temporaryDirectory().appendingPathComponent("pairs.jsonl")
        let good = #"{"prompt": "p", "chosen": "a", "rejected": "b"}"#
        try Data([good, good, #"{"prompt": "p", "chosen": "a"}"#].joined(separator: "\n").utf8).write(to: data)
        let out = try temporaryDirectory().appendingPathComponent("never")
        let result = try runRLHF(["reward", "train", "--model", Self.fixtures.appendingPathComponent("tiny-gpt2").path,
                                  "--data", data.path, "--out", out.path])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("\(data.path):3: missing field \"rejected\""), result.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.path))
    }

    func testRewardTrainAndScoreFromTheCommandLine() throws {
        let pairs = Self.fixtures.deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("AlignmentTests/Fixtures/reward-rule/pairs.jsonl")
        let out = try temporaryDirectory().appendingPathComponent("reward")
        let trained = try runRLHF(["reward", "train", "--model", Self.fixtures.appendingPathComponent("tiny-gpt2").path,
                                   "--data", pairs.path, "--out", out.path, "--steps", "40", "--lr", "2e-3", "--max-length", "64"])
        XCTAssertEqual(trained.status, 0, trained.stderr)
        XCTAssertTrue(trained.stderr.contains("eval_accuracy"), trained.stderr)
        let scored = try jsonOutput(["reward", "score", "--model", out.path, "--data", pairs.path, "--json"])
        XCTAssertGreaterThanOrEqual(try XCTUnwrap(scored["accuracy"] as? Double), 0.9)
    }

    private static let ppoPolicy = fixtures.appendingPathComponent("tiny-gpt2").path
    private static let ppoReward = fixtures.appendingPathComponent("tiny-gpt2-reward").path

    /// Six prompts in a fresh JSONL file.
    private func ppoPrompts() throws -> URL {
        let prompts = try temporaryDirectory().appendingPathComponent("prompts.jsonl")
        try Data((0..<6).map { #"{"prompt": "Question \#($0)?"}"# }.joined(separator: "\n").utf8).write(to: prompts)
        return prompts
    }

    /// `rlhf ppo` on the tiny GPT-2 policy and its reward model, 3 prompts and 6 new tokens an iteration,
    /// a checkpoint every 2 iterations.
    private func ppoArguments(prompts: URL, out: URL) -> [String] {
        ["ppo", "--policy", Self.ppoPolicy, "--reward", Self.ppoReward, "--prompts", prompts.path, "--out", out.path,
         "--batch-size", "3", "--max-new-tokens", "6", "--save-every", "2", "--lr", "1e-3"]
    }

    /// PPO end to end from the command line: metrics with TRL's names, checkpoints, a resumed continuation,
    /// and an evaluation of the result against its starting point.
    func testPPOThenResumeThenEval() throws {
        let prompts = try ppoPrompts()
        let out = try temporaryDirectory().appendingPathComponent("ppo")
        let (policy, reward) = (Self.ppoPolicy, Self.ppoReward)
        let common = ppoArguments(prompts: prompts, out: out)
        let first = try runRLHF(common + ["--iterations", "3"])
        XCTAssertEqual(first.status, 0, first.stderr)
        let again = try runRLHF(common + ["--iterations", "3"])
        XCTAssertNotEqual(again.status, 0, "a finished run is not silently overwritten")
        let resumed = try runRLHF(common + ["--iterations", "5", "--resume"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertTrue(resumed.stderr.contains("resuming at step 2 of 5"), resumed.stderr)
        let lines = try String(contentsOf: out.appendingPathComponent("metrics.jsonl"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 5, "iterations 1–2 from the checkpoint, 3–5 from the resumed run")
        for key in ["objective/kl", "objective/scores", "policy/clipfrac_avg", "policy/entropy_avg", "loss/value_avg", "val/ratio"] {
            XCTAssertTrue(lines.allSatisfy { $0.contains("\"\(key)\"") }, key)
        }
        let evaluation = try jsonOutput(["eval", "--model", out.path, "--baseline", policy, "--reward", reward,
                                         "--prompts", prompts.path, "--max-new-tokens", "6", "--json"])
        XCTAssertEqual(evaluation["prompts"] as? Int, 6)
        XCTAssertNotNil(evaluation["win_rate"] as? Double)
    }

    /// LoRA PPO that starts from an SFT adapter: `rlhf sft --lora-rank` writes the adapter, `rlhf ppo --adapter`
    /// trains it further against a reference that is the base with the adapter as it started (KL 0 at the first
    /// iteration, though the adapter is not zero), and writes the trained adapter and the merged policy.
    func testPPOFromAnSFTAdapter() throws {
        let root = try temporaryDirectory()
        let sft = root.appendingPathComponent("sft-lora")
        let trained = try runRLHF(["sft", "--model", Self.ppoPolicy, "--data", Self.sftData.path, "--out", sft.path, "--steps", "6",
                                   "--batch-size", "2", "--lr", "5e-2", "--eval-split", "0", "--lora-rank", "4"])
        XCTAssertEqual(trained.status, 0, trained.stderr)
        let out = root.appendingPathComponent("ppo")
        let run = try runRLHF(ppoArguments(prompts: try ppoPrompts(), out: out) + ["--adapter", sft.path, "--iterations", "2"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let first = try String(contentsOf: out.appendingPathComponent("metrics.jsonl"), encoding: .utf8).split(separator: "\n")[0]
        let kl = try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(first.utf8)) as? [String: Any])?["objective/kl"] as? Double)
        XCTAssertEqual(kl, 0, accuracy: 1e-4)
        XCTAssertTrue(exists(out.appendingPathComponent("adapter/adapter_model.safetensors")))
        XCTAssertNotEqual(try Data(contentsOf: out.appendingPathComponent("adapter/adapter_model.safetensors")),
                          try Data(contentsOf: sft.appendingPathComponent("adapter_model.safetensors")))
        let both = try runRLHF(ppoArguments(prompts: try ppoPrompts(), out: root.appendingPathComponent("x"))
                               + ["--adapter", sft.path, "--lora-rank", "4"])
        XCTAssertNotEqual(both.status, 0)
    }

    /// The issue's requirement: a PPO run killed with SIGKILL and resumed continues from its last checkpoint with
    /// its optimizer and KL-controller state, ending byte for byte where an uninterrupted run ends: policy, critic,
    /// metrics.jsonl (β of the adaptive controller at every iteration included) and samples.jsonl. The kill comes
    /// once an iteration past checkpoint 2 has been logged, so the resumed run must also drop those lines.
    func testKilledPPORunResumesToTheSameRun() throws {
        let prompts = try ppoPrompts()
        let iterations = 20
        // An adaptive KL controller with a short horizon, so that β moves visibly and its state matters.
        let arguments = { (out: URL) in
            self.ppoArguments(prompts: prompts, out: out)
                + ["--iterations", "\(iterations)", "--kl-target", "0.02", "--kl-horizon", "30", "--ent-coef", "0.01"]
        }
        let straight = try temporaryDirectory().appendingPathComponent("ppo")
        let reference = try runRLHF(arguments(straight))
        XCTAssertEqual(reference.status, 0, reference.stderr)

        let killed = try temporaryDirectory().appendingPathComponent("ppo")
        let samples = killed.appendingPathComponent("samples.jsonl")
        try killRLHF(arguments(killed)) {
            guard self.exists(killed.appendingPathComponent("checkpoint-000002")) else { return false }
            return try String(contentsOf: samples, encoding: .utf8).split(separator: "\n").count >= 3
        }
        let checkpoints = try FileManager.default.contentsOfDirectory(atPath: killed.path)
            .filter { $0.hasPrefix("checkpoint-") }.compactMap { Int($0.dropFirst("checkpoint-".count)) }
        let last = try XCTUnwrap(checkpoints.max())
        XCTAssertLessThan(last, iterations)
        let resumed = try runRLHF(arguments(killed) + ["--resume"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertTrue(resumed.stderr.contains("resuming at step \(last) of \(iterations)"), resumed.stderr)

        for file in ["model.safetensors", "critic/model.safetensors", "metrics.jsonl", "samples.jsonl"] {
            XCTAssertEqual(try Data(contentsOf: killed.appendingPathComponent(file)),
                           try Data(contentsOf: straight.appendingPathComponent(file)), file)
        }
        let lines = try String(contentsOf: straight.appendingPathComponent("metrics.jsonl"), encoding: .utf8).split(separator: "\n")
        let betas = try lines.map { line in
            try XCTUnwrap((try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])?["objective/kl_coef"] as? Double)
        }
        XCTAssertEqual(betas.count, iterations)
        XCTAssertEqual(Set(betas).count, iterations, "β changes every iteration: \(betas)")
    }

    func testCompleteWritesKCompletionsPerPromptForLabeling() throws {
        let prompts = try temporaryDirectory().appendingPathComponent("prompts.jsonl")
        try Data([#"{"prompt": "Once upon a time", "id": "a"}"#, #"{"prompt": "def add(a, b):"}"#, #"{"prompt": "Hello"}"#]
            .joined(separator: "\n").utf8).write(to: prompts)
        let out = try temporaryDirectory().appendingPathComponent("completions.jsonl")
        let result = try runRLHF(["complete", "--model", Self.fixtures.appendingPathComponent("tiny-gpt2").path,
                                  "--prompts", prompts.path, "-n", "3", "--out", out.path, "--max-new-tokens", "6",
                                  "--batch-prompts", "2"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let lines = try String(contentsOf: out, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 3)
        let first = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(lines[0].utf8)) as? [String: Any])
        XCTAssertEqual(first["id"] as? String, "a")
        XCTAssertEqual(first["prompt"] as? String, "Once upon a time")
        let completions = try XCTUnwrap(first["completions"] as? [String])
        XCTAssertEqual(completions.count, 3)
        XCTAssertGreaterThan(Set(completions).count, 1, "each row samples with its own seed")
        let third = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(lines[2].utf8)) as? [String: Any])
        XCTAssertEqual(third["id"] as? String, "3")
    }

    func testBadDataFailsBeforeWritingAnything() throws {
        let data = try temporaryDirectory().appendingPathComponent("bad.jsonl")
        try Data("{\"prompt\": \"a\", \"completion\": \"b\"}\n{\"prompt\": \"c\"}\n".utf8).write(to: data)
        let out = try temporaryDirectory().appendingPathComponent("never")
        let result = try runRLHF(["sft", "--model", Self.fixtures.appendingPathComponent("tiny-qwen2").path, "--data", data.path,
                                  "--out", out.path])
        XCTAssertNotEqual(result.status, 0)
        XCTAssertTrue(result.stderr.contains("\(data.path):2: missing field \"completion\""), result.stderr)
        XCTAssertFalse(FileManager.default.fileExists(atPath: out.path))
    }

    /// `rlhf demo --quick` runs every stage of the pipeline and writes what the issue lists: every model
    /// directory, summary.json with every stage, three labelers' judgments and every evaluated model, and the
    /// report; a second run refuses the used directory, and --resume skips every finished stage.
    func testQuickDemoRunsThePipelineAndResumes() throws {
        let out = try temporaryDirectory().appendingPathComponent("demo")
        let run = try runRLHF(["demo", "--quick", "--out", out.path])
        XCTAssertEqual(run.status, 0, run.stderr)
        for model in ["sft", "reward", "policy", "dpo", "grpo", "ablation-kl0"] {
            XCTAssertTrue(exists(out.appendingPathComponent("\(model)/config.json")), model)
            XCTAssertTrue(exists(out.appendingPathComponent("\(model)/model.safetensors")), model)
        }
        let summary = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("summary.json")))
                                    as? [String: Any])
        let stages = try XCTUnwrap(summary["stages"] as? [[String: Any]]).compactMap { $0["name"] as? String }
        XCTAssertEqual(stages, ["tokenizer", "pretrain", "sft", "complete", "project", "import", "label", "stats", "export",
                                "reward", "ppo", "ppo β=0", "dpo", "grpo", "eval"])
        XCTAssertEqual(summary["judgments"] as? Int, 3 * (summary["labelingItems"] as? Int ?? 0))
        let labelers = try XCTUnwrap(summary["labelers"] as? [[String: Any]])
        XCTAssertEqual(labelers.compactMap { $0["reliableBySimulation"] as? Bool }, [true, true, false])
        XCTAssertEqual(try XCTUnwrap(summary["results"] as? [[String: Any]]).compactMap { $0["name"] as? String },
                       ["sft", "policy", "dpo", "grpo", "ablation-kl0"])
        XCTAssertGreaterThan(summary["preferencePairs"] as? Int ?? 0, 0)
        let report = try String(contentsOf: out.appendingPathComponent("report.html"), encoding: .utf8)
        XCTAssertTrue(report.contains("RLHFKit demo report") && report.contains("<svg"))
        XCTAssertFalse(report.unicodeScalars.contains { $0.value < 0x20 && !"\n\t\r".unicodeScalars.contains($0) },
                       "the quick model's gibberish reaches the page without control characters")
        XCTAssertTrue(run.stdout.contains("rubric score") && run.stdout.contains("Verdict"), run.stdout)

        let again = try runRLHF(["demo", "--quick", "--out", out.path])
        XCTAssertNotEqual(again.status, 0)
        XCTAssertTrue(again.stderr.contains("--resume"), again.stderr)
        let resumed = try runRLHF(["demo", "--quick", "--out", out.path, "--resume"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertEqual(resumed.stderr.components(separatedBy: "done by an earlier run, skipped").count - 1, stages.count - 1)
    }

    /// `rlhf demo --quick --feedback ai` adds the RLAIF stages: a judge taught by the first items' human consensus, a
    /// second project ranked by the humans and the AI labeler, reward and PPO from its labels alone, and a report
    /// with the AI labeler's agreement and the AI-feedback policy beside the human one; it resumes like the other.
    func testQuickDemoWithAIFeedback() throws {
        let out = try temporaryDirectory().appendingPathComponent("demo-ai")
        let run = try runRLHF(["demo", "--quick", "--feedback", "ai", "--out", out.path])
        XCTAssertEqual(run.status, 0, run.stderr)
        let summary = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: out.appendingPathComponent("summary.json")))
                                    as? [String: Any])
        let stages = try XCTUnwrap(summary["stages"] as? [[String: Any]]).compactMap { $0["name"] as? String }
        XCTAssertEqual(stages, ["tokenizer", "pretrain", "sft", "complete", "project", "import", "label", "stats", "export", "reward", "ppo",
                                "judge", "ai project", "ai import", "ai project labels", "ai-label", "ai export", "reward (AI labels)",
                                "ppo (AI feedback)", "eval"])
        XCTAssertEqual(try XCTUnwrap(summary["results"] as? [[String: Any]]).compactMap { $0["name"] as? String },
                       ["sft", "policy", "policy-ai"])
        let ai = try XCTUnwrap(summary["aiFeedback"] as? [String: Any])
        XCTAssertEqual(ai["items"] as? Int, 6)
        XCTAssertEqual(try XCTUnwrap(ai["agreement"] as? [[String: Any]]).compactMap { $0["name"] as? String }, ["ada", "ben", "cy"])
        XCTAssertGreaterThan(ai["judgeComparisons"] as? Int ?? 0, 0)
        let judgeRows = try String(contentsOf: out.appendingPathComponent("data/judge.jsonl"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(judgeRows.count, 2 * (ai["judgeComparisons"] as? Int ?? 0), "each comparison asked in both orders")
        for skipped in ["ablation-kl0", "dpo", "grpo"] { XCTAssertFalse(exists(out.appendingPathComponent(skipped)), skipped) }
        XCTAssertTrue(exists(out.appendingPathComponent("policy-ai/model.safetensors")))
        let report = try String(contentsOf: out.appendingPathComponent("report.html"), encoding: .utf8)
        XCTAssertTrue(report.contains("<h2>AI feedback</h2>") && report.contains("PPO, AI feedback"), report)
        XCTAssertTrue(run.stdout.contains("PPO from AI feedback"), run.stdout)
        let resumed = try runRLHF(["demo", "--quick", "--feedback", "ai", "--out", out.path, "--resume"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertEqual(resumed.stderr.components(separatedBy: "done by an earlier run, skipped").count - 1, stages.count - 1)
    }
}
