import Foundation
import XCTest

/// `rlhf bench-align` from the command line: `--limit` and `--json` on every benchmark, a before/after table, RTP end to
/// end with an encoder classifier (another tokenizer than the model's), and one-line errors for malformed data.
final class BenchAlignCommandTests: XCTestCase {
    static let data = Fixture.tests.appendingPathComponent("AlignmentTests/Fixtures/bench-align")
    static let llama = Fixture.models.appendingPathComponent("tiny-llama").path
    static let classifier = Fixture.models.appendingPathComponent("tiny-roberta-classifier").path

    private func json(_ run: (status: Int32, stdout: String, stderr: String)) throws -> [String: Any] {
        XCTAssertEqual(run.status, 0, run.stderr)
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any], run.stdout)
    }

    func testLimitAndJSONOnEveryBenchmark() throws {
        let truthful = try json(try runRLHF(["bench-align", "truthfulqa", "--model", Fixture.gpt2, "--baseline", Self.llama, "--data",
                                             Self.data.appendingPathComponent("truthfulqa/mc_task.json").path, "--limit", "5", "--json"]))
        XCTAssertEqual(truthful["items"] as? Int, 5)
        XCTAssertEqual((truthful["model_items"] as? [Any])?.count, 5)
        XCTAssertEqual((truthful["baseline_items"] as? [Any])?.count, 5)
        let mc1 = try XCTUnwrap(truthful["mc1"] as? [String: Any])
        XCTAssertNotNil(mc1["difference"], "\(mc1)")

        let bbq = try json(try runRLHF(["bench-align", "bbq", "--model", Fixture.gpt2, "--data", Self.data.appendingPathComponent("bbq").path,
                                        "--limit", "8", "--json"]))
        XCTAssertEqual(bbq["items"] as? Int, 8)
        XCTAssertEqual(((bbq["model_items"] as? [[String: Any]])?.first?["log_likelihoods"] as? [Double])?.count, 12)
        XCTAssertNil(bbq["baseline_items"] as? [Any])

        let rtp = try json(try runRLHF(["bench-align", "rtp", "--model", Fixture.gpt2, "--baseline", Self.llama, "--data",
                                        Self.data.appendingPathComponent("rtp/prompts.jsonl").path, "--classifier", Self.classifier,
                                        "--label", "hate", "--samples", "3", "--max-new-tokens", "6", "--limit", "4", "--json"]))
        let items = try XCTUnwrap(rtp["model_items"] as? [[String: Any]])
        XCTAssertEqual(items.count, 4)
        for item in items {
            let toxicity = try XCTUnwrap(item["toxicity"] as? [Double])
            XCTAssertEqual(toxicity.count, 3)
            XCTAssertTrue(toxicity.allSatisfy { (0...1).contains($0) }, "\(toxicity)")
            XCTAssertEqual(item["max_toxicity"] as? Double, toxicity.max())
        }
        let all = try XCTUnwrap(rtp["all"] as? [String: Any])
        XCTAssertEqual(all["prompts"] as? Int, 4)
        let expected = try XCTUnwrap((all["expected_max_toxicity"] as? [String: Any])?["model"] as? [String: Any])
        XCTAssertEqual(try XCTUnwrap(expected["value"] as? Double), items.map { $0["max_toxicity"] as! Double }.reduce(0, +) / 4, accuracy: 1e-9)
    }

    func testTablesShowBaselineModelAndDifference() throws {
        let run = try runRLHF(["bench-align", "bbq", "--model", Fixture.gpt2, "--baseline", Self.llama, "--data",
                               Self.data.appendingPathComponent("bbq/Age.jsonl").path])
        XCTAssertEqual(run.status, 0, run.stderr)
        for text in ["baseline", "model", "difference", "bias, ambiguous", "bias, disambiguated", "Age: bias", "chance accuracy"] {
            XCTAssertTrue(run.stdout.contains(text), run.stdout)
        }
    }

    func testMalformedDataIsOneLineWithFileAndLine() throws {
        let directory = try temporaryDirectory()
        let bbq = directory.appendingPathComponent("Age.jsonl")
        let good = try String(contentsOf: Self.data.appendingPathComponent("bbq/Age.jsonl"), encoding: .utf8).split(separator: "\n")[0]
        try Data((good + "\n" + good.replacingOccurrences(of: "\"context_condition\": \"ambig\"", with: "\"context_condition\": \"vague\"") + "\n").utf8)
            .write(to: bbq)
        let prompts = directory.appendingPathComponent("prompts.jsonl")
        try Data("{\"prompt\": {\"text\": \"Hi\"}}\nnot json\n".utf8).write(to: prompts)
        let truthful = directory.appendingPathComponent("mc_task.json")
        try Data("[\n {\"question\": \"Q?\",\n  \"mc1_targets\": {\"a\": 1, \"b\": 0},\n  \"mc2_targets\": {\"a\": 2}}\n]\n".utf8).write(to: truthful)
        let cases: [([String], String)] = [
            (["bbq", "--data", bbq.path], "\(bbq.path):2: field \"context_condition\""),
            (["rtp", "--data", prompts.path, "--classifier", Self.classifier, "--label", "hate"], "\(prompts.path):2:"),
            (["truthfulqa", "--data", truthful.path], "\(truthful.path):2: mc2_targets: labels must be 0 or 1"),
        ]
        for (arguments, expected) in cases {
            let run = try runRLHF(["bench-align"] + [arguments[0], "--model", Fixture.gpt2] + arguments.dropFirst())
            XCTAssertNotEqual(run.status, 0)
            XCTAssertEqual(run.stderr.trimmingCharacters(in: .newlines).split(separator: "\n").count, 1, run.stderr)
            XCTAssertTrue(run.stderr.contains(expected), "\(run.stderr) lacks \(expected)")
        }
    }
}
