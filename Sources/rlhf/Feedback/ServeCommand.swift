import ArgumentParser
import Data
import Feedback
import Foundation

struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Run the labeling web app: JSON API, labeler page and admin page.",
        discussion: """
            Everything is kept in the SQLite file --db (WAL, synchronous=FULL: an acknowledged submission survives \
            a crash; the file is readable by its owner only). The admin token is RLHF_ADMIN_TOKEN when set (at \
            least 32 characters; setting a new one revokes the old); otherwise one is generated and printed on the \
            first start only (tokens are stored hashed). A leaked labeler link is revoked with DELETE \
            /api/labelers/ID/tokens. Open /admin#token=ADMIN_TOKEN to create projects, upload \
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
            let environmentToken = ProcessInfo.processInfo.environment["RLHF_ADMIN_TOKEN"]
            if let environmentToken, !environmentToken.isEmpty { try FeedbackStore.checkAdminToken(environmentToken) }
            let store = try FeedbackStore(path: db)
            if let environmentToken, !environmentToken.isEmpty {
                // Rotated before serving: no request may still pass with an old admin token.
                _ = try await store.prepareAdminToken(environmentToken: environmentToken)
            }
            let app = try FeedbackServer.application(store: store, host: host, port: port) { boundPort in
                // A generated token only once the port is ours: a failed start neither shows nor stores one nobody sees.
                if environmentToken?.isEmpty ?? true {
                    do {
                        if let token = try await store.prepareAdminToken(environmentToken: nil) {
                            printLine("admin token (shown only this once; keep it, or set RLHF_ADMIN_TOKEN): \(token)")
                        }
                    } catch {
                        printLine("error: no admin token could be made (\(error)); restart to try again")
                    }
                }
                printLine("serving \(db) on http://\(host):\(boundPort) (admin page: /admin#token=ADMIN_TOKEN)")
            }
            do { try await app.runService() } catch where "\(error)".contains("Address already in use") {
                throw JobError("cannot listen on \(host):\(port): the address is already in use (another rlhf serve?); choose another --port")
            }
        }
    }
}

/// One line on stdout, written at once (a pipe would otherwise buffer it).
private func printLine(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}
