import Hummingbird

/// The store's refusals answer as HTTP errors with their message as the JSON body `{"error": {"message"}}`.
extension FeedbackError: HTTPResponseError {
    public var status: HTTPResponse.Status {
        switch self {
        case .invalid: .badRequest
        case .forbidden: .forbidden
        case .notFound: .notFound
        case .conflict: .conflict
        }
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        try HTTPError(status, message: description).response(from: request, context: context)
    }
}
