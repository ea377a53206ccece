import Hummingbird

/// The request context: Hummingbird's core storage plus who is calling, set by `BearerAuthentication`.
public struct FeedbackContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    var identity: Identity?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
    }

    public func requireAdmin() throws {
        guard identity == .admin else { throw FeedbackError.forbidden("only the admin may do this") }
    }

    /// The calling labeler's id; admins do not label.
    func requireLabeler() throws -> Int64 {
        guard case .labeler(let id) = identity else { throw FeedbackError.forbidden("only labelers may do this") }
        return id
    }

    /// The calling chat user's id.
    public func requireUser() throws -> Int64 {
        guard case .user(let id) = identity else { throw FeedbackError.forbidden("only chat users may do this") }
        return id
    }

    /// The caller may act for chat user `id`: the user themself or the admin.
    public func requireUserOrAdmin(_ id: Int64) throws {
        switch identity {
        case .admin: return
        case .user(let user) where user == id: return
        default: throw FeedbackError.forbidden("only user \(id) and the admin may do this")
        }
    }

    public func requireIdentity() throws -> Identity {
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
