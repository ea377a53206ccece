import Foundation
import GRDB

/// The labeling database: one SQLite file in WAL mode with `synchronous = FULL`, so a write is on disk when its
/// transaction returns and an acknowledged submission survives a crash or power loss. Many readers run beside
/// the single writer, whose transactions serialize assignment and submission.
public final class FeedbackStore: Sendable {
    public let path: String
    let pool: DatabasePool

    public init(path: String) throws {
        var configuration = Configuration()
        configuration.busyMode = .timeout(10)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
        }
        do {
            pool = try DatabasePool(path: path, configuration: configuration)
            try Schema.migrator.migrate(pool)
        } catch let error as DatabaseError {
            throw FeedbackError.invalid("\(path): \(error.message ?? "\(error)")")
        }
        self.path = path
    }

    func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await pool.read(body)
    }

    /// One transaction on the single writer connection.
    func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await pool.write(body)
    }
}
