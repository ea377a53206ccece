import Feedback
import Foundation
import XCTest

/// Who gets which item: `labelers_per_item` distinct members per item, never the same item twice, least-covered
/// items first, and no double assignment when many labelers ask at once.
final class AssignmentTests: XCTestCase {
    func testLeastCoveredItemsComeFirst() async throws {
        let database = try await TestDatabase()
        let project = try await database.project(items: 3, labelersPerItem: 2)
        let labelers = try await database.labelers(3, in: project)
        let store = database.store
        // Three labelers in turn each take a different, uncovered item before any item gets a second labeler.
        var firstItems: [Int64] = []
        for labeler in labelers {
            let item = try await store.nextItem(project: project, labeler: labeler.id)
            firstItems.append(try XCTUnwrap(item).itemID)
        }
        XCTAssertEqual(Set(firstItems).count, 3)
        for (labeler, item) in zip(labelers, firstItems) { try await rankInOrder(item, labeler: labeler.id, store) }
        // Then the labelers take what is left in turn until nothing is: two distinct labelers per item.
        var seen = Dictionary(uniqueKeysWithValues: zip(labelers.map(\.id), firstItems.map { [$0] }))
        var anyTaken = true
        while anyTaken {
            anyTaken = false
            for labeler in labelers {
                guard let next = try await store.nextItem(project: project, labeler: labeler.id) else { continue }
                XCTAssertFalse(seen[labeler.id]!.contains(next.itemID), "labeler \(labeler.id) got item \(next.itemID) twice")
                seen[labeler.id]!.append(next.itemID)
                try await rankInOrder(next.itemID, labeler: labeler.id, store)
                anyTaken = true
            }
        }
        let perItem = seen.values.joined().reduce(into: [Int64: Int]()) { $0[$1, default: 0] += 1 }
        XCTAssertEqual(perItem, Dictionary(uniqueKeysWithValues: firstItems.map { ($0, 2) }))
    }

    /// Expiry takes back only what was abandoned: a thumbs item with some thumbs given keeps its labeler (those thumbs
    /// were acknowledged), and an AI labeler's assignments (outside the quota) neither expire nor change coverage.
    func testExpiryLeavesStartedThumbsAndAILabelersAlone() async throws {
        let database = try await TestDatabase(assignmentTimeout: 0.2)
        let store = database.store
        let project = try await database.project(items: 2, labelersPerItem: 1, mode: .thumbs)
        let humans = try await database.labelers(2, in: project)
        let (ann, bob) = (humans[0], humans[1])
        let judge = try await store.createLabeler(name: "ai:judge")
        try await store.addMember(labeler: judge.id, project: project)
        _ = try await store.assignEveryItem(project: project, labeler: judge.id)
        let annFirst = try await store.nextItem(project: project, labeler: ann.id)
        let started = try XCTUnwrap(annFirst)
        try await store.submitThumb(ThumbSubmission(completionID: started.completions[0].id, up: true), item: started.itemID, labeler: ann.id)
        let bobFirst = try await store.nextItem(project: project, labeler: bob.id)
        let walkedAway = try XCTUnwrap(bobFirst)
        try await Task.sleep(for: .milliseconds(400))

        // Bob's untouched item comes back (to him, the only one left it can go to); Ann's half-judged one does not.
        let again = try await store.nextItem(project: project, labeler: bob.id)
        XCTAssertEqual(again?.itemID, walkedAway.itemID)
        let annNext = try await store.nextItem(project: project, labeler: ann.id)
        XCTAssertEqual(annNext?.itemID, started.itemID, "her open item, its thumb kept")
        let carl = try await store.createLabeler(name: "carl")
        try await store.addMember(labeler: carl.id, project: project)
        let carlsItem = try await store.nextItem(project: project, labeler: carl.id)
        XCTAssertNil(carlsItem, "both items still covered: the AI labeler's assignments never counted and took nothing away")
        let judged = try await store.assignEveryItem(project: project, labeler: judge.id)
        XCTAssertEqual(judged.count, 2, "the AI labeler still holds both items")
    }

    func testTwentyConcurrentLabelersNeverShareASlot() async throws {
        let database = try await TestDatabase()
        let project = try await database.project(items: 30, labelersPerItem: 3)
        let labelers = try await database.labelers(20, in: project)
        let store = database.store
        let judged = try await withThrowingTaskGroup(of: [Int64].self) { group in
            for labeler in labelers {
                group.addTask {
                    var items: [Int64] = []
                    while let item = try await store.nextItem(project: project, labeler: labeler.id) {
                        items.append(item.itemID)
                        try await rankInOrder(item.itemID, labeler: labeler.id, store)
                    }
                    return items
                }
            }
            return try await group.reduce(into: [[Int64]]()) { $0.append($1) }
        }
        for items in judged { XCTAssertEqual(Set(items).count, items.count, "a labeler saw an item twice") }
        let perItem = judged.joined().reduce(into: [Int64: Int]()) { $0[$1, default: 0] += 1 }
        XCTAssertEqual(perItem.count, 30)
        XCTAssertTrue(perItem.values.allSatisfy { $0 == 3 }, "\(perItem)")
        let stats = ProjectStats(ProjectAnalysis(snapshot: try await store.snapshot(project: project)))
        XCTAssertEqual(stats.progress.submissions, 90)
        XCTAssertEqual(stats.progress.itemsComplete, 30)
    }

    func testNonMembersGetNothing() async throws {
        let database = try await TestDatabase()
        let project = try await database.project(items: 1, labelersPerItem: 1)
        let stranger = try await database.store.createLabeler(name: "stranger")
        do {
            _ = try await database.store.nextItem(project: project, labeler: stranger.id)
            XCTFail("a non-member got an item")
        } catch let error as FeedbackError {
            XCTAssertEqual(error, .forbidden("not a member of project \(project)"))
        }
    }
}

/// Ranks the item's completions in their original order.
private func rankInOrder(_ item: Int64, labeler: Int64, _ store: FeedbackStore) async throws {
    let completions = try await store.labeledItem(item, for: .labeler(labeler)).item.completions
    let ranks = Dictionary(uniqueKeysWithValues: completions.enumerated().map { ($1.id, $0 + 1) })
    try await store.submitRanking(RankingSubmission(ranks: ranks), item: item, labeler: labeler)
}
