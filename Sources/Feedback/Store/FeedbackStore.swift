import Foundation
import GRDB

/// The labeling database: one SQLite file in WAL mode with `synchronous = FULL`, so a write is on disk when its
/// transaction returns and an acknowledged submission survives a crash or power loss. Many readers run beside
/// the single writer, whose transactions serialize assignment and submission.
public final class FeedbackStore: Sendable {
    public let path: String
    /// An open assignment older than this many seconds was abandoned: it goes back to the pool (see `nextItem`).
    public let assignmentTimeout: Double
    let pool: DatabasePool

    /// An hour: longer than anyone takes over one item, short enough that a closed tab does not hold a slot all day.
    public static let defaultAssignmentTimeout: Double = 3600

    public init(path: String, assignmentTimeout: Double = defaultAssignmentTimeout) throws {
        guard assignmentTimeout > 0 else { throw FeedbackError.invalid("the assignment timeout must be positive (got \(assignmentTimeout))") }
        self.assignmentTimeout = assignmentTimeout
        try Self.restrictToOwner(path)
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

    /// Labels, completions and token hashes are nobody else's business: the database is created owner-only
    /// (SQLite gives its -wal and -shm files the database's mode), and an existing one of ours loses its group and
    /// other bits (never gains any; one owned by someone else is left as it is).
    private static func restrictToOwner(_ path: String) throws {
        let files = FileManager.default
        if !files.fileExists(atPath: path), !files.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o600]) {
            throw FeedbackError.invalid("\(path): cannot create the database file")
        }
        for file in [path, path + "-wal", path + "-shm"] {
            guard let mode = (try? files.attributesOfItem(atPath: file))?[.posixPermissions] as? Int, mode & 0o077 != 0 else { continue }
            try? files.setAttributes([.posixPermissions: mode & 0o700], ofItemAtPath: file)
        }
    }

    func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await pool.read(body)
    }

    /// One transaction on the single writer connection.
    func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await pool.write(body)
    }
}
