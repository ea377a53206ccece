import Feedback
import Foundation
import XCTest

/// Two careful labelers and one who ranks in reverse, through the API: the consensus follows the careful ones,
/// the third is reported unreliable, and exports can leave it out.
final class ConsensusEndToEndTests: XCTestCase {
    func testReversedLabelerIsOutvotedAndReportedUnreliable() async throws {
        let database = try await TestDatabase()
        let project = try await database.project(items: 5, completions: 4, labelersPerItem: 3)
        let labelers = try await database.labelers(3, in: project)
        let reverser = labelers[2]
        try await database.withServer { api in
            // Completion texts end in their true quality order: "completion 1" is best.
            for labeler in labelers {
                while let item = try await api.nextItem(project: project, token: labeler.token) {
                    let ranks = Dictionary(uniqueKeysWithValues: item.completions.enumerated().map { index, id in
                        (id, labeler.id == reverser.id ? item.completions.count - index : index + 1)
                    })
                    let reply = try await api.submitRanking(item: item.item, token: labeler.token, ranks: ranks)
                    XCTAssertEqual(reply.status, 200, reply.text)
                }
            }

            let stats = try await api.send("GET", "/api/projects/\(project)/stats", token: TestDatabase.adminToken).object()
            XCTAssertEqual(stats["unreliable"] as? [Int], [Int(reverser.id)])
            let quality = try XCTUnwrap(stats["labelers"] as? [[String: Any]])
            XCTAssertEqual(quality.map { $0["tau"] as? Double }, [1, 1, -1])
            XCTAssertEqual(quality.map { $0["unreliable"] as? Bool }, [false, false, true])
            XCTAssertEqual(quality.map { $0["submissions"] as? Int }, [5, 5, 5])
            XCTAssertNotNil(stats["agreement"] as? Double)

            let pairs = try await api.export(project: project, format: "pairs")
            XCTAssertEqual(pairs.count, 5 * 6, "every pair of four completions, for five items")
            for pair in pairs {
                let chosen = try XCTUnwrap(pair["chosen"] as? String), rejected = try XCTUnwrap(pair["rejected"] as? String)
                XCTAssertLessThan(chosen.suffix(1), rejected.suffix(1), "the consensus prefers \(chosen) over \(rejected)")
            }

            let all = try await api.export(project: project, format: "rankings")
            let reliable = try await api.export(project: project, format: "rankings", query: "&exclude_unreliable=true")
            XCTAssertEqual(all.count, 15)
            XCTAssertEqual(Set(reliable.compactMap { $0["labeler_id"] as? Int }), Set(labelers[0...1].map { Int($0.id) }))
            XCTAssertEqual(reliable.count, 10)
        }
    }
}
