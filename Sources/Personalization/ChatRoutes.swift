import Feedback
import Foundation
import Hummingbird
import Models

/// The end users' API (docs/openapi.yaml): chat turns streamed or answered whole, feedback on them, and the
/// adapter that learns from it; for the admin, users, their export and deletion, and completions for prompts.
struct ChatRoutes {
    let server: PersonalizationServer
    private let limit = 256 * 1024

    func register(on api: RouterGroup<FeedbackContext>) {
        let server = server, limit = limit
        api.post("users") { request, context in
            try context.requireAdmin()
            let body = try await request.decodeJSON([String: String].self, limit: limit)
            return try jsonResponse(try await server.store.createChatUser(name: body["name"] ?? ""), status: .created)
        }
        api.get("users") { _, context in
            try context.requireAdmin()
            return try jsonResponse(try await server.store.chatUsers())
        }
        api.get("me") { _, context in try jsonResponse(try await server.store.chatUser(try context.requireUser())) }
        api.post("chat") { request, context in
            let user = try context.requireUser()
            let chat = try await request.decodeJSON(ChatRequest.self, limit: limit)
            let turn = try await ChatTurn(server: server, user: user, request: chat)
            guard request.headers[.accept]?.contains("text/event-stream") == true else { return try jsonResponse(try await turn.run()) }
            return turn.eventStream()
        }
        api.post("chat/:turn/feedback") { request, context in
            let user = try context.requireUser()
            let feedback = try await request.decodeJSON(ChatFeedback.self, limit: limit)
            let event = try await server.store.addChatFeedback(feedback, turn: try context.parameters.require("turn", as: Int64.self), user: user)
            server.worker.notify()
            return try jsonResponse(["event": event], status: .created)
        }
        api.get("users/:id/adapter") { _, context in
            let user = try context.parameters.require("id", as: Int64.self)
            try context.requireUserOrAdmin(user)
            return try jsonResponse(try await AdapterStatus(server: server, user: user))
        }
        api.post("users/:id/adapter/rollback") { _, context in
            let user = try context.parameters.require("id", as: Int64.self)
            try context.requireUserOrAdmin(user)
            _ = try await server.store.rollBackAdapter(user: user)
            server.engine.evict(user: user)
            return try jsonResponse(try await AdapterStatus(server: server, user: user))
        }
        api.get("users/:id/export") { _, context in
            try context.requireAdmin()
            let user = try context.parameters.require("id", as: Int64.self)
            var export = try await server.store.exportChatUser(user)
            export.adapterFiles = try server.files.export(user: user)
            return try jsonResponse(export)
        }
        api.delete("users/:id") { _, context in
            try context.requireAdmin()
            try await server.forget(user: try context.parameters.require("id", as: Int64.self))
            return Response(status: .noContent)
        }
        api.get("personalization") { _, context in
            try context.requireAdmin()
            return try jsonResponse(ServerStatistics(server: server))
        }
        api.post("projects/:id/prompts") { request, context in
            try context.requireAdmin()
            let project = try context.parameters.require("id", as: Int64.self)
            let body = try await request.decodeJSON(PromptsRequest.self, limit: 8 * 1024 * 1024)
            let items = try await body.items(server: server)
            return try jsonResponse(["added": try await server.store.addItems(items, to: project)], status: .created)
        }
    }
}

/// `POST /api/chat`'s body.
struct ChatRequest: Decodable, Sendable {
    let messages: [ChatTurnMessage]
    let mode: ChatMode
    let sampling: RequestedSampling

    enum CodingKeys: String, CodingKey {
        case messages, mode
    }

    init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        messages = try container.decode([ChatTurnMessage].self, forKey: .messages)
        mode = try container.decodeIfPresent(ChatMode.self, forKey: .mode) ?? .compare
        sampling = try RequestedSampling(from: decoder)
    }
}

/// `POST /api/projects/{id}/prompts`' body: bare prompts, each to get `k` sampled completions from the base model.
struct PromptsRequest: Decodable, Sendable {
    struct Prompt: Decodable, Sendable {
        let prompt: String
        let id: String?
    }

    let prompts: [Prompt]
    let k: Int
    let sampling: RequestedSampling

    enum CodingKeys: String, CodingKey {
        case prompts, k
    }

    init(from decoder: Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        prompts = try container.decode([Prompt].self, forKey: .prompts)
        k = try container.decodeIfPresent(Int.self, forKey: .k) ?? 4
        sampling = try RequestedSampling(from: decoder)
    }

    func items(server: PersonalizationServer) async throws -> [NewItem] {
        guard !prompts.isEmpty else { throw FeedbackError.invalid("\"prompts\" is empty") }
        guard (2...16).contains(k) else { throw FeedbackError.invalid("\"k\" must be in 2...16 (completions to rank per prompt)") }
        let (maxNewTokens, temperature) = try sampling.resolved(server.config)
        var items: [NewItem] = []
        for (index, entry) in prompts.enumerated() {
            guard !entry.prompt.isEmpty else { throw FeedbackError.invalid("prompt \(index + 1) is empty") }
            let seed = server.nextSeed(user: 0)
            let request = ReplyRequest(prompt: server.tokenizer.encode(entry.prompt),
                                       samplings: (0..<k).map { SamplingOptions(temperature: temperature, seed: seed &+ UInt64($0)) },
                                       maxNewTokens: maxNewTokens, adapter: nil, onText: { _, _ in })
            let texts = try await server.engine.replies(request)
            items.append(NewItem(externalID: entry.id, prompt: entry.prompt,
                                 completions: texts.map { NewCompletion(text: $0, model: server.config.model) }))
        }
        return items
    }
}

/// A request's new-token budget and temperature, when it gives them; the server's defaults fill the rest.
struct RequestedSampling: Decodable, Sendable {
    let maxNewTokens: Int?
    let temperature: Float?

    enum CodingKeys: String, CodingKey {
        case temperature, maxNewTokens = "max_new_tokens"
    }

    func resolved(_ config: PersonalizationConfig) throws -> (maxNewTokens: Int, temperature: Float) {
        let (tokens, temperature) = (maxNewTokens ?? config.maxNewTokens, self.temperature ?? config.temperature)
        guard (1...config.maxNewTokensLimit).contains(tokens) else {
            throw FeedbackError.invalid("\"max_new_tokens\" must be in 1...\(config.maxNewTokensLimit)")
        }
        guard temperature >= 0, temperature <= 10 else { throw FeedbackError.invalid("\"temperature\" must be in [0, 10]") }
        return (tokens, temperature)
    }
}

/// `GET /api/users/{id}/adapter`.
struct AdapterStatus: Encodable {
    let version: Int
    let events: Int
    let pending: Int
    let training: Bool
    let versions: [AdapterVersionRecord]

    init(server: PersonalizationServer, user: Int64) async throws {
        version = try await server.store.chatUser(user).adapterVersion
        (events, pending) = try await server.store.eventCounts(user: user)
        training = server.worker.trainingUser == user
        versions = try await server.store.adapterVersions(user: user)
    }
}

/// `GET /api/personalization`: what serving and training have cost so far.
struct ServerStatistics: Encodable {
    let decoding: EngineStatistics
    let loadedAdapters: Int
    let bytesPerLoadedAdapter: Int
    let updates: [UpdateRecord]
    let trainingUser: Int64?

    enum CodingKeys: String, CodingKey {
        case decoding, updates, loadedAdapters = "loaded_adapters", bytesPerLoadedAdapter = "bytes_per_loaded_adapter",
             trainingUser = "training_user"
    }

    init(server: PersonalizationServer) {
        (decoding, loadedAdapters, bytesPerLoadedAdapter) = (server.engine.snapshot, server.engine.loadedAdapterCount, server.engine.bytesPerAdapter)
        (updates, trainingUser) = (server.worker.updates, server.worker.trainingUser)
    }
}

extension PersonalizationError: HTTPResponseError {
    var status: HTTPResponse.Status { .serviceUnavailable }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        try HTTPError(status, message: description).response(from: request, context: context)
    }
}
