@testable import Demo
import Feedback
import Foundation
import Tensor
import XCTest

final class SimulatedLabelerTests: XCTestCase {
    /// Through the store, as humans would: every item gets three judgments, the consensus puts the rubric's best
    /// reply first, the random labeler is the one the agreement statistics call unreliable, and unfinished replies
    /// are flagged by the reliable labelers only.
    func testPanelRanksByTheRubricAndTheRandomLabelerIsExposed() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("labelers-\(UUID().uuidString).sqlite").path
        let store = try FeedbackStore(path: path)
        let project = try await store.createProject(ProjectSettings(name: "t", labelersPerItem: 3))
        var generator = SeededGenerator(seed: 3)
        let items = (0..<40).map { _ -> NewItem in
            let prompt = AssistantTask.randomPrompt(using: &generator)
            let styles: [AssistantTask.ReplyStyle] = [.rude, .good, .unhelpful, .offTopic]
            let replies = styles.map { AssistantTask.reply(to: prompt.request, style: $0, variant: 0) } + ["Sure! Open the"]
            return NewItem(prompt: prompt.modelPrompt, completions: replies.map { NewCompletion(text: $0) })
        }
        _ = try await store.addItems(items, to: project)
        let panel = SimulatedLabeler.demoPanel()
        try await store.label(project: project, with: panel, seed: 1)
        let analysis = ProjectAnalysis(snapshot: try await store.snapshot(project: project))
        let stats = ProjectStats(analysis)
        XCTAssertEqual(stats.progress.submissions, 120)
        XCTAssertEqual(stats.labelers.filter(\.unreliable).map(\.name), ["cy"])
        var goodChosen = 0, goodRejected = 0
        for (item, pairs) in analysis.consensusPairs {
            let good = item.completions[1].id
            goodChosen += pairs.filter { $0.chosen == good }.count
            goodRejected += pairs.filter { $0.rejected == good }.count
            XCTAssertFalse(pairs.contains { $0.chosen == item.completions[4].id || $0.rejected == item.completions[4].id },
                           "the unfinished reply is dropped by a majority flag")
        }
        // Noise can flip a close call now and then; the consensus of two careful labelers keeps the good reply on top.
        XCTAssertGreaterThan(Double(goodChosen) / Double(goodChosen + goodRejected), 0.95)
        XCTAssertGreaterThan(goodChosen, 100)
        let flags = analysis.snapshot.rankings.map { ($0.labelerID, $0.flagged.count) }
        XCTAssertTrue(flags.allSatisfy { id, count in count == (id == stats.labelers.first { $0.name == "cy" }!.id ? 0 : 1) })
    }
}
