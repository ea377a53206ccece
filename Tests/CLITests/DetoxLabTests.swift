import Foundation
import Tensor
import XCTest

/// docs/detox.md's commands on small checkpoints of the lab's architectures: a T5 v1.1 policy (FLAN-T5's layout)
/// fine-tuned to summarise dialogues with LoRA, merged, then PPO against a RoBERTa classifier's "nothate" logit, and
/// toxicity before and after from `rlhf eval --classifier … --label hate`.
final class DetoxLabTests: XCTestCase {
    static let policy = Fixture.models.appendingPathComponent("tiny-t5-v1_1")

    /// The lab's prompt around a dialogue.
    static func prompt(_ dialogue: String) -> String { "Summarize the following conversation.\n\n\(dialogue)\n\nSummary:" }

    /// Three-turn dialogues with a reference summary each (no randomness: the same files on every machine).
    static func dialogues(_ count: Int) -> [(dialogue: String, summary: String)] {
        let names = ["Amanda", "Tom", "Jerry", "Lena", "Omar", "Priya", "Kenji", "Sofia"]
        let lines = ["Did you finish the report?", "I'll bring the cake tomorrow.", "Why are you always late?", "Let's meet at the station.",
                     "That movie was terrible.", "Can you call mom later?", "I lost my keys again.", "The meeting moved to Friday."]
        return (0..<count).map { i in
            let (a, b) = (names[i % 8], names[(i * 3 + 1) % 8])
            let dialogue = "\(a): \(lines[i % 8])\n\(b): \(lines[(i + 3) % 8])\n\(a): \(lines[(i * 5 + 2) % 8])"
            return (dialogue, "\(a) and \(b) talk about plans.")
        }
    }

    /// A toy toxicity classifier: the random tiny RoBERTa classifier with its output layer made antisymmetric and
    /// sharpened (hate = −nothate, logits of a few units), so that its labels move oppositely with the text as a
    /// trained binary classifier's do. Random, it scores every text within ±0.05, too flat for a short run to climb.
    func toxicityClassifier() throws -> URL {
        let source = Fixture.models.appendingPathComponent("tiny-roberta-classifier")
        let directory = try temporaryDirectory().appendingPathComponent("toxicity")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        for file in ["config.json", "tokenizer.json", "tokenizer_config.json"] {
            try FileManager.default.copyItem(at: source.appendingPathComponent(file), to: directory.appendingPathComponent(file))
        }
        let weights = try SafetensorsCheckpoint(directory: source)
        let tensors = try weights.names.map { name -> (name: String, tensor: Tensor) in
            let tensor = try weights.tensor(name)
            guard name.hasPrefix("classifier.out_proj.") else { return (name, tensor) }
            let row = Array(tensor.scalars.prefix(tensor.count / 2)).map { $0 * 20 }
            return (name, try Tensor(shape: tensor.shape, scalars: row + row.map { -$0 }))
        }
        try Safetensors.write(tensors, metadata: ["format": "pt"], to: directory.appendingPathComponent("model.safetensors"))
        return directory
    }

    private func writeLines(_ objects: [[String: String]], to url: URL) throws {
        let lines = try objects.map { String(decoding: try JSONSerialization.data(withJSONObject: $0, options: .sortedKeys), as: UTF8.self) }
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: url)
    }

    func testDetoxCommandsRaiseTheClassifierRewardAndLowerToxicity() throws {
        let work = try temporaryDirectory()
        let (sftData, prompts, testPrompts) = (work.appendingPathComponent("sft.jsonl"), work.appendingPathComponent("prompts.jsonl"),
                                               work.appendingPathComponent("test-prompts.jsonl"))
        let examples = Self.dialogues(40)
        try writeLines(examples.prefix(32).map { ["prompt": Self.prompt($0.dialogue), "completion": $0.summary] }, to: sftData)
        try writeLines(examples.prefix(32).map { ["prompt": Self.prompt($0.dialogue)] }, to: prompts)
        try writeLines(examples.suffix(8).map { ["prompt": Self.prompt($0.dialogue)] }, to: testPrompts)
        let toxicity = try toxicityClassifier().path

        // 1. Instruction fine-tuning with LoRA on q, v (the lab's PEFT step), merged into a plain T5 directory.
        let (adapter, summariser) = (work.appendingPathComponent("adapter"), work.appendingPathComponent("summariser"))
        let sft = try runRLHF(["sft", "--model", Self.policy.path, "--data", sftData.path, "--out", adapter.path, "--lora-rank", "32",
                               "--lora-alpha", "32", "--lora-targets", "q,v", "--lr", "1e-3", "--epochs", "2", "--batch-size", "4",
                               "--no-tensorboard"])
        XCTAssertEqual(sft.status, 0, sft.stderr)
        let adapterConfig = try String(contentsOf: adapter.appendingPathComponent("adapter_config.json"), encoding: .utf8)
        XCTAssertTrue(adapterConfig.contains("SEQ_2_SEQ_LM"), adapterConfig)
        let merge = try runRLHF(["merge", "--model", Self.policy.path, "--adapter", adapter.path, "--out", summariser.path])
        XCTAssertEqual(merge.status, 0, merge.stderr)

        // 2. PPO against the classifier's "nothate" logit, KL to the summariser. Full fine-tuning here: rank-32 adapters
        // on a 64-wide model climb too slowly and unevenly across seeds for a short run (docs/detox.md uses LoRA).
        let detox = work.appendingPathComponent("detox")
        let ppo = try runRLHF(["ppo", "--policy", summariser.path, "--reward-classifier", toxicity, "--reward-label", "nothate",
                               "--prompts", prompts.path, "--out", detox.path, "--iterations", "24", "--batch-size", "16",
                               "--mini-batches", "4", "--ppo-epochs", "4", "--lr", "1e-3", "--kl-coef", "0.01", "--max-new-tokens", "12",
                               "--temperature", "1", "--seed", "2", "--no-tensorboard"])
        XCTAssertEqual(ppo.status, 0, ppo.stderr)
        let metrics = try String(contentsOf: detox.appendingPathComponent("metrics.jsonl"), encoding: .utf8).split(separator: "\n")
            .map { try XCTUnwrap(try JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]) }
        XCTAssertEqual(metrics.count, 24)
        let scores = try metrics.map { try XCTUnwrap($0["objective/scores"] as? Double) }
        let (first, last) = (scores.prefix(6).reduce(0, +) / 6, scores.suffix(6).reduce(0, +) / 6)
        print("detox: classifier reward \(first) over the first 6 iterations, \(last) over the last 6")
        XCTAssertGreaterThan(last, first + 0.5, "\(scores)")
        XCTAssertGreaterThan(try XCTUnwrap(metrics.last?["objective/kl"] as? Double), 0)
        XCTAssertTrue(exists(detox.appendingPathComponent("critic/config.json")))

        // 3. Toxicity before (the summariser) and after (the detoxified policy), on held-out dialogues.
        let eval = try runRLHF(["eval", "--model", detox.path, "--baseline", summariser.path, "--prompts", testPrompts.path,
                                "--reward-classifier", toxicity, "--reward-label", "nothate", "--classifier", toxicity, "--label", "hate",
                                "--temperature", "1", "--samples", "4", "--max-new-tokens", "12", "--json"])
        XCTAssertEqual(eval.status, 0, eval.stderr)
        let result = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(eval.stdout.utf8)) as? [String: Any])
        let hate = try ["baseline", "model"].map { side in
            let rates = try XCTUnwrap((result[side] as? [String: Any])?["label_rates"] as? [String: Any], eval.stdout)
            return try XCTUnwrap((rates["toxicity:hate"] as? [String: Any])?["mean_probability"] as? Double, eval.stdout)
        }
        print("detox: mean hate probability before \(hate[0]), after \(hate[1])")
        XCTAssertLessThan(hate[1], hate[0])
    }

    /// A T5 policy's PPO run with a classifier reward (its critic a value head on the policy's decoder) resumed from a
    /// checkpoint ends with the same policy, critic and logs as an uninterrupted run.
    func testT5PPOWithAClassifierRewardResumesExactly() throws {
        let work = try temporaryDirectory()
        let prompts = work.appendingPathComponent("prompts.jsonl")
        try writeLines(Self.dialogues(8).map { ["prompt": Self.prompt($0.dialogue)] }, to: prompts)
        let toxicity = try toxicityClassifier().path
        let ppo = { (out: URL, iterations: Int, extra: [String]) in
            try self.runRLHF(["ppo", "--policy", Self.policy.path, "--reward-classifier", toxicity, "--reward-label", "nothate",
                              "--prompts", prompts.path, "--out", out.path, "--iterations", "\(iterations)", "--batch-size", "4",
                              "--mini-batches", "2", "--ppo-epochs", "2", "--lr", "1e-3", "--max-new-tokens", "6", "--save-every", "1",
                              "--no-tensorboard"] + extra)
        }
        let (straight, resumed) = (work.appendingPathComponent("straight"), work.appendingPathComponent("resumed"))
        let full = try ppo(straight, 3, [])
        XCTAssertEqual(full.status, 0, full.stderr)
        let first = try ppo(resumed, 2, [])
        XCTAssertEqual(first.status, 0, first.stderr)
        let again = try ppo(resumed, 3, ["--resume"])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stderr.contains("resuming at step 1 of 3"), again.stderr)  // the last step is the saved model, not a checkpoint
        for file in ["model.safetensors", "critic/model.safetensors", "metrics.jsonl", "samples.jsonl"] {
            XCTAssertEqual(try Data(contentsOf: straight.appendingPathComponent(file)), try Data(contentsOf: resumed.appendingPathComponent(file)), file)
        }
    }
}
