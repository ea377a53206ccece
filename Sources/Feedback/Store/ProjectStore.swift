import GRDB

/// Projects, labelers and who is a member of what.
extension FeedbackStore {
    public func createProject(_ settings: ProjectSettings) async throws -> Int64 {
        let settings = try settings.validated()
        return try await write { db in
            try db.execute(sql: """
                INSERT INTO project (name, guidelines, criterion, labelers_per_item, mode) VALUES (?, ?, ?, ?, ?)
                """, arguments: [settings.name, settings.guidelines, settings.criterion, settings.labelersPerItem,
                                 settings.mode.rawValue])
            return db.lastInsertedRowID
        }
    }

    /// The project, for the admin or one of its members.
    public func project(_ id: Int64, visibleTo identity: Identity) async throws -> Project {
        try await read { db in
            try Self.requireAccess(identity, project: id, db)
            return try Self.project(id, db)
        }
    }

    /// Every project for the admin; a labeler's own projects for a labeler; none for a chat user.
    public func projects(visibleTo identity: Identity) async throws -> [Project] {
        try await read { db in
            let ids: [Int64]
            switch identity {
            case .admin: ids = try Int64.fetchAll(db, sql: "SELECT id FROM project ORDER BY id")
            case .user: ids = []
            case .labeler(let labeler):
                ids = try Int64.fetchAll(db, sql: "SELECT project_id FROM membership WHERE labeler_id = ? ORDER BY project_id",
                                         arguments: [labeler])
            }
            return try ids.map { try Self.project($0, db) }
        }
    }

    /// A new labeler and its first token.
    public func createLabeler(name: String) async throws -> LabelerCredentials {
        let (id, token) = try await createHolder(name: name, table: "labeler", tokenColumn: "labeler_id")
        return LabelerCredentials(id: id, token: token)
    }

    public func labelers() async throws -> [Labeler] {
        try await read { db in
            try Row.fetchAll(db, sql: """
                SELECT labeler.id, labeler.name, group_concat(membership.project_id) AS projects
                FROM labeler LEFT JOIN membership ON membership.labeler_id = labeler.id
                GROUP BY labeler.id ORDER BY labeler.id
                """).map { row in
                let projects: String? = row["projects"]
                return Labeler(id: row["id"], name: row["name"],
                               projects: (projects ?? "").split(separator: ",").compactMap { Int64($0) }.sorted())
            }
        }
    }

    /// Makes the labeler a member of the project; adding an existing member again changes nothing.
    public func addMember(labeler: Int64, project: Int64) async throws {
        try await write { db in
            _ = try Self.project(project, db)
            try Self.requireLabeler(labeler, db)
            try db.execute(sql: "INSERT OR IGNORE INTO membership (project_id, labeler_id) VALUES (?, ?)", arguments: [project, labeler])
        }
    }

    static func project(_ id: Int64, _ db: Database) throws -> Project {
        guard let row = try Row.fetchOne(db, sql: """
            SELECT project.*, (SELECT count(*) FROM item WHERE item.project_id = project.id) AS item_count
            FROM project WHERE id = ?
            """, arguments: [id]) else { throw FeedbackError.notFound("no project \(id)") }
        let mode: String = row["mode"]
        let settings = ProjectSettings(name: row["name"], guidelines: row["guidelines"], criterion: row["criterion"],
                                       labelersPerItem: row["labelers_per_item"], mode: ProjectMode(rawValue: mode) ?? .ranking)
        return Project(id: id, settings: settings, itemCount: row["item_count"])
    }

    static func requireLabeler(_ id: Int64, _ db: Database) throws {
        guard try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM labeler WHERE id = ?)", arguments: [id]) == true else {
            throw FeedbackError.notFound("no labeler \(id)")
        }
    }

    /// Admins see every project; a labeler only those it is a member of; chat users none.
    static func requireAccess(_ identity: Identity, project: Int64, _ db: Database) throws {
        let labeler: Int64
        switch identity {
        case .admin: return
        case .user: throw FeedbackError.forbidden("chat users have no access to labeling projects")
        case .labeler(let id): labeler = id
        }
        guard try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM membership WHERE project_id = ? AND labeler_id = ?)",
                                arguments: [project, labeler]) == true else {
            throw FeedbackError.forbidden("not a member of project \(project)")
        }
    }
}
