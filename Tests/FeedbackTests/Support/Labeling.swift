import Foundation

/// Labeler-side API calls shared by the tests.
extension LoopbackClient {
    /// The labeler's next item as (item id, completion ids in display order), or nil on 204.
    func nextItem(project: Int64, token: String) async throws -> (item: Int64, completions: [String])? {
        let reply = try await send("GET", "/api/projects/\(project)/next", token: token)
        if reply.status == 204 { return nil }
        guard reply.status == 200 else { throw LabelingError.status(reply.status, reply.text) }
        let object = try reply.object()
        let completions = (object["completions"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
        return ((object["item_id"] as? NSNumber)?.int64Value ?? -1, completions)
    }

    /// The labeler's next item; fails when there is none.
    func requireNextItem(project: Int64, token: String) async throws -> (item: Int64, completions: [String]) {
        guard let next = try await nextItem(project: project, token: token) else { throw LabelingError.status(204, "no item left") }
        return next
    }

    func submitRanking(item: Int64, token: String, ranks: [String: Int], flagged: [String] = []) async throws -> Reply {
        try await send("POST", "/api/items/\(item)/ranking", token: token, json: ["ranks": ranks, "flagged": flagged])
    }

    /// Admin: an export as JSON Lines objects.
    func export(project: Int64, format: String, query: String = "") async throws -> [[String: Any]] {
        let reply = try await send("GET", "/api/projects/\(project)/export?format=\(format)\(query)", token: TestDatabase.adminToken)
        guard reply.status == 200 else { throw LabelingError.status(reply.status, reply.text) }
        return try reply.lines()
    }
}

enum LabelingError: Error {
    case status(Int, String)
}
