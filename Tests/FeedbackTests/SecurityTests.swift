@testable import Feedback
import Foundation
import GRDB
import XCTest

/// Authentication, who may touch what, and hostile input: refused with a 4xx while the server keeps serving.
private let admin = TestDatabase.adminToken

final class SecurityTests: XCTestCase {
    func testRequestsWithoutAValidTokenGet401() async throws {
        let database = try await TestDatabase()
        let project = try await database.project(items: 1, labelersPerItem: 1)
        try await database.withServer { api in
            for (method, path) in [("GET", "/api/projects"), ("GET", "/api/projects/\(project)/next"), ("POST", "/api/projects"),
                                   ("POST", "/api/items/1/ranking"), ("GET", "/api/projects/\(project)/export?format=pairs")] {
                let anonymous = try await api.send(method, path, json: [:] as [String: Any])
                XCTAssertEqual(anonymous.status, 401, "\(method) \(path)")
                XCTAssertEqual(anonymous.headers["www-authenticate"], "Bearer")
                let forged = try await api.send(method, path, token: "not-a-token", json: [:] as [String: Any])
                XCTAssertEqual(forged.status, 401, "\(method) \(path)")
            }
        }
    }

    func testLabelersStayInsideTheirProjectsAndTheirOwnRankings() async throws {
        let database = try await TestDatabase()
        let project = try await database.project(items: 2, labelersPerItem: 1)
        let other = try await database.project(items: 1, labelersPerItem: 1)
        let labelers = try await database.labelers(2, in: project)
        let outsider = try await database.labelers(1, in: other)[0]
        try await database.withServer { api in
            let (owner, stranger) = (labelers[0], labelers[1])
            let item = try await api.requireNextItem(project: project, token: owner.token)
            let ranks = [item.completions[0]: 1, item.completions[1]: 2, item.completions[2]: 3]
            let own = try await api.submitRanking(item: item.item, token: owner.token, ranks: ranks)
            XCTAssertEqual(own.status, 200, own.text)

            // Not a member: nothing of the project can be read or written.
            for path in ["/api/projects/\(project)", "/api/projects/\(project)/next", "/api/projects/\(project)/progress",
                         "/api/items/\(item.item)"] {
                let read = try await api.send("GET", path, token: outsider.token)
                XCTAssertEqual(read.status, 403, path)
            }
            let outsiderRanking = try await api.submitRanking(item: item.item, token: outsider.token, ranks: ranks)
            XCTAssertEqual(outsiderRanking.status, 403)
            let projects = try await api.send("GET", "/api/projects", token: outsider.token).array()
            XCTAssertEqual(projects.compactMap { $0["id"] as? Int }, [Int(other)])

            // A member cannot read or overwrite another labeler's ranking of an item not assigned to it.
            let reversed = [item.completions[0]: 3, item.completions[1]: 2, item.completions[2]: 1]
            let overwrite = try await api.submitRanking(item: item.item, token: stranger.token, ranks: reversed)
            XCTAssertEqual(overwrite.status, 403)
            let peek = try await api.send("GET", "/api/items/\(item.item)", token: stranger.token)
            XCTAssertEqual(peek.status, 403)
            let rankings = try await api.export(project: project, format: "rankings")
            XCTAssertEqual(rankings.count, 1)
            XCTAssertEqual(rankings.first?["ranks"] as? [String: Int], ranks)
            XCTAssertEqual(rankings.first?["labeler_id"] as? Int, Int(owner.id))

            // Labelers cannot act as the admin.
            for (method, path) in [("POST", "/api/projects"), ("POST", "/api/labelers"), ("GET", "/api/labelers"),
                                   ("GET", "/api/projects/\(project)/stats"), ("GET", "/api/projects/\(project)/export?format=rankings"),
                                   ("POST", "/api/projects/\(project)/members"), ("POST", "/api/projects/\(project)/items")] {
                let attempt = try await api.send(method, path, token: owner.token, json: ["name": "x", "labeler_id": owner.id])
                XCTAssertEqual(attempt.status, 403, "\(method) \(path)")
            }
        }
    }

    func testMalformedAndOversizedBodiesGet4xxAndTheServerKeepsServing() async throws {
        let database = try await TestDatabase()
        let project = try await database.project(items: 1, labelersPerItem: 1)
        let labeler = try await database.labelers(1, in: project)[0]
        try await database.withServer(limits: RequestLimits(json: 4096, items: 8192)) { api in
            let item = try await api.requireNextItem(project: project, token: labeler.token)
            let ranking = "/api/items/\(item.item)/ranking"
            let (a, b, c) = (item.completions[0], item.completions[1], item.completions[2])
            let refusals: [(String, String, String?, Data, Int)] = [
                ("POST", ranking, labeler.token, Data("{not json".utf8), 400),
                ("POST", ranking, labeler.token, Data(#"{"ranks": {"\#(a)": "first"}}"#.utf8), 400),
                ("POST", ranking, labeler.token, Data(#"{"flagged": []}"#.utf8), 400),
                ("POST", ranking, labeler.token, Data(#"{"ranks": {"\#(a)": 1, "\#(b)": 2, "999999": 3}}"#.utf8), 400),
                ("POST", ranking, labeler.token, Data(#"{"ranks": {"\#(a)": 1, "\#(b)": 2, "\#(c)": 9}}"#.utf8), 400),
                ("POST", ranking, labeler.token, Data(#"{"ranks": {"\#(a)": 1, "\#(b)": 2}}"#.utf8), 400),
                ("POST", ranking, labeler.token, Data(#"{"ranks": {"\#(a)": 1, "\#(b)": 2, "\#(c)": 0}}"#.utf8), 400),
                ("POST", ranking, labeler.token, Data(#"{"ranks": {"\#(a)": 1, "\#(b)": 2, "\#(c)": 3}, "flagged": ["\#(c)"]}"#.utf8), 400),
                ("POST", ranking, labeler.token, Data("[\(String(repeating: "1,", count: 5000))1]".utf8), 413),
                ("POST", "/api/items/abc/ranking", labeler.token, Data("{}".utf8), 400),
                ("GET", "/api/projects/\(project)/export?format=csv", admin, Data(), 400),
                ("POST", "/api/projects", admin, Data(#"{"name": "x", "labelers_per_item": 0}"#.utf8), 400),
                ("POST", "/api/projects", admin, Data(#"{"name": "x", "mode": "stars"}"#.utf8), 400),
                ("POST", "/api/projects/\(project)/items", admin, Data(#"{"prompt": "p"}"#.utf8), 400),
                ("POST", "/api/projects/\(project)/items", admin, Data(#"[{"prompt": "p", "completions": ["only one"]}]"#.utf8), 400),
                ("POST", "/api/projects/\(project)/items", admin, Data(#"[{"id": "item-1", "prompt": "p", "completions": ["a", "b"]}]"#.utf8), 409),
                ("POST", "/api/projects/\(project)/items", admin, Data(String(repeating: " ", count: 10000).utf8), 413),
                ("POST", "/api/projects/999/items", admin, Data(#"[{"prompt": "p", "completions": ["a", "b"]}]"#.utf8), 404),
                ("GET", "/label?project=%3Cscript%3E", nil, Data(), 400),
            ]
            for (method, path, token, body, status) in refusals {
                let reply = try await api.send(method, path, token: token, body: body)
                XCTAssertEqual(reply.status, status, "\(method) \(path) \(String(decoding: body.prefix(80), as: UTF8.self)): \(reply.text)")
                let alive = try await api.send("GET", "/api/projects", token: admin)
                XCTAssertEqual(alive.status, 200, "still serving")
            }
            let error = try await api.send("POST", ranking, token: labeler.token, body: Data(#"{"ranks": {"\#(a)": 1, "\#(b)": 2}}"#.utf8))
            XCTAssertEqual((try error.object()["error"] as? [String: Any])?["message"] as? String,
                           "completion \"\(c)\" is neither ranked nor flagged")
            let valid = try await api.submitRanking(item: item.item, token: labeler.token, ranks: [a: 1, b: 2, c: 3])
            XCTAssertEqual(valid.status, 200, valid.text)
        }
    }

    /// Issue #19: a leaked labeler link can be revoked; 413s say why in JSON, also when only the header declares a
    /// huge body; text with a NUL keeps what follows it; a connection that never finishes its head is closed.
    func testRevocationLimitsAndTimeouts() async throws {
        let database = try await TestDatabase()
        let project = try await database.project(items: 1, labelersPerItem: 1)
        let labeler = try await database.labelers(1, in: project)[0]
        try await database.withServer(limits: RequestLimits(json: 4096, items: 8192, idleSeconds: 1)) { api in
            let reply1 = try await api.send("GET", "/api/projects", token: labeler.token)
            XCTAssertEqual(reply1.status, 200)
            let revoked = try await api.send("DELETE", "/api/labelers/\(labeler.id)/tokens", token: labeler.token)
            XCTAssertEqual(revoked.status, 403, "only the admin revokes")
            let revocation = try await api.send("DELETE", "/api/labelers/\(labeler.id)/tokens", token: admin)
            XCTAssertEqual(try revocation.object()["revoked"] as? Int, 1, revocation.text)
            let reply2 = try await api.send("GET", "/api/projects", token: labeler.token)
            XCTAssertEqual(reply2.status, 401)

            let big = try await api.send("POST", "/api/projects/\(project)/items", token: admin, body: Data(String(repeating: " ", count: 10000).utf8))
            XCTAssertEqual(big.status, 413)
            XCTAssertEqual((try big.object()["error"] as? [String: Any])?["message"] as? String, "the request body is over 8192 bytes")
            let nul = try await api.send("POST", "/api/projects/\(project)/items", token: admin,
                                         json: [["id": "nul", "prompt": "p\u{0}q", "completions": ["a\u{0}b", "c"]]])
            XCTAssertEqual(nul.status, 201, nul.text)
            let stored = try await database.store.read { db in
                try String.fetchAll(db, sql: "SELECT prompt FROM item WHERE external_id = 'nul'")
            }
            XCTAssertEqual(stored, ["p\u{FFFD}q"], "the NUL is replaced, nothing after it lost")

            let port = api.baseURL.port!
            let declared = try RawSocket(port: port)
            defer { declared.close() }
            declared.send("POST /api/projects HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer \(admin)\r\n"
                          + "Content-Type: application/json\r\nContent-Length: 99999999999999\r\n\r\n{")
            let answer = declared.receive(within: 3).text
            XCTAssertTrue(answer.hasPrefix("HTTP/1.1 413"), answer)

            let slow = try RawSocket(port: port)
            defer { slow.close() }
            slow.send("GET /api/projects HTTP/1.1\r\nHost: x\r\n")  // the head never ends
            let started = Date()
            XCTAssertTrue(slow.receive(within: 10).closed, "an unfinished head is not held open")
            XCTAssertLessThan(Date().timeIntervalSince(started), 8)
        }
    }

    func testPagesAreServedWithAStrictContentSecurityPolicy() async throws {
        let database = try await TestDatabase()
        try await database.withServer { api in
            let page = try await api.send("GET", "/label?project=1")
            XCTAssertEqual(page.status, 200)
            XCTAssertTrue(page.text.contains(#"data-project="1""#))
            let policy = try XCTUnwrap(page.headers["content-security-policy"])
            XCTAssertTrue(policy.contains("script-src 'self'"), policy)
            XCTAssertFalse(policy.contains("unsafe-inline"), policy)
            XCTAssertEqual(page.headers["x-content-type-options"], "nosniff")
            let adminPage = try await api.send("GET", "/admin")
            XCTAssertEqual(adminPage.status, 200)
            let script = try await api.send("GET", "/static/label.js")
            XCTAssertEqual(script.headers["content-type"], "text/javascript; charset=utf-8")
            let outside = try await api.send("GET", "/static/Package.swift")
            XCTAssertEqual(outside.status, 404)
        }
    }
}
