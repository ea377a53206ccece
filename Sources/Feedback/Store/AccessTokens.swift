import GRDB

/// Bearer tokens: 256 random bits, shown once, stored only as SHA-256 hashes so a copy of the database grants
/// no access. (A salt would add nothing: a 256-bit random token cannot be guessed from a dictionary, and a token
/// an admin chooses must be at least `minimumAdminTokenLength` characters.)
extension FeedbackStore {
    /// The shortest RLHF_ADMIN_TOKEN accepted.
    public static let minimumAdminTokenLength = 32

    /// Makes sure an admin token exists. With `environmentToken` (RLHF_ADMIN_TOKEN) that token becomes the only
    /// admin token: setting a new one revokes the old. With none and no admin token yet, a new one is made and
    /// returned so the caller can print it, the one time it can be seen. Returns nil when there is nothing new to show.
    public func prepareAdminToken(environmentToken: String?) async throws -> String? {
        if let token = environmentToken, !token.isEmpty {
            try Self.checkAdminToken(token)
            let hash = SHA256.hex(token)
            try await write { db in
                try db.execute(sql: "DELETE FROM token WHERE labeler_id IS NULL AND user_id IS NULL AND hash != ?", arguments: [hash])
                try db.execute(sql: "INSERT OR IGNORE INTO token (hash, labeler_id) VALUES (?, NULL)", arguments: [hash])
            }
            return nil
        }
        let token = Self.newToken()
        let created = try await write { db -> Bool in
            guard try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM token WHERE labeler_id IS NULL AND user_id IS NULL)") != true else { return false }
            try db.execute(sql: "INSERT INTO token (hash, labeler_id) VALUES (?, NULL)", arguments: [SHA256.hex(token)])
            return true
        }
        return created ? token : nil
    }

    /// Who holds this token, or nil for an unknown one.
    public func identity(forToken token: String) async throws -> Identity? {
        let hash = SHA256.hex(token)
        return try await read { db -> Identity? in
            guard let row = try Row.fetchOne(db, sql: "SELECT labeler_id, user_id FROM token WHERE hash = ?", arguments: [hash]) else { return nil }
            let labeler: Int64? = row["labeler_id"], user: Int64? = row["user_id"]
            return labeler.map(Identity.labeler) ?? user.map(Identity.user) ?? .admin
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

    /// A new named row of `table` (a labeler or a chat user) and its first token, in one transaction.
    func createHolder(name: String, table: String, tokenColumn: String) async throws -> (id: Int64, token: String) {
        guard !name.allSatisfy(\.isWhitespace) else { throw FeedbackError.invalid("\"name\" is empty") }
        let token = Self.newToken()
        let id = try await write { db in
            try db.execute(sql: "INSERT INTO \(table) (name) VALUES (?)", arguments: [name])
            let id = db.lastInsertedRowID
            try db.execute(sql: "INSERT INTO token (hash, \(tokenColumn)) VALUES (?, ?)", arguments: [SHA256.hex(token), id])
            return id
        }
        return (id, token)
    }

    /// Refuses an admin token too short to be safe from guessing.
    public static func checkAdminToken(_ token: String) throws {
        guard token.count >= minimumAdminTokenLength else {
            throw FeedbackError.invalid("RLHF_ADMIN_TOKEN has \(token.count) characters; use at least \(minimumAdminTokenLength) "
                                        + "(e.g. 64 hex digits from `openssl rand -hex 32`)")
        }
    }

    /// Revokes every token of a labeler (a leaked link); returns how many there were. A new one is `issueToken`'s.
    public func revokeTokens(labeler: Int64) async throws -> Int {
        try await write { db in
            try Self.requireLabeler(labeler, db)
            try db.execute(sql: "DELETE FROM token WHERE labeler_id = ?", arguments: [labeler])
            return db.changesCount
        }
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
