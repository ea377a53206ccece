import Foundation
import XCTest

/// What a careful user or an attacker tried (issue #19): no command destroys a model, crashes on a crafted file or
/// flag, or trains on garbage without saying so. Every refusal is one line and exit code 1, never a signal.
final class HardeningTests: XCTestCase {
    /// A copy of a fixture model, so a test may try to damage it.
    private func copiedModel(_ name: String = "tiny-gpt2") throws -> URL {
        let copy = try temporaryDirectory().appendingPathComponent(name)
        try FileManager.default.copyItem(at: Fixture.models.appendingPathComponent(name), to: copy)
        return copy
    }

    /// Every file under `directory` with its bytes.
    private func snapshot(_ directory: URL) throws -> [String: Data] {
        let files = FileManager.default.enumerator(atPath: directory.path)!.compactMap { $0 as? String }
        return try Dictionary(uniqueKeysWithValues: files.filter { !$0.hasPrefix(".") }.compactMap { name in
            var isDirectory: ObjCBool = false
            FileManager.default.fileExists(atPath: directory.appendingPathComponent(name).path, isDirectory: &isDirectory)
            return isDirectory.boolValue ? nil : (name, try Data(contentsOf: directory.appendingPathComponent(name)))
        })
    }

    private func sft(_ model: URL, out: URL, _ extra: [String] = []) throws -> (status: Int32, stdout: String, stderr: String) {
        try runRLHF(["sft", "--model", model.path, "--data", Fixture.demonstrations, "--out", out.path, "--steps", "1",
                     "--batch-size", "2", "--eval-split", "0"] + extra)
    }

    /// One line on stderr (after any progress lines), exit code 1.
    private func assertRefused(_ result: (status: Int32, stdout: String, stderr: String), _ expected: String,
                               file: StaticString = #filePath, line: UInt = #line) {
        XCTAssertEqual(result.status, 1, result.stderr, file: file, line: line)
        let last = result.stderr.split(separator: "\n").last.map(String.init) ?? ""
        XCTAssertTrue(last.hasPrefix("Error: ") && last.contains(expected), result.stderr, file: file, line: line)
    }

    func testOutputOverTheInputModelIsRefusedAndLeavesItUntouched() throws {
        let model = try copiedModel()
        let before = try snapshot(model)
        for arguments in [["convert", "--model", model.path, "--out", model.path],
                          ["merge", "--model", model.path, "--adapter", model.path, "--out", model.path, "--overwrite"]] {
            assertRefused(try runRLHF(arguments), "is the input")
        }
        assertRefused(try sft(model, out: model), "is the input")
        assertRefused(try sft(model, out: model, ["--overwrite"]), "is the input")
        assertRefused(try runRLHF(["reward", "train", "--model", model.path, "--data", Fixture.pairs, "--out", model.path,
                                   "--steps", "1"]), "is the input")
        XCTAssertEqual(try snapshot(model), before, "every byte of the model is unchanged")
        // --overwrite clears the old run's files, so an input inside --out (a checkpoint, an adapter) is refused too.
        let parent = model.deletingLastPathComponent()
        assertRefused(try sft(model, out: parent, ["--overwrite"]), "holds the input \(model.path)")
        XCTAssertEqual(try snapshot(model), before)
    }

    func testAnotherModelDirectoryIsReplacedOnlyWithOverwrite() throws {
        let (model, other) = (try copiedModel(), try copiedModel("tiny-llama"))
        let before = try snapshot(other)
        assertRefused(try sft(model, out: other), "already holds a model: pass --overwrite")
        assertRefused(try runRLHF(["convert", "--model", model.path, "--out", other.path]), "already holds a model")
        assertRefused(try runRLHF(["tokenizer", "train", "--data", Fixture.demonstrations, "--vocab-size", "300", "--out", other.path]),
                      "already holds a model")
        XCTAssertEqual(try snapshot(other), before)
        let replaced = try sft(model, out: other, ["--overwrite"])
        XCTAssertEqual(replaced.status, 0, replaced.stderr)
        let config = try String(contentsOf: other.appendingPathComponent("config.json"), encoding: .utf8)
        XCTAssertTrue(config.contains("\"gpt2\""), "the llama directory now holds the fine-tuned gpt2")
        assertRefused(try sft(model, out: other), "already holds a model")  // a finished run is not overwritten unasked
    }

    func testASecondRunIntoAnOutputInUseIsRefused() throws {
        let out = try temporaryDirectory().appendingPathComponent("run")
        let process = Process()
        process.executableURL = productsDirectory.appendingPathComponent("rlhf")
        process.arguments = ["sft", "--model", Fixture.gpt2, "--data", Fixture.demonstrations, "--out", out.path, "--steps", "100000",
                             "--batch-size", "2", "--eval-split", "0"]
        process.standardError = FileHandle.nullDevice
        try process.run()
        defer { kill(process.processIdentifier, SIGKILL); process.waitUntilExit() }
        let deadline = Date().addingTimeInterval(60)
        while !exists(out.appendingPathComponent("metrics.jsonl")), Date() < deadline { usleep(10_000) }
        XCTAssertTrue(process.isRunning)
        assertRefused(try sft(URL(fileURLWithPath: Fixture.gpt2), out: out, ["--resume"]), "is in use by another job")
        assertRefused(try sft(URL(fileURLWithPath: Fixture.gpt2), out: out, ["--overwrite"]), "is in use by another job")
    }

    func testCraftedConfigsAndFlagsGetOneLineNotASignal() throws {
        for (key, value, expected) in [("n_layer", "-1", "n_layer must be positive (got -1)"),
                                       ("n_embd", "1000000000", "more than this machine's"),
                                       ("vocab_size", "1099511627776", "more than this machine's"),
                                       ("n_head", "3", "not divisible by n_head 3")] {
            let model = try copiedModel()
            let url = model.appendingPathComponent("config.json")
            var config = try XCTUnwrap(JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
            config[key] = Int(value)!
            try JSONSerialization.data(withJSONObject: config).write(to: url)
            assertRefused(try runRLHF(["generate", "--model", model.path, "--prompt", "Hi", "--max-new-tokens", "2"]), expected)
        }
        let model = URL(fileURLWithPath: Fixture.gpt2)
        let out = try temporaryDirectory().appendingPathComponent("run")
        assertRefused(try sft(model, out: out, ["--lora-rank", "100000"]), "rank 100000 is above the targeted layers' smallest dimension (64)")
        assertRefused(try sft(model, out: out, ["--lr", "1e6"]), "lr must be in (0, 1]")
    }

    func testADirectoryWithoutARewardHeadIsNotScoredAtRandom() throws {
        let prompts = try temporaryDirectory().appendingPathComponent("prompts.jsonl")
        try Data(#"{"prompt": "Hi"}"#.utf8).write(to: prompts)
        assertRefused(try runRLHF(["ppo", "--policy", Fixture.gpt2, "--reward", Fixture.gpt2, "--prompts", prompts.path,
                                   "--out", try temporaryDirectory().appendingPathComponent("ppo").path, "--iterations", "1"]),
                      "no reward head (score.weight)")
    }

    func testWindowsLineEndsAndBadBytesInJSONL() throws {
        let directory = try temporaryDirectory()
        let crlf = directory.appendingPathComponent("crlf.jsonl")
        let lines = try String(contentsOfFile: Fixture.demonstrations, encoding: .utf8).split(separator: "\n")
        try Data((lines.joined(separator: "\r\n") + "\r\n").utf8).write(to: crlf)
        let run = try runRLHF(["sft", "--model", Fixture.gpt2, "--data", crlf.path, "--out", directory.appendingPathComponent("a").path,
                               "--steps", "1", "--batch-size", "2", "--eval-split", "0"])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stderr.contains("3 training"), run.stderr)

        let latin1 = directory.appendingPathComponent("latin1.jsonl")
        try (Data((lines[0] + "\n").utf8) + Data(#"{"prompt": "caf"#.utf8) + Data([0xE9]) + Data(#"", "completion": " x"}"#.utf8)).write(to: latin1)
        assertRefused(try runRLHF(["sft", "--model", Fixture.gpt2, "--data", latin1.path, "--out", directory.appendingPathComponent("b").path]),
                      "\(latin1.path):2: not UTF-8 text")
    }

    func testExamplesLongerThanTheModelAreCutToItsPositions() throws {
        let data = try temporaryDirectory().appendingPathComponent("long.jsonl")
        let long = String(repeating: " word", count: 400)
        try Data(#"{"prompt": "Say it.", "completion": "\#(long)"}"#.utf8 + [0x0A]).write(to: data)
        let run = try runRLHF(["sft", "--model", Fixture.gpt2, "--data", data.path, "--out", try temporaryDirectory().appendingPathComponent("r").path,
                               "--steps", "1", "--batch-size", "1", "--eval-split", "0"])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertTrue(run.stderr.contains("max_length 1024 is past the model's 128 positions: examples are cut to 128 tokens"), run.stderr)
    }

    func testAnUnreadableNewestCheckpointFallsBackToThePreviousOne() throws {
        let out = try temporaryDirectory().appendingPathComponent("run")
        let model = URL(fileURLWithPath: Fixture.gpt2)
        XCTAssertEqual(try sft(model, out: out, ["--steps", "3", "--save-every", "1"]).status, 0)  // checkpoints at steps 1 and 2
        try Data("{\"step\": ".utf8).write(to: out.appendingPathComponent("checkpoint-000002/trainer_state.json"))
        let resumed = try sft(model, out: out, ["--steps", "3", "--save-every", "1", "--resume"])
        XCTAssertEqual(resumed.status, 0, resumed.stderr)
        XCTAssertTrue(resumed.stderr.contains("checkpoint-000002: its trainer_state.json does not read; resuming from checkpoint-000001"),
                      resumed.stderr)
        XCTAssertTrue(resumed.stderr.contains("resuming at step 1 of 3"), resumed.stderr)
    }
}
