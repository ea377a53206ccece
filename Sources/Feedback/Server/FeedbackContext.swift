import Hummingbird

/// The request context: Hummingbird's core storage plus who is calling, set by `BearerAuthentication`.
public struct FeedbackContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    var identity: Identity?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
    }

    func requireAdmin() throws {
        guard identity == .admin else { throw FeedbackError.forbidden("only the admin may do this") }
    }

    /// The calling labeler's id; admins do not label.
    func requireLabeler() throws -> Int64 {
        guard case .labeler(let id) = identity else { throw FeedbackError.forbidden("only labelers may do this") }
        return id
    }

    func requireIdentity() throws -> Identity {
        guard let identity else { throw HTTPError(.unauthorized) }
        return identity
    }
}

/// Resolves `Authorization: Bearer <token>` to an identity; anything else is 401.
struct BearerAuthentication: RouterMiddleware {
    let store: FeedbackStore

    func handle(_ request: Request, context: FeedbackContext,
                next: (Request, FeedbackContext) async throws -> Response) async throws -> Response {
        guard let header = request.headers[.authorization], header.count > 7,
              header.prefix(7).lowercased() == "bearer ",
              let identity = try await store.identity(forToken: String(header.dropFirst(7)).trimmingCharacters(in: .whitespaces))
        else {
            throw HTTPError(.unauthorized, headers: [.wwwAuthenticate: "Bearer"], message: "a valid bearer token is required")
        }
        var context = context
        context.identity = identity
        return try await next(request, context)
    }
}
