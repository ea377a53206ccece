import ArgumentParser
import Feedback
import Foundation

struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the labeling web app: JSON API, labeler page and admin page.",
        discussion: """
            Everything is kept in the SQLite file --db (WAL, synchronous=FULL: an acknowledged submission survives \
            a crash). The admin token is RLHF_ADMIN_TOKEN when set; otherwise one is generated and printed on the \
            first start only (tokens are stored hashed). Open /admin#token=ADMIN_TOKEN to create projects, upload \
            items and invite labelers; each labeler gets a personal link /label?project=ID#token=THEIR_TOKEN. \
            The API is described in docs/openapi.yaml.
            """)

    @Option(help: "SQLite database file; created when missing.")
    var db: String

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on; 0 picks a free one (printed).")
    var port = 8080

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be in 0...65535") }
    }

    func run() throws {
        let (db, host, port) = (db, host, port)
        try runAsync {
            let store = try FeedbackStore(path: db)
            let environmentToken = ProcessInfo.processInfo.environment["RLHF_ADMIN_TOKEN"]
            if let token = try await store.prepareAdminToken(environmentToken: environmentToken) {
                printLine("admin token (shown only this once; keep it, or set RLHF_ADMIN_TOKEN): \(token)")
            }
            let app = try FeedbackServer.application(store: store, host: host, port: port) { boundPort in
                printLine("serving \(db) on http://\(host):\(boundPort) (admin page: /admin#token=ADMIN_TOKEN)")
            }
            try await app.runService()
        }
    }
}

/// One line on stdout, written at once (a pipe would otherwise buffer it).
private func printLine(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
