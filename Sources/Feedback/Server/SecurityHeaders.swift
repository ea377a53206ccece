import Hummingbird

/// Headers on every response that keep untrusted text inert even if it ever reached markup: scripts and
/// styles only from this server (no inline script, no event-handler attributes), no framing, no MIME
/// sniffing, no referrer, and no caching of API answers.
struct SecurityHeaders: RouterMiddleware {
    func handle(_ request: Request, context: FeedbackContext,
                next: (Request, FeedbackContext) async throws -> Response) async throws -> Response {
        var response: Response
        do {
            response = try await next(request, context)
        } catch let error as any HTTPResponseError {
            response = try error.response(from: request, context: context)
        }
        response.headers[.contentSecurityPolicy] = "default-src 'none'; script-src 'self'; style-src 'self'; "
            + "img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
        response.headers[.xContentTypeOptions] = "nosniff"
        response.headers[.referrerPolicy] = "no-referrer"
        response.headers[.cacheControl] = "no-store"
        return response
    }
}

extension HTTPFields.Element.Name {
    static var referrerPolicy: Self { Self("Referrer-Policy")! }
}
