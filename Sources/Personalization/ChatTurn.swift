import Feedback
import Foundation
import Hummingbird
import Models

/// One chat turn: the user's conversation rendered to a prompt, one or two replies from their adapter, stored with
/// the adapter version that wrote them.
struct ChatTurn: Sendable {
    let server: PersonalizationServer
    let user: Int64
    let messages: [ChatTurnMessage]
    let mode: ChatMode
    let maxNewTokens: Int
    let temperature: Float
    let prompt: String
    let adapter: AdapterKey?

    /// Compare mode draws the second reply again (without streaming it) when it comes out the same as the first.
    private static let redraws = 3

    init(server: PersonalizationServer, user: Int64, request: ChatRequest) async throws {
        guard let last = request.messages.last, last.role == "user" else {
            throw FeedbackError.invalid("\"messages\" must end with a user message")
        }
        if let bad = request.messages.first(where: { !["system", "user", "assistant"].contains($0.role) }) {
            throw FeedbackError.invalid("message role \"\(bad.role)\" is not system, user or assistant")
        }
        (self.server, self.user, messages, mode) = (server, user, request.messages, request.mode)
        (maxNewTokens, temperature) = try request.sampling.resolved(server.config)
        do {
            prompt = try server.prompt(for: messages)
        } catch {
            throw FeedbackError.invalid("the conversation does not render with the chat template: \(error)")
        }
        adapter = try await server.adapterKey(user: user)
    }

    /// Generates, stores and returns the turn; `onText(reply, piece)` hears the replies as they are decoded.
    func run(onText: @escaping @Sendable (Int, String) -> Void = { _, _ in }) async throws -> StoredChatTurn {
        let ids = server.tokenizer.encodeRendered(prompt)
        let seed = server.nextSeed(user: user)
        // Temperature 0 is greedy; compare mode then samples its second reply at temperature 1 so the two can differ.
        let temperatures = mode == .compare ? [temperature, temperature > 0 ? temperature : 1] : [temperature]
        let samplings = temperatures.enumerated().map { SamplingOptions(temperature: $1, seed: seed &+ UInt64($0)) }
        var replies: [String]
        do {
            replies = try await server.engine.replies(ReplyRequest(prompt: ids, samplings: samplings, maxNewTokens: maxNewTokens,
                                                                  adapter: adapter, onText: onText))
            var draw = 0
            while mode == .compare, replies[1] == replies[0], draw < Self.redraws {
                draw += 1
                let again = SamplingOptions(temperature: temperatures[1], seed: seed &+ UInt64(1 + 2 * draw))
                replies[1] = try await server.engine.replies(ReplyRequest(prompt: ids, samplings: [again], maxNewTokens: maxNewTokens,
                                                                         adapter: adapter, onText: { _, _ in }))[0]
            }
        } catch let error as ModelError {
            throw FeedbackError.invalid("\(error)")
        }
        return try await server.store.addChatTurn(user: user, messages: messages, prompt: prompt, mode: mode,
                                                  adapterVersion: adapter?.version ?? 0, replies: replies)
    }

    /// The turn as server-sent events: `delta` {"reply", "text"} pieces, then `done` with the stored turn (the final
    /// texts), or `error` {"error": {"message"}}.
    func eventStream() -> Response {
        let (stream, continuation) = AsyncStream<ByteBuffer>.makeStream()
        let turn = self
        Task {
            do {
                let stored = try await turn.run { index, piece in
                    continuation.yield(Self.event("delta", DeltaEvent(reply: index, text: piece)))
                }
                continuation.yield(Self.event("done", stored))
            } catch {
                continuation.yield(Self.event("error", ["error": ["message": "\(error)"]]))
            }
            continuation.finish()
        }
        return Response(status: .ok, headers: [.contentType: "text/event-stream; charset=utf-8", .cacheControl: "no-cache"],
                        body: ResponseBody(asyncSequence: stream))
    }

    private struct DeltaEvent: Encodable {
        let reply: Int
        let text: String
    }

    /// JSON never holds a raw newline, so one `data:` line carries it.
    private static func event(_ name: String, _ value: some Encodable) -> ByteBuffer {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        let json = (try? encoder.encode(value)).map { String(decoding: $0, as: UTF8.self) } ?? "{}"
        return ByteBuffer(string: "event: \(name)\ndata: \(json)\n\n")
    }
}
