import Hummingbird

/// The labelers' API: the next item, judging it, and going back to earlier ones.
struct LabelerRoutes {
    let store: FeedbackStore
    let limits: RequestLimits

    func register(on api: RouterGroup<FeedbackContext>) {
        api.get("projects/:id/next") { _, context in
            let project = try context.parameters.require("id", as: Int64.self)
            guard let item = try await store.nextItem(project: project, labeler: try context.requireLabeler()) else {
                return Response(status: .noContent)
            }
            return try jsonResponse(item)
        }
        api.get("projects/:id/progress") { _, context in
            try jsonResponse(try await store.progress(project: try context.parameters.require("id", as: Int64.self),
                                                      labeler: try context.requireLabeler()))
        }
        api.get("projects/:id/submissions") { _, context in
            try jsonResponse(try await store.submissions(project: try context.parameters.require("id", as: Int64.self),
                                                         labeler: try context.requireLabeler()))
        }
        api.get("items/:id") { _, context in
            try jsonResponse(try await store.labeledItem(try context.parameters.require("id", as: Int64.self),
                                                         for: try context.requireIdentity()))
        }
        api.post("items/:id/ranking") { request, context in
            let item = try context.parameters.require("id", as: Int64.self)
            let labeler = try context.requireLabeler()
            let ranking = try await request.decodeJSON(RankingSubmission.self, limit: limits.json)
            try await store.submitRanking(ranking, item: item, labeler: labeler)
            return try jsonResponse(["item_id": item])
        }
        api.post("items/:id/thumb") { request, context in
            let item = try context.parameters.require("id", as: Int64.self)
            let labeler = try context.requireLabeler()
            let thumb = try await request.decodeJSON(ThumbSubmission.self, limit: limits.json)
            try await store.submitThumb(thumb, item: item, labeler: labeler)
            return try jsonResponse(["item_id": item])
        }
        api.post("items/:id/skip") { _, context in
            let item = try context.parameters.require("id", as: Int64.self)
            try await store.skip(item: item, labeler: try context.requireLabeler())
            return try jsonResponse(["item_id": item])
        }
    }
}
