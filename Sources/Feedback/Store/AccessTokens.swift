import GRDB

/// Bearer tokens: 256 random bits, shown once, stored only as SHA-256 hashes so a copy of the database grants
/// no access.
extension FeedbackStore {
    /// Makes sure an admin token exists. With `environmentToken` (RLHF_ADMIN_TOKEN) that token is accepted; with
    /// none and no admin token yet, a new one is made and returned so the caller can print it, the one time it
    /// can be seen. Returns nil when there is nothing new to show.
    public func prepareAdminToken(environmentToken: String?) async throws -> String? {
        if let token = environmentToken, !token.isEmpty {
            let hash = SHA256.hex(token)
            try await write { db in
                try db.execute(sql: "INSERT OR IGNORE INTO token (hash, labeler_id) VALUES (?, NULL)", arguments: [hash])
            }
            return nil
        }
        let token = Self.newToken()
        let created = try await write { db -> Bool in
            guard try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM token WHERE labeler_id IS NULL)") != true else { return false }
            try db.execute(sql: "INSERT INTO token (hash, labeler_id) VALUES (?, NULL)", arguments: [SHA256.hex(token)])
            return true
        }
        return created ? token : nil
    }

    /// Who holds this token, or nil for an unknown one.
    public func identity(forToken token: String) async throws -> Identity? {
        let hash = SHA256.hex(token)
        return try await read { db -> Identity? in
            guard let row = try Row.fetchOne(db, sql: "SELECT labeler_id FROM token WHERE hash = ?", arguments: [hash]) else { return nil }
            let labeler: Int64? = row["labeler_id"]
            return labeler.map(Identity.labeler) ?? .admin
        }
    }

    /// A fresh token for an existing labeler (e.g. a lost link); earlier tokens keep working.
    public func issueToken(labeler: Int64) async throws -> String {
        let token = Self.newToken()
        try await write { db in
            try Self.requireLabeler(labeler, db)
            try db.execute(sql: "INSERT INTO token (hash, labeler_id) VALUES (?, ?)", arguments: [SHA256.hex(token), labeler])
        }
        return token
    }

    /// 32 bytes from the system's cryptographic generator, as 64 hex digits (URL-safe for `#token=`).
    static func newToken() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<4).map { _ in
            let word = String(generator.next() as UInt64, radix: 16)
            return String(repeating: "0", count: 16 - word.count) + word
        }.joined()
    }
}
