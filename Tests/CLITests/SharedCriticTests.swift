import Foundation
import XCTest

/// `rlhf ppo --critic shared` from the command line: LoRA and a head on the policy's trunk, the critic saved as that
/// head alone, and a resumed run that ends byte for byte where an uninterrupted one does.
final class SharedCriticTests: XCTestCase {
    func testSharedCriticRunSavesTheHeadAndResumesExactly() throws {
        let work = try temporaryDirectory()
        let prompts = work.appendingPathComponent("prompts.jsonl")
        try Data((["Hello there", "What is up", "Tell me a story", "Say something kind"].map { "{\"prompt\": \"\($0)\"}" }
                  .joined(separator: "\n") + "\n").utf8).write(to: prompts)
        let ppo = { (out: URL, iterations: Int, extra: [String]) in
            try self.runRLHF(["ppo", "--policy", Fixture.gpt2, "--reward", Fixture.gpt2Reward, "--prompts", prompts.path, "--out", out.path,
                              "--iterations", "\(iterations)", "--batch-size", "4", "--mini-batches", "2", "--max-new-tokens", "6",
                              "--lr", "1e-3", "--lora-rank", "4", "--critic", "shared", "--save-every", "1", "--no-tensorboard"] + extra)
        }
        let (straight, resumed) = (work.appendingPathComponent("straight"), work.appendingPathComponent("resumed"))
        let full = try ppo(straight, 3, [])
        XCTAssertEqual(full.status, 0, full.stderr)
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: straight.appendingPathComponent("critic").path), ["model.safetensors"])
        XCTAssertEqual(try ppo(resumed, 2, []).status, 0)
        let again = try ppo(resumed, 3, ["--resume"])
        XCTAssertEqual(again.status, 0, again.stderr)
        for file in ["model.safetensors", "adapter/adapter_model.safetensors", "critic/model.safetensors", "metrics.jsonl", "samples.jsonl"] {
            XCTAssertEqual(try Data(contentsOf: straight.appendingPathComponent(file)), try Data(contentsOf: resumed.appendingPathComponent(file)), file)
        }
        let changed = try ppo(resumed, 4, ["--resume", "--critic", "separate"])
        XCTAssertNotEqual(changed.status, 0, "a resume with the other critic is refused")
        XCTAssertTrue(changed.stderr.contains("critic"), changed.stderr)
    }
}
