import Hummingbird
import HummingbirdCore
import Logging

/// The labeling web app: JSON API under /api (bearer tokens), the labeler page at /label?project=ID and the
/// admin page at /admin.
public enum FeedbackServer {
    /// The application, ready to `runService()` (or to test). `onRunning` gets the bound port (useful with
    /// port 0). `extensions` add their pages and API routes (e.g. the personalized chat of a server with a model).
    public static func application(store: FeedbackStore, host: String = "127.0.0.1", port: Int = 8080,
                                   limits: RequestLimits = RequestLimits(), extensions: [any ServerExtension] = [],
                                   onRunning: @escaping @Sendable (Int) async -> Void = { _ in }) throws -> some ApplicationProtocol {
        let router = Router(context: FeedbackContext.self)
        router.add(middleware: SecurityHeaders())
        PageRoutes(assets: try WebAssets.load()).register(on: router)
        let api = router.group("api").add(middleware: BearerAuthentication(store: store))
        AdminRoutes(store: store, limits: limits).register(on: api)
        LabelerRoutes(store: store, limits: limits).register(on: api)
        for routes in extensions { routes.register(api: api) }
        var logger = Logger(label: "rlhf.serve")
        logger.logLevel = .warning
        return Application(router: router, server: .http1(configuration: .init(idleTimeout: .seconds(limits.idleSeconds))),
                           configuration: .init(address: .hostname(host, port: port), serverName: "rlhf",
                                                availableConnectionsDelegate: MaximumAvailableConnections(limits.maxConnections)),
                           onServerRunning: { channel in await onRunning(channel.localAddress?.port ?? port) },
                           logger: logger)
    }
}

/// JSON routes a server gains from outside the labeling app, on `api` (behind the bearer tokens). Its pages are
/// the app's (the chat page is served by every server; its API answers only where an extension adds it).
public protocol ServerExtension: Sendable {
    func register(api: RouterGroup<FeedbackContext>)
}
