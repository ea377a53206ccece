import GRDB

/// Which item a labeler judges next. Every decision runs in one write transaction on the single writer, so
/// concurrent labelers cannot take the same slot twice; the assignment table's key keeps a labeler from ever
/// getting the same item twice.
extension FeedbackStore {
    /// The labeler's open item in the project, else the least-covered item it has not seen that still needs
    /// labelers, else nil (nothing left for this labeler). Assignments of the project left open longer than
    /// `assignmentTimeout` are taken back first.
    public func nextItem(project: Int64, labeler: Int64) async throws -> LabelingItem? {
        let timeout = assignmentTimeout
        return try await write { db in
            try Self.requireAccess(.labeler(labeler), project: project, db)
            try Self.expireAbandonedAssignments(project: project, timeout: timeout, db)
            let labelersPerItem = try Self.project(project, db).settings.labelersPerItem
            if let open = try Int64.fetchOne(db, sql: """
                SELECT assignment.item_id FROM assignment JOIN item ON item.id = assignment.item_id
                WHERE item.project_id = ? AND assignment.labeler_id = ? AND assignment.state = 'open'
                ORDER BY assignment.assigned_at, assignment.item_id LIMIT 1
                """, arguments: [project, labeler]) {
                return try Self.labelingItem(open, db).item
            }
            guard let itemID = try Int64.fetchOne(db, sql: """
                SELECT id FROM item
                WHERE project_id = ? AND assigned_count < ?
                  AND NOT EXISTS (SELECT 1 FROM assignment WHERE item_id = item.id AND labeler_id = ?)
                ORDER BY assigned_count, id LIMIT 1
                """, arguments: [project, labelersPerItem, labeler]) else { return nil }
            try db.execute(sql: "INSERT INTO assignment (item_id, labeler_id, state) VALUES (?, ?, 'open')", arguments: [itemID, labeler])
            try db.execute(sql: "UPDATE item SET assigned_count = assigned_count + 1 WHERE id = ?", arguments: [itemID])
            return try Self.labelingItem(itemID, db).item
        }
    }

    /// Every item of the project the labeler has not judged yet, each now assigned to it outside the labelers-per-item
    /// quota: for a labeler that judges everything beside the humans (an AI labeler), taking no human's slot.
    public func assignEveryItem(project: Int64, labeler: Int64) async throws -> [LabelingItem] {
        try await write { db in
            try Self.requireAccess(.labeler(labeler), project: project, db)
            let ids = try Int64.fetchAll(db, sql: """
                SELECT id FROM item WHERE project_id = ?
                  AND NOT EXISTS (SELECT 1 FROM assignment WHERE item_id = item.id AND labeler_id = ? AND state = 'done')
                ORDER BY id
                """, arguments: [project, labeler])
            // A skipped item opens again (its slot was given back when skipped); an open one stays as it is.
            for id in ids {
                try db.execute(sql: """
                    INSERT INTO assignment (item_id, labeler_id, state) VALUES (?, ?, 'open')
                    ON CONFLICT (item_id, labeler_id) DO UPDATE SET state = 'open' WHERE state = 'skipped'
                    """, arguments: [id, labeler])
            }
            return try ids.map { try Self.labelingItem($0, db).item }
        }
    }

    /// Gives an open item back so that another labeler can take it; this labeler will not get it again.
    public func skip(item itemID: Int64, labeler: Int64) async throws {
        try await write { db in
            let project = try Self.labelingItem(itemID, db).project
            try Self.requireAccess(.labeler(labeler), project: project, db)
            switch try Self.assignmentState(item: itemID, labeler: labeler, db) {
            case .open:
                try db.execute(sql: "UPDATE assignment SET state = 'skipped' WHERE item_id = ? AND labeler_id = ?",
                               arguments: [itemID, labeler])
                try db.execute(sql: "UPDATE item SET assigned_count = assigned_count - 1 WHERE id = ?", arguments: [itemID])
            case .done: throw FeedbackError.conflict("item \(itemID) is already judged; submit again to change it")
            case .skipped: break
            }
        }
    }

    /// Items judged by the labeler, and that plus the items still open or available to it.
    public func progress(project: Int64, labeler: Int64) async throws -> LabelerProgress {
        try await read { db in
            try Self.requireAccess(.labeler(labeler), project: project, db)
            let labelersPerItem = try Self.project(project, db).settings.labelersPerItem
            let row = try Row.fetchOne(db, sql: """
                SELECT
                  (SELECT count(*) FROM assignment JOIN item ON item.id = assignment.item_id
                   WHERE item.project_id = :project AND assignment.labeler_id = :labeler AND state = 'done') AS done,
                  (SELECT count(*) FROM assignment JOIN item ON item.id = assignment.item_id
                   WHERE item.project_id = :project AND assignment.labeler_id = :labeler AND state = 'open') AS open,
                  (SELECT count(*) FROM item WHERE project_id = :project AND assigned_count < :needed
                   AND NOT EXISTS (SELECT 1 FROM assignment WHERE item_id = item.id AND labeler_id = :labeler)) AS available
                """, arguments: ["project": project, "labeler": labeler, "needed": labelersPerItem])!
            let done: Int = row["done"], open: Int = row["open"], available: Int = row["available"]
            return LabelerProgress(done: done, total: done + open + available)
        }
    }

    /// Gives the slots of assignments open longer than `timeout` seconds back to the pool: the rows go (their
    /// labelers may be given the item again) and the items' coverage drops, in the caller's transaction. A ranking
    /// submitted later on such an assignment is refused, so nothing is counted twice. Left alone: an assignment
    /// with some of its thumbs given (they were acknowledged) and an AI labeler's (outside the quota, never counted).
    static func expireAbandonedAssignments(project: Int64, timeout: Double, _ db: Database) throws {
        // One cutoff for both statements: a row crossing it between them would lose its decrement.
        let cutoff = try String.fetchOne(db, sql: "SELECT strftime('%Y-%m-%dT%H:%M:%fZ', 'now', ?)", arguments: ["-\(timeout) seconds"])!
        let abandoned = """
            FROM assignment WHERE state = 'open' AND assigned_at < :cutoff
              AND item_id IN (SELECT id FROM item WHERE project_id = :project)
              AND labeler_id NOT IN (SELECT id FROM labeler WHERE name LIKE 'ai:%')
              AND NOT EXISTS (SELECT 1 FROM thumb WHERE thumb.item_id = assignment.item_id AND thumb.labeler_id = assignment.labeler_id)
            """
        let arguments: StatementArguments = ["project": project, "cutoff": cutoff]
        guard try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 \(abandoned))", arguments: arguments) == true else { return }
        try db.execute(sql: """
            UPDATE item SET assigned_count = assigned_count - (SELECT count(*) \(abandoned) AND assignment.item_id = item.id)
            WHERE project_id = :project
            """, arguments: arguments)
        try db.execute(sql: "DELETE \(abandoned)", arguments: arguments)
    }

    enum AssignmentState: String {
        case open, done, skipped
    }

    /// The labeler's assignment to the item; forbidden when the item was never assigned to it.
    static func assignmentState(item itemID: Int64, labeler: Int64, _ db: Database) throws -> AssignmentState {
        guard let state = try String.fetchOne(db, sql: "SELECT state FROM assignment WHERE item_id = ? AND labeler_id = ?",
                                              arguments: [itemID, labeler]).flatMap(AssignmentState.init) else {
            throw FeedbackError.forbidden("item \(itemID) is not assigned to you (an assignment left unjudged too long goes back to the pool)")
        }
        return state
    }
}
