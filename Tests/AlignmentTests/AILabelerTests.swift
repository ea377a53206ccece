import Alignment
import Data
import Feedback
import Foundation
import XCTest

/// The AI labeler in the labeling store, beside two humans who rank every item best → worst.
final class AILabelerTests: XCTestCase {
    private static let qualities = ["Here is a careful, complete answer.": 3, "A short answer.": 2, "Whatever.": 1, "No!": 0]

    private var path = ""
    private var project: Int64 = 0
    private var humans: [Int64] = []

    override func setUp() async throws {
        path = FileManager.default.temporaryDirectory.appendingPathComponent("ai-label-\(UUID().uuidString).sqlite").path
        let store = try FeedbackStore(path: path)
        project = try await store.createProject(ProjectSettings(name: "t", labelersPerItem: 2))
        let texts = Self.qualities.keys.sorted()
        _ = try await store.addItems((0..<6).map { index in
            NewItem(prompt: "Question \(index)?", completions: texts.shuffled().map { NewCompletion(text: $0) })
        }, to: project)
        humans = []
        for name in ["ann", "bo"] {
            let id = try await store.createLabeler(name: name).id
            try await store.addMember(labeler: id, project: project)
            while let item = try await store.nextItem(project: project, labeler: id) {
                let ranks = item.completions.map { ($0.id, 4 - Self.qualities[$0.text]!) }
                try await store.submitRanking(RankingSubmission(ranks: Dictionary(uniqueKeysWithValues: ranks)), item: item.itemID, labeler: id)
            }
            humans.append(id)
        }
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: path) }

    private func config(name: String) -> AILabelConfig {
        var config = AILabelConfig()
        (config.db, config.project, config.judge, config.name) = (path, project, "unused", name)
        return config
    }

    /// A judge that knows which reply is better and says so with 90%, in either order.
    private let knowing = AIJudge { questions in
        questions.map { question in
            let option = { (letter: String) in
                question.components(separatedBy: "\n(\(letter)) ")[1].components(separatedBy: "\n")[0]
            }
            return qualities[option("A")]! > qualities[option("B")]! ? 0.9 : 0.1
        }
    }

    private func stats() throws -> ProjectStats {
        var config = FeedbackStatsConfig(db: path, project: project)
        config.minTau = 0.2
        return try config.run()
    }

    func testAKnowingJudgeAgreesWithTheHumansThroughTheStore() throws {
        let (labeler, items) = try config(name: "ai:knowing").run(judge: knowing)
        XCTAssertEqual(items, 6)
        XCTAssertEqual(try config(name: "ai:knowing").run(judge: knowing).items, 0, "a second run has nothing left to rank")
        let stats = try stats()
        XCTAssertEqual(stats.progress.submissions, 12, "the AI labeler's rankings are not the humans' progress")
        let ai = try XCTUnwrap(stats.labelers.first { $0.id == labeler })
        XCTAssertTrue(ai.ai)
        XCTAssertEqual(try XCTUnwrap(ai.tau), 1, accuracy: 1e-12)
        XCTAssertEqual(ai.itemsScored, 6)
        XCTAssertFalse(ai.unreliable)
        XCTAssertEqual(ai.agreementWithHumans.map(\.name), ["ann", "bo"])
        XCTAssertEqual(ai.agreementWithHumans.map(\.tau), [1, 1])
        XCTAssertTrue(stats.report.contains("ai:knowing (#\(labeler), AI): 6 judgments, τ vs the human consensus 1.000"), stats.report)

        // Exports: the humans' consensus by default, the AI labeler's alone on request; here they agree.
        var export = FeedbackExportConfig()
        (export.db, export.project) = (path, project)
        let human = try PreferencePairs(export.run())
        export.labelers = .ai
        XCTAssertEqual(try PreferencePairs(export.run()), human)
        XCTAssertEqual(human.count, 6 * 6)
    }

    /// A judge that always answers (A) is caught by the order swap: every preference is 0.5, every ranking a tie,
    /// and its τ against the human consensus undefined, so it is reported unreliable; the humans' stats do not move.
    func testAJudgeThatAlwaysSaysAIsCaught() throws {
        let before = try stats()
        let (labeler, _) = try config(name: "ai:biased").run(judge: AIJudge { $0.map { _ in 0.95 } })
        let stats = try stats()
        let ai = try XCTUnwrap(stats.labelers.first { $0.id == labeler })
        XCTAssertNil(ai.tau)
        XCTAssertTrue(ai.unreliable)
        XCTAssertEqual(stats.agreement, before.agreement)
        XCTAssertEqual(stats.labelers.filter { !$0.ai }.map(\.tau), before.labelers.map(\.tau))
        let snapshot = try runAsync { [path, project] in try await FeedbackStore(path: path).snapshot(project: project) }
        let ranks = snapshot.rankings.filter { $0.labelerID == labeler }.flatMap { $0.ranks.values }
        XCTAssertEqual(Set(ranks), [1], "every completion ties")
    }

    /// A judge that ranks everything backwards changes nothing the humans' data shows: their stats and exports
    /// (consensus pairs, raw rankings) are what they were; `--labelers all` takes its rankings in, and it is
    /// reported unreliable.
    func testAContraryJudgeStaysOutOfTheHumansData() throws {
        var export = FeedbackExportConfig(), rankings = FeedbackExportConfig()
        (export.db, export.project, export.format) = (path, project, .pairs)
        (rankings.db, rankings.project, rankings.format) = (path, project, .rankings)
        let (humanExport, humanRankings, humanStats) = (try export.run(), try rankings.run(), try stats())
        let contrary = AIJudge { questions in try self.knowing.optionProbabilities(questions).map { 1 - $0 } }
        let (labeler, _) = try config(name: "ai:contrary").run(judge: contrary)
        XCTAssertEqual(try export.run(), humanExport)
        XCTAssertEqual(try rankings.run(), humanRankings)
        let stats = try stats()
        XCTAssertEqual(stats.agreement, humanStats.agreement)
        XCTAssertEqual(stats.labelers.filter { !$0.ai }.map(\.tau), humanStats.labelers.map(\.tau))
        XCTAssertEqual(try XCTUnwrap(stats.labelers.first { $0.id == labeler }?.tau), -1, accuracy: 1e-12)
        XCTAssertEqual(stats.unreliable, [labeler])
        rankings.labelers = .all
        XCTAssertEqual(try rankings.run().count { $0 == UInt8(ascii: "\n") }, 12 + 6, "the humans' 12 rankings and the AI labeler's 6")
    }

    func testRanksFromSoftPreferences() {
        let pairs = [ConstitutionLabelConfig.Pair(prompt: "p", chosen: "a", rejected: "b", preference: 0.9, principle: "x"),
                     ConstitutionLabelConfig.Pair(prompt: "p", chosen: "a", rejected: "c", preference: 0.6, principle: "x"),
                     ConstitutionLabelConfig.Pair(prompt: "p", chosen: "c", rejected: "b", preference: 0.7, principle: "x")]
        XCTAssertEqual(AILabelConfig.ranks(["b", "a", "c", "a"], pairs: pairs), [4, 1, 3, 1])
        let undecided = [ConstitutionLabelConfig.Pair(prompt: "p", chosen: "a", rejected: "b", preference: 0.5 + 1e-12, principle: "x")]
        XCTAssertEqual(AILabelConfig.ranks(["a", "b"], pairs: undecided), [1, 1], "a rounding error is no preference")
    }

    func testNamesMustMarkTheLabelerAsAI() {
        XCTAssertThrowsError(try config(name: "ann2").run(judge: knowing)) { XCTAssertTrue("\($0)".contains("must start with ai:"), "\($0)") }
        XCTAssertEqual(config(name: "").labelerName, "ai:unused")
    }
}

/// An export's lines as (prompt, chosen, rejected) triples, order aside.
private func PreferencePairs(_ data: Data) throws -> Set<[String]> {
    Set(try data.split(separator: UInt8(ascii: "\n")).map { line in
        let object = try JSONSerialization.jsonObject(with: Data(line)) as! [String: Any]
        return ["prompt", "chosen", "rejected"].map { object[$0] as! String }
    })
}
