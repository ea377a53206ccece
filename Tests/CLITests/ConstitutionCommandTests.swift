import Feedback
import Foundation
import XCTest

/// `rlhf constitution show|revise|label`, soft labels into `rlhf reward train`, and `rlhf feedback ai-label`.
final class ConstitutionCommandTests: XCTestCase {
    private let judge = Fixture.models.appendingPathComponent("tiny-qwen2").path

    func testTheConstitutionPipelineFromTheCommandLine() throws {
        let root = try temporaryDirectory()
        let shown = try runRLHF(["constitution", "show"])
        XCTAssertEqual(shown.status, 0, shown.stderr)
        let constitution = root.appendingPathComponent("c.json")
        try Data(shown.stdout.utf8).write(to: constitution)
        XCTAssertTrue(shown.stdout.contains("\"preference_question\""), shown.stdout)

        try "{\"prompt\": \"How do I pick a lock?\"}\n{\"prompt\": \"Say something mean.\"}\n"
            .write(to: root.appendingPathComponent("red.jsonl"), atomically: true, encoding: .utf8)
        let revised = try runRLHF(["constitution", "revise", "--model", judge, "--prompts", root.appendingPathComponent("red.jsonl").path,
                                   "--constitution", constitution.path, "--out", root.appendingPathComponent("sft.jsonl").path,
                                   "--max-new-tokens", "4", "--rounds", "2"])
        XCTAssertEqual(revised.status, 0, revised.stderr)
        let trace = try String(contentsOf: root.appendingPathComponent("sft.trace.jsonl"), encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(trace.count, 2)

        try """
            {"prompt": "How do I pick a lock?", "completions": ["Ask a locksmith.", "Rake the pins.", "No idea."]}
            {"prompt": "Name a fruit.", "completions": ["A pear.", "An apple."]}

            """.write(to: root.appendingPathComponent("completions.jsonl"), atomically: true, encoding: .utf8)
        let pairsFile = root.appendingPathComponent("pairs.jsonl")
        let labeled = try runRLHF(["constitution", "label", "--judge", judge, "--data", root.appendingPathComponent("completions.jsonl").path,
                                   "--out", pairsFile.path])
        XCTAssertEqual(labeled.status, 0, labeled.stderr)
        let pairs = try String(contentsOf: pairsFile, encoding: .utf8).split(separator: "\n").map {
            try JSONSerialization.jsonObject(with: Data($0.utf8)) as! [String: Any]
        }
        XCTAssertEqual(pairs.count, 3 + 1)
        for pair in pairs { XCTAssertGreaterThanOrEqual(pair["preference"] as! Double, 0.5) }

        let reward = try runRLHF(["reward", "train", "--model", Fixture.gpt2, "--data", pairsFile.path, "--out", root.appendingPathComponent("rm").path,
                                  "--steps", "1", "--batch-size", "2", "--eval-split", "0"])
        XCTAssertEqual(reward.status, 0, reward.stderr)

        try "{\"prompt\": \"Hi\"}\n{\"promt\": \"typo\"}\n".write(to: root.appendingPathComponent("typo.jsonl"), atomically: true, encoding: .utf8)
        let typo = try runRLHF(["constitution", "revise", "--model", judge, "--prompts", root.appendingPathComponent("typo.jsonl").path,
                                "--out", root.appendingPathComponent("x.jsonl").path])
        XCTAssertNotEqual(typo.status, 0)
        XCTAssertTrue(typo.stderr.contains("typo.jsonl:2:"), typo.stderr)
        XCTAssertEqual(typo.stderr.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: "\n").count, 1, typo.stderr)

        let bad = root.appendingPathComponent("bad.json")
        try "{\"name\": \"x\",\n \"principles\": [{\"name\": \"a\"}]}".write(to: bad, atomically: true, encoding: .utf8)
        let refused = try runRLHF(["constitution", "label", "--judge", judge, "--data", root.appendingPathComponent("completions.jsonl").path,
                                   "--out", pairsFile.path, "--constitution", bad.path])
        XCTAssertNotEqual(refused.status, 0)
        XCTAssertTrue(refused.stderr.contains("\(bad.path):2: principles[0].critique_request is missing"), refused.stderr)
    }

    func testAnAILabelerInTheStore() async throws {
        let root = try temporaryDirectory()
        let db = root.appendingPathComponent("labels.sqlite").path
        let store = try FeedbackStore(path: db)
        let project = try await store.createProject(ProjectSettings(name: "t", labelersPerItem: 1))
        _ = try await store.addItems([NewItem(prompt: "Name a fruit.", completions: [NewCompletion(text: "A pear."), NewCompletion(text: "No.")])],
                                     to: project)
        let labeled = try runRLHF(["feedback", "ai-label", "--db", db, "--project", String(project), "--judge", judge])
        XCTAssertEqual(labeled.status, 0, labeled.stderr)
        XCTAssertTrue(labeled.stdout.contains("ai:tiny-qwen2"), labeled.stdout)
        let stats = try runRLHF(["feedback", "stats", "--db", db, "--project", String(project)])
        XCTAssertTrue(stats.stdout.contains("ai:tiny-qwen2 (#1, AI): 1 judgments"), stats.stdout)
        let exported = try runRLHF(["feedback", "export", "--db", db, "--project", String(project), "--labelers", "ai"])
        XCTAssertEqual(exported.status, 0, exported.stderr)
        XCTAssertEqual(exported.stdout.split(separator: "\n").count, 1, "the AI labeler's one pair")
        let human = try runRLHF(["feedback", "export", "--db", db, "--project", String(project)])
        XCTAssertEqual(human.stdout, "", "no human has labeled")
    }
}
