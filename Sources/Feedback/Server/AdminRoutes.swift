import Foundation
import Hummingbird

/// The admin's API (projects, items, labelers, members, stats, exports) and the project listings members see.
struct AdminRoutes {
    let store: FeedbackStore
    let limits: RequestLimits

    func register(on api: RouterGroup<FeedbackContext>) {
        api.post("projects") { request, context in
            try context.requireAdmin()
            let id = try await store.createProject(try await request.decodeJSON(ProjectSettings.self, limit: limits.json))
            return try jsonResponse(["id": id], status: .created)
        }
        api.get("projects") { _, context in
            try jsonResponse(try await store.projects(visibleTo: try context.requireIdentity()))
        }
        api.get("projects/:id") { _, context in
            try jsonResponse(try await store.project(try context.parameters.require("id", as: Int64.self),
                                                     visibleTo: try context.requireIdentity()))
        }
        api.post("projects/:id/items") { request, context in
            try context.requireAdmin()
            let items = try ItemUpload.parse(try await request.bodyData(limit: limits.items))
            let added = try await store.addItems(items, to: try context.parameters.require("id", as: Int64.self))
            return try jsonResponse(["added": added], status: .created)
        }
        api.post("projects/:id/members") { request, context in
            try context.requireAdmin()
            let project = try context.parameters.require("id", as: Int64.self)
            let labeler = try await request.decodeJSON(MemberRequest.self, limit: limits.json).labelerID
            try await store.addMember(labeler: labeler, project: project)
            return try jsonResponse(["project_id": project, "labeler_id": labeler], status: .created)
        }
        api.get("projects/:id/stats") { request, context in
            try jsonResponse(ProjectStats(try await analysis(request, context)))
        }
        api.get("projects/:id/export") { request, context in
            guard let name = request.uri.queryParameters["format"], let format = ExportFormat(rawValue: String(name)) else {
                throw FeedbackError.invalid("format must be one of \(ExportFormat.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            var analysis = try await analysis(request, context)
            if ["true", "1"].contains(request.uri.queryParameters["exclude_unreliable"]) { analysis = analysis.excludingUnreliable() }
            let filename = "project-\(analysis.snapshot.project.id)-\(format.rawValue).jsonl"
            return Response(status: .ok, headers: [.contentType: "application/x-ndjson; charset=utf-8",
                                                   .contentDisposition: "attachment; filename=\"\(filename)\""],
                            body: .init(byteBuffer: ByteBuffer(bytes: try analysis.export(format))))
        }
        api.post("labelers") { request, context in
            try context.requireAdmin()
            let name = try await request.decodeJSON(LabelerRequest.self, limit: limits.json).name
            // The prefix marks AI labelers, which stay out of the human consensus: a person may not take it.
            guard !name.hasPrefix(ProjectAnalysis.aiPrefix) else {
                throw FeedbackError.invalid("names starting with \(ProjectAnalysis.aiPrefix) are for AI labelers (rlhf feedback ai-label)")
            }
            return try jsonResponse(try await store.createLabeler(name: name), status: .created)
        }
        api.get("labelers") { _, context in
            try context.requireAdmin()
            return try jsonResponse(try await store.labelers())
        }
        api.post("labelers/:id/tokens") { _, context in
            try context.requireAdmin()
            let labeler = try context.parameters.require("id", as: Int64.self)
            return try jsonResponse(LabelerCredentials(id: labeler, token: try await store.issueToken(labeler: labeler)), status: .created)
        }
        api.delete("labelers/:id/tokens") { _, context in
            try context.requireAdmin()
            return try jsonResponse(["revoked": try await store.revokeTokens(labeler: try context.parameters.require("id", as: Int64.self))])
        }
    }

    /// The project's analysis for stats and exports; `min_tau` overrides the reliability threshold, `labelers` (human,
    /// ai or all) chooses whose rankings make the consensus.
    private func analysis(_ request: Request, _ context: FeedbackContext) async throws -> ProjectAnalysis {
        try context.requireAdmin()
        let project = try context.parameters.require("id", as: Int64.self)
        var threshold = LabelerReliability<Int64>.defaultThreshold
        if let text = request.uri.queryParameters["min_tau"] {
            guard let value = Double(String(text)), value.isFinite else { throw FeedbackError.invalid("min_tau must be a number") }
            threshold = value
        }
        var source = LabelSource.human
        if let text = request.uri.queryParameters["labelers"] {
            guard let value = LabelSource(rawValue: String(text)) else {
                throw FeedbackError.invalid("labelers must be one of \(LabelSource.allCases.map(\.rawValue).joined(separator: ", "))")
            }
            source = value
        }
        return ProjectAnalysis(snapshot: try await store.snapshot(project: project), reliabilityThreshold: threshold, source: source)
    }
}

private struct MemberRequest: Decodable {
    let labelerID: Int64

    enum CodingKeys: String, CodingKey { case labelerID = "labeler_id" }
}

private struct LabelerRequest: Decodable {
    let name: String
}
