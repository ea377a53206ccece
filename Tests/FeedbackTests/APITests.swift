import Feedback
import Foundation
import XCTest

/// The JSON API as the issue lists it, end to end over loopback.
private let admin = TestDatabase.adminToken

final class APITests: XCTestCase {
    func testAdminBuildsAProjectAndALabelerWorksThroughIt() async throws {
        let database = try await TestDatabase()
        try await database.withServer { api in
            let created = try await api.send("POST", "/api/projects", token: admin, json: [
                "name": "helpfulness", "guidelines": "Prefer correct, complete answers.", "labelers_per_item": 1, "mode": "ranking"])
            XCTAssertEqual(created.status, 201, created.text)
            let project = try XCTUnwrap(created.object()["id"] as? Int)

            let array = #"[{"id": "a", "prompt": "p1", "completions": ["x", "y"]}, {"prompt": "p2", "completions": ["z", "w"]}]"#
            let added = try await api.send("POST", "/api/projects/\(project)/items", token: admin, body: Data(array.utf8))
            XCTAssertEqual(try added.object()["added"] as? Int, 2, added.text)
            let lines = #"{"id": 7, "prompt": "p3", "completions": [{"text": "u", "model": "v1"}, {"text": "v", "model": "v2"}]}"#
                + "\n\n" + #"{"prompt": "p4", "completions": ["s", "t"]}"# + "\n"
            let addedLines = try await api.send("POST", "/api/projects/\(project)/items", token: admin, body: Data(lines.utf8))
            XCTAssertEqual(try addedLines.object()["added"] as? Int, 2, addedLines.text)

            let impostor = try await api.send("POST", "/api/labelers", token: admin, json: ["name": "ai:ada"])
            XCTAssertEqual(impostor.status, 400, "the ai: prefix keeps a labeler out of the human consensus; people may not take it")
            let labeler = try await api.send("POST", "/api/labelers", token: admin, json: ["name": "ada"]).object()
            let labelerID = try XCTUnwrap(labeler["id"] as? Int)
            let token = try XCTUnwrap(labeler["token"] as? String)
            let membership = try await api.send("POST", "/api/projects/\(project)/members", token: admin, json: ["labeler_id": labelerID])
            XCTAssertEqual(membership.status, 201, membership.text)

            let info = try await api.send("GET", "/api/projects/\(project)", token: token).object()
            XCTAssertEqual(info["guidelines"] as? String, "Prefer correct, complete answers.")
            XCTAssertEqual(info["items"] as? Int, 4)

            // The next item stays the same until it is judged; each item comes once, then 204.
            let first = try await api.send("GET", "/api/projects/\(project)/next", token: token).object()
            XCTAssertEqual(first["prompt"] as? String, "p1")
            XCTAssertEqual((first["completions"] as? [[String: Any]])?.compactMap { $0["text"] as? String }, ["x", "y"])
            let again = try await api.send("GET", "/api/projects/\(project)/next", token: token).object()
            XCTAssertEqual(again["item_id"] as? Int, first["item_id"] as? Int)
            var prompts: [String] = []
            while let next = try await api.nextItem(project: Int64(project), token: token) {
                let labeled = try await api.send("GET", "/api/items/\(next.item)", token: token).object()
                prompts.append(try XCTUnwrap((labeled["item"] as? [String: Any])?["prompt"] as? String))
                let saved = try await api.submitRanking(item: next.item, token: token, ranks: [next.completions[0]: 1, next.completions[1]: 2])
                XCTAssertEqual(saved.status, 200, saved.text)
            }
            XCTAssertEqual(prompts, ["p1", "p2", "p3", "p4"])
            let progress = try await api.send("GET", "/api/projects/\(project)/progress", token: token).object()
            XCTAssertEqual(progress["done"] as? Int, 4)
            XCTAssertEqual(progress["total"] as? Int, 4)
            let submissions = try await api.send("GET", "/api/projects/\(project)/submissions", token: token).array()
            XCTAssertEqual(submissions.count, 4)

            // A lost link: a new token for the same labeler sees the same submissions.
            let reissued = try await api.send("POST", "/api/labelers/\(labelerID)/tokens", token: admin).object()
            let newToken = try XCTUnwrap(reissued["token"] as? String)
            XCTAssertNotEqual(newToken, token)
            let seenWithNewToken = try await api.send("GET", "/api/projects/\(project)/submissions", token: newToken).array()
            XCTAssertEqual(seenWithNewToken.count, 4)
        }
    }

    func testALabelerReplacesItsOwnRanking() async throws {
        let database = try await TestDatabase()
        let project = try await database.project(items: 1, labelersPerItem: 1)
        let labeler = try await database.labelers(1, in: project)[0]
        try await database.withServer { api in
            let next = try await api.requireNextItem(project: project, token: labeler.token)
            let (a, b, c) = (next.completions[0], next.completions[1], next.completions[2])
            let original = try await api.submitRanking(item: next.item, token: labeler.token, ranks: [a: 1, b: 2, c: 3])
            XCTAssertEqual(original.status, 200, original.text)
            let replacement = try await api.submitRanking(item: next.item, token: labeler.token, ranks: [a: 3, b: 1], flagged: [c])
            XCTAssertEqual(replacement.status, 200, replacement.text)

            let labeled = try await api.send("GET", "/api/items/\(next.item)", token: labeler.token).object()
            let ranking = try XCTUnwrap(labeled["ranking"] as? [String: Any])
            XCTAssertEqual(ranking["ranks"] as? [String: Int], [a: 3, b: 1])
            XCTAssertEqual(ranking["flagged"] as? [String], [c])
            let rankings = try await api.export(project: project, format: "rankings")
            XCTAssertEqual(rankings.count, 1)
            XCTAssertEqual(rankings[0]["ranks"] as? [String: Int], [a: 3, b: 1])
            XCTAssertEqual(rankings[0]["flagged"] as? [String], [c])
            XCTAssertEqual(rankings[0]["item"] as? String, "item-1")
        }
    }

    func testPairsAndHHExportsFollowTheConsensusRanks() async throws {
        let database = try await TestDatabase()
        let project = try await database.project(items: 2, labelersPerItem: 1)
        let labeler = try await database.labelers(1, in: project)[0]
        try await database.withServer { api in
            // Item 1: a strict order. Item 2: a tie (no pair) and a flagged completion (dropped by the majority of one).
            let first = try await api.requireNextItem(project: project, token: labeler.token)
            _ = try await api.submitRanking(item: first.item, token: labeler.token,
                                            ranks: [first.completions[0]: 2, first.completions[1]: 1, first.completions[2]: 3])
            let second = try await api.requireNextItem(project: project, token: labeler.token)
            _ = try await api.submitRanking(item: second.item, token: labeler.token,
                                            ranks: [second.completions[0]: 1, second.completions[1]: 1], flagged: [second.completions[2]])

            let pairs = try await api.export(project: project, format: "pairs")
            XCTAssertEqual(pairs.map { $0["chosen"] as? String }, ["item 1, completion 2", "item 1, completion 2", "item 1, completion 1"])
            XCTAssertEqual(pairs.map { $0["rejected"] as? String }, ["item 1, completion 1", "item 1, completion 3", "item 1, completion 3"])
            XCTAssertEqual(pairs.map { $0["margin"] as? Int }, [1, 2, 1])
            XCTAssertEqual(pairs.map { $0["prompt"] as? String }, ["prompt 1", "prompt 1", "prompt 1"])

            let hh = try await api.export(project: project, format: "hh")
            XCTAssertEqual(hh.count, 3)
            XCTAssertEqual(hh[0]["chosen"] as? String, "\n\nHuman: prompt 1\n\nAssistant: item 1, completion 2")
            XCTAssertEqual(hh[0]["rejected"] as? String, "\n\nHuman: prompt 1\n\nAssistant: item 1, completion 1")
            XCTAssertEqual(Set(hh[0].keys), ["chosen", "rejected"])
        }
    }

    func testThumbsProjectCollectsAndExportsThumbs() async throws {
        let database = try await TestDatabase()
        let project = try await database.project(items: 1, completions: 2, labelersPerItem: 1, mode: .thumbs)
        let labeler = try await database.labelers(1, in: project)[0]
        try await database.withServer { api in
            let next = try await api.requireNextItem(project: project, token: labeler.token)
            let ranked = try await api.submitRanking(item: next.item, token: labeler.token, ranks: [next.completions[0]: 1, next.completions[1]: 2])
            XCTAssertEqual(ranked.status, 400, "a thumbs project takes no rankings")
            for (completion, up) in zip(next.completions, [true, false]) {
                let reply = try await api.send("POST", "/api/items/\(next.item)/thumb", token: labeler.token,
                                               json: ["completion_id": completion, "up": up])
                XCTAssertEqual(reply.status, 200, reply.text)
            }
            let after = try await api.nextItem(project: project, token: labeler.token)
            XCTAssertNil(after, "both thumbs given: the item is done")
            let thumbs = try await api.export(project: project, format: "thumbs")
            XCTAssertEqual(thumbs.map { $0["completion"] as? String }, ["item 1, completion 1", "item 1, completion 2"])
            XCTAssertEqual(thumbs.map { $0["label"] as? Bool }, [true, false])
            XCTAssertEqual(thumbs.map { $0["prompt"] as? String }, ["prompt 1", "prompt 1"])
        }
    }

    func testSkippedItemGoesToAnotherLabelerAndNeverBack() async throws {
        let database = try await TestDatabase()
        let project = try await database.project(items: 2, labelersPerItem: 1)
        let labelers = try await database.labelers(2, in: project)
        try await database.withServer { api in
            let skipped = try await api.requireNextItem(project: project, token: labelers[0].token)
            let unranked = try await api.send("GET", "/api/items/\(skipped.item)", token: labelers[0].token).object()
            XCTAssertTrue(unranked["ranking"] is NSNull)
            let skip = try await api.send("POST", "/api/items/\(skipped.item)/skip", token: labelers[0].token)
            XCTAssertEqual(skip.status, 200, skip.text)
            let instead = try await api.requireNextItem(project: project, token: labelers[0].token)
            XCTAssertNotEqual(instead.item, skipped.item)
            let forSecond = try await api.nextItem(project: project, token: labelers[1].token)
            XCTAssertEqual(forSecond?.item, skipped.item)
            let late = try await api.submitRanking(item: skipped.item, token: labelers[0].token,
                                                   ranks: Dictionary(uniqueKeysWithValues: skipped.completions.map { ($0, 1) }))
            XCTAssertEqual(late.status, 409, late.text)
        }
    }

    func testStatsReportProgressAndModelRatings() async throws {
        let database = try await TestDatabase()
        let project = try await database.store.createProject(ProjectSettings(name: "models", labelersPerItem: 1))
        let items = (1...6).map { index in
            NewItem(prompt: "prompt \(index)", completions: [NewCompletion(text: "new \(index)", model: "v2"),
                                                             NewCompletion(text: "old \(index)", model: "v1")])
        }
        _ = try await database.store.addItems(items, to: project)
        let labeler = try await database.labelers(1, in: project)[0]
        try await database.withServer { api in
            // v2 wins five of six comparisons.
            for round in 0..<6 {
                let next = try await api.requireNextItem(project: project, token: labeler.token)
                let newWins = round < 5
                _ = try await api.submitRanking(item: next.item, token: labeler.token,
                                                ranks: [next.completions[0]: newWins ? 1 : 2, next.completions[1]: newWins ? 2 : 1])
            }
            let stats = try await api.send("GET", "/api/projects/\(project)/stats", token: admin).object()
            let progress = try XCTUnwrap(stats["progress"] as? [String: Any])
            XCTAssertEqual(progress["submissions"] as? Int, 6)
            XCTAssertEqual(progress["items_complete"] as? Int, 6)
            XCTAssertEqual(progress["fraction"] as? Double, 1)
            XCTAssertTrue(stats["agreement"] is NSNull, "one labeler per item: agreement undefined, sent as null")
            let ratings = try XCTUnwrap(stats["ratings"] as? [[String: Any]])
            XCTAssertEqual(ratings.compactMap { $0["model"] as? String }, ["v2", "v1"])
            let best = try XCTUnwrap(ratings.first)
            let rating = try XCTUnwrap(best["rating"] as? Double)
            XCTAssertGreaterThan(rating, 1000)
            XCTAssertLessThanOrEqual(try XCTUnwrap(best["low"] as? Double), rating)
            XCTAssertGreaterThanOrEqual(try XCTUnwrap(best["high"] as? Double), rating)
            XCTAssertEqual(best["comparisons"] as? Int, 6)
        }
    }
}
