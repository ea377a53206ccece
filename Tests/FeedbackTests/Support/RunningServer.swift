import Feedback
import Hummingbird
import HummingbirdTesting

extension TestDatabase {
    /// Runs the labeling server (with `extensions`' routes, e.g. the personalized chat) on a free loopback port for the
    /// duration of `body`.
    func withServer<T: Sendable>(limits: RequestLimits = RequestLimits(), extensions: [any ServerExtension] = [],
                                 _ body: @Sendable (LoopbackClient) async throws -> T) async throws -> T {
        let app = try FeedbackServer.application(store: store, port: 0, limits: limits, extensions: extensions)
        return try await app.test(.live) { client in
            try await body(LoopbackClient(port: client.port!))
        }
    }
}
