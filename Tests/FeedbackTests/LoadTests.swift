import Feedback
import Foundation
import XCTest

/// Twenty labelers at once over loopback: every acknowledged ranking is in the export exactly once, and no item
/// goes to more labelers than asked or to one labeler twice.
final class LoadTests: XCTestCase {
    func testTwentyConcurrentLabelersSubmitAThousandRankings() async throws {
        let database = try await TestDatabase()
        let project = try await database.project(items: 250, completions: 3, labelersPerItem: 4)
        let labelers = try await database.labelers(20, in: project)
        try await database.withServer { api in
            let acknowledged = try await Self.labelConcurrently(api, project: project, labelers: labelers)
            XCTAssertEqual(acknowledged.count, 1000)

            let exported = try await api.export(project: project, format: "rankings").map { line in
                AcknowledgedRanking(item: (line["item_id"] as? NSNumber)?.int64Value ?? -1,
                                    labeler: (line["labeler_id"] as? NSNumber)?.int64Value ?? -1,
                                    ranks: line["ranks"] as? [String: Int] ?? [:])
            }
            XCTAssertEqual(exported.count, 1000)
            XCTAssertEqual(Set(exported), Set(acknowledged), "the export holds exactly the acknowledged rankings")
            XCTAssertEqual(Set(exported.map { [$0.item, $0.labeler] }).count, 1000, "no (item, labeler) twice")
            let perItem = exported.reduce(into: [Int64: Int]()) { $0[$1.item, default: 0] += 1 }
            XCTAssertTrue(perItem.values.allSatisfy { $0 == 4 }, "every item ranked by exactly four labelers")
        }
    }

    /// Issue #14: five labelers take an item each and walk away while fifteen others label. Once the abandoned
    /// assignments expire, the others finish those items too; the walkers' late rankings are refused, so every item
    /// ends with exactly its four rankings, each acknowledged one exported once.
    func testAbandonedAssignmentsExpireToOtherLabelers() async throws {
        let timeout = 5.0
        let database = try await TestDatabase(assignmentTimeout: timeout)
        let project = try await database.project(items: 60, completions: 3, labelersPerItem: 4)
        let labelers = try await database.labelers(20, in: project)
        let (walkers, workers) = (Array(labelers.prefix(5)), Array(labelers.dropFirst(5)))
        try await database.withServer { api in
            var abandoned: [(labeler: LabelerCredentials, item: (item: Int64, completions: [String]))] = []
            for walker in walkers {
                let taken = try await api.nextItem(project: project, token: walker.token)
                abandoned.append((walker, try XCTUnwrap(taken)))
            }
            var acknowledged = try await Self.labelConcurrently(api, project: project, labelers: workers)
            XCTAssertEqual(acknowledged.count, 240 - abandoned.count, "the walkers' slots stay taken until they expire")

            try await Task.sleep(for: .seconds(timeout + 0.5))
            let second = try await Self.labelConcurrently(api, project: project, labelers: workers)
            XCTAssertEqual(second.count, abandoned.count, "each expired slot went to another labeler")
            acknowledged += second
            for (walker, item) in abandoned {
                let late = try await api.submitRanking(item: item.item, token: walker.token,
                                                       ranks: Dictionary(uniqueKeysWithValues: item.completions.map { ($0, 1) }))
                XCTAssertEqual(late.status, 403, "a ranking for an expired assignment is refused: \(late.text)")
            }

            let exported = try await api.export(project: project, format: "rankings").map { line in
                AcknowledgedRanking(item: (line["item_id"] as? NSNumber)?.int64Value ?? -1,
                                    labeler: (line["labeler_id"] as? NSNumber)?.int64Value ?? -1,
                                    ranks: line["ranks"] as? [String: Int] ?? [:])
            }
            XCTAssertEqual(Set(exported), Set(acknowledged), "nothing acknowledged lost, nothing else counted")
            XCTAssertEqual(exported.count, 240)
            let perItem = exported.reduce(into: [Int64: Int]()) { $0[$1.item, default: 0] += 1 }
            XCTAssertEqual(perItem.count, 60)
            XCTAssertTrue(perItem.values.allSatisfy { $0 == 4 }, "every item ranked by exactly four labelers")
        }
    }

    private static func labelConcurrently(_ api: LoopbackClient, project: Int64, labelers: [LabelerCredentials]) async throws
        -> [AcknowledgedRanking] {
        try await withThrowingTaskGroup(of: [AcknowledgedRanking].self) { group in
            for labeler in labelers {
                group.addTask { try await Self.labelUntilDone(api, project: project, labeler: labeler) }
            }
            return try await group.reduce(into: [AcknowledgedRanking]()) { $0 += $1 }
        }
    }

    /// Takes and ranks items until the server has none left for this labeler; returns what was acknowledged.
    private static func labelUntilDone(_ api: LoopbackClient, project: Int64, labeler: LabelerCredentials) async throws
        -> [AcknowledgedRanking] {
        var acknowledged: [AcknowledgedRanking] = []
        for _ in 0..<300 {
            guard let item = try await api.nextItem(project: project, token: labeler.token) else { break }
            // A ranking that differs between labelers and items, with a tie now and then.
            let ranks = Dictionary(uniqueKeysWithValues: item.completions.enumerated().map { index, id in
                (id, 1 + (index + Int(item.item) + Int(labeler.id)) % 3)
            })
            let reply = try await api.submitRanking(item: item.item, token: labeler.token, ranks: ranks)
            guard reply.status == 200 else { throw LabelingError.status(reply.status, reply.text) }
            acknowledged.append(AcknowledgedRanking(item: item.item, labeler: labeler.id, ranks: ranks))
        }
        return acknowledged
    }
}

struct AcknowledgedRanking: Hashable, Sendable {
    let item: Int64
    let labeler: Int64
    let ranks: [String: Int]
}
