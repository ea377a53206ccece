import Foundation
import XCTest
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// `rlhf serve` as a process: killed with SIGKILL in the middle of a load and restarted, it still has every
/// ranking it acknowledged, and the labelers finish with each acknowledged ranking exported exactly once.
final class FeedbackServerTests: XCTestCase {
    private static let adminToken = "feedback-server-test-admin-token-0123456789"

    func testServerKilledMidLoadLosesNoAcknowledgedRanking() async throws {
        let db = FileManager.default.temporaryDirectory.appendingPathComponent("rlhf-serve-\(UUID().uuidString).sqlite").path
        var server = try ServeProcess(db: db, adminToken: Self.adminToken)
        var api = JSONClient(port: server.port)
        let (project, labelers) = try await setUpProject(api, items: 100, labelers: 20, labelersPerItem: 4)

        let ledger = Ledger()
        let killer = Task { [server] in
            while await ledger.count < 100 { try await Task.sleep(for: .milliseconds(5)) }
            server.kill()
        }
        await label(api, project: project, labelers: labelers, ledger: ledger)
        try await killer.value
        let acknowledgedBeforeKill = await ledger.rankings
        XCTAssertGreaterThanOrEqual(acknowledgedBeforeKill.count, 100)
        XCTAssertLessThan(acknowledgedBeforeKill.count, 400, "the server must die mid-load")

        server = try ServeProcess(db: db, adminToken: Self.adminToken)
        defer { server.kill() }
        api = JSONClient(port: server.port)
        let afterRestart = Dictionary(try await exportedRankings(api, project: project)) { first, _ in first }
        for (key, ranks) in acknowledgedBeforeKill {
            XCTAssertEqual(afterRestart[key], ranks, "acknowledged ranking \(key) lost or changed")
        }

        await label(api, project: project, labelers: labelers, ledger: ledger)
        let final = try await exportedRankings(api, project: project)
        XCTAssertEqual(final.count, 400, "100 items × 4 labelers")
        let exported = Dictionary(final) { first, _ in first }
        XCTAssertEqual(exported.count, final.count, "no ranking exported twice")
        for (key, ranks) in await ledger.rankings { XCTAssertEqual(exported[key], ranks, "\(key)") }
    }

    /// Issue #19: restarted with a new RLHF_ADMIN_TOKEN, the server no longer takes the old one; a taken port is
    /// one line, with no admin token made or shown; the database is the owner's only.
    func testAdminTokenRotationAndATakenPort() async throws {
        let db = FileManager.default.temporaryDirectory.appendingPathComponent("rlhf-serve-\(UUID().uuidString).sqlite").path
        let newToken = String(repeating: "7", count: 48)
        var server = try ServeProcess(db: db, adminToken: Self.adminToken)
        let reply1 = try await JSONClient(port: server.port).reply("GET", "/api/labelers", token: Self.adminToken)
        XCTAssertEqual(reply1.status, 200)
        server.kill()
        server = try ServeProcess(db: db, adminToken: newToken)
        defer { server.kill() }
        let api = JSONClient(port: server.port)
        let reply2 = try await api.reply("GET", "/api/labelers", token: Self.adminToken)
        XCTAssertEqual(reply2.status, 401)
        let reply3 = try await api.reply("GET", "/api/labelers", token: newToken)
        XCTAssertEqual(reply3.status, 200)
        XCTAssertEqual(try FileManager.default.attributesOfItem(atPath: db)[.posixPermissions] as? Int, 0o600)

        let other = db + "-other.sqlite"
        let taken = try runRLHF(["serve", "--db", other, "--port", "\(server.port)"])
        XCTAssertEqual(taken.status, 1, taken.stderr)
        XCTAssertTrue(taken.stderr.contains("cannot listen on 127.0.0.1:\(server.port): the address is already in use"), taken.stderr)
        XCTAssertEqual(taken.stderr.split(separator: "\n").count, 1, taken.stderr)
        XCTAssertFalse(taken.stdout.contains("admin token"), taken.stdout)
    }

    /// A project with `items` items of three completions, and `labelers` members with their tokens.
    private func setUpProject(_ api: JSONClient, items: Int, labelers: Int, labelersPerItem: Int) async throws
        -> (project: Int, labelers: [(id: Int, token: String)]) {
        let created = try await api.object("POST", "/api/projects", token: Self.adminToken,
                                           json: ["name": "load", "labelers_per_item": labelersPerItem])
        let project = try XCTUnwrap(created["id"] as? Int)
        let lines = (1...items).map { #"{"id": "\#($0)", "prompt": "prompt \#($0)", "completions": ["a", "b", "c"]}"# }
        let added = try await api.object("POST", "/api/projects/\(project)/items", token: Self.adminToken,
                                         body: Data(lines.joined(separator: "\n").utf8))
        XCTAssertEqual(added["added"] as? Int, items)
        var members: [(id: Int, token: String)] = []
        for index in 1...labelers {
            let labeler = try await api.object("POST", "/api/labelers", token: Self.adminToken, json: ["name": "labeler \(index)"])
            let id = try XCTUnwrap(labeler["id"] as? Int)
            _ = try await api.object("POST", "/api/projects/\(project)/members", token: Self.adminToken, json: ["labeler_id": id])
            members.append((id, try XCTUnwrap(labeler["token"] as? String)))
        }
        return (project, members)
    }

    /// Every labeler at once takes and ranks items until none is left or the server stops answering.
    private func label(_ api: JSONClient, project: Int, labelers: [(id: Int, token: String)], ledger: Ledger) async {
        await withTaskGroup(of: Void.self) { group in
            for (labeler, token) in labelers {
                group.addTask {
                    for _ in 0..<100 {
                        guard let next = try? await api.reply("GET", "/api/projects/\(project)/next", token: token),
                              next.status == 200, let item = try? next.object(), let itemID = item["item_id"] as? Int,
                              let completions = item["completions"] as? [[String: Any]] else { return }
                        let ids = completions.compactMap { $0["id"] as? String }
                        let ranks = Dictionary(uniqueKeysWithValues: ids.enumerated().map { ($1, 1 + ($0 + labeler) % 3) })
                        guard let saved = try? await api.reply("POST", "/api/items/\(itemID)/ranking", token: token,
                                                               json: ["ranks": ranks, "flagged": [String]()]),
                              saved.status == 200 else { return }
                        await ledger.acknowledge(RankingKey(item: itemID, labeler: labeler), ranks)
                    }
                }
            }
        }
    }

    /// Every line of the rankings export as (item and labeler, ranks).
    private func exportedRankings(_ api: JSONClient, project: Int) async throws -> [(RankingKey, [String: Int])] {
        try await api.lines("/api/projects/\(project)/export?format=rankings", token: Self.adminToken).map { line in
            (RankingKey(item: line["item_id"] as? Int ?? -1, labeler: line["labeler_id"] as? Int ?? -1), line["ranks"] as? [String: Int] ?? [:])
        }
    }
}

/// One labeler's ranking slot: an item and a labeler id.
private struct RankingKey: Hashable, CustomStringConvertible {
    let item: Int
    let labeler: Int

    var description: String { "item \(item) by labeler \(labeler)" }
}

/// The rankings the server acknowledged with 200, shared by the labeler tasks.
private actor Ledger {
    private(set) var rankings: [RankingKey: [String: Int]] = [:]

    var count: Int { rankings.count }

    func acknowledge(_ key: RankingKey, _ ranks: [String: Int]) {
        rankings[key] = ranks
    }
}
