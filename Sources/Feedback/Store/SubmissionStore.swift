import GRDB

/// Rankings and thumbs. A labeler writes only under its own id, into items assigned to it; a new ranking of
/// the same item replaces its earlier one in the same transaction.
extension FeedbackStore {
    public func submitRanking(_ submission: RankingSubmission, item itemID: Int64, labeler: Int64) async throws {
        try await write { db in
            let (item, project) = try Self.labelingItem(itemID, db)
            try Self.requireJudgeable(item: itemID, project: project, mode: .ranking, labeler: labeler, db)
            let (ranks, flagged) = try submission.resolved(against: item)
            try db.execute(sql: "DELETE FROM ranking WHERE item_id = ? AND labeler_id = ?", arguments: [itemID, labeler])
            try db.execute(sql: "DELETE FROM flag WHERE item_id = ? AND labeler_id = ?", arguments: [itemID, labeler])
            for (completion, rank) in ranks {
                try db.execute(sql: "INSERT INTO ranking (item_id, labeler_id, completion_id, rank) VALUES (?, ?, ?, ?)",
                               arguments: [itemID, labeler, completion, rank])
            }
            for completion in flagged {
                try db.execute(sql: "INSERT INTO flag (item_id, labeler_id, completion_id) VALUES (?, ?, ?)",
                               arguments: [itemID, labeler, completion])
            }
            try Self.markDone(item: itemID, labeler: labeler, db)
        }
    }

    /// Records a thumb; the item counts as judged once every completion has one.
    public func submitThumb(_ thumb: ThumbSubmission, item itemID: Int64, labeler: Int64) async throws {
        try await write { db in
            let (item, project) = try Self.labelingItem(itemID, db)
            try Self.requireJudgeable(item: itemID, project: project, mode: .thumbs, labeler: labeler, db)
            guard let completion = Int64(thumb.completionID), item.completions.contains(where: { $0.id == thumb.completionID }) else {
                throw FeedbackError.invalid("item \(itemID) has no completion \"\(thumb.completionID)\"")
            }
            try db.execute(sql: "INSERT OR REPLACE INTO thumb (item_id, labeler_id, completion_id, up) VALUES (?, ?, ?, ?)",
                           arguments: [itemID, labeler, completion, thumb.up])
            let judged = try Int.fetchOne(db, sql: "SELECT count(*) FROM thumb WHERE item_id = ? AND labeler_id = ?",
                                          arguments: [itemID, labeler]) ?? 0
            if judged == item.completions.count { try Self.markDone(item: itemID, labeler: labeler, db) }
        }
    }

    /// The item with the caller's own earlier judgment: labelers only for items assigned to them.
    public func labeledItem(_ itemID: Int64, for identity: Identity) async throws -> LabeledItem {
        try await read { db in
            let (item, project) = try Self.labelingItem(itemID, db)
            try Self.requireAccess(identity, project: project, db)
            guard case .labeler(let labeler) = identity else { return LabeledItem(item: item, ranking: nil, thumbs: [:]) }
            _ = try Self.assignmentState(item: itemID, labeler: labeler, db)
            let arguments: StatementArguments = [itemID, labeler]
            let ranks = try Row.fetchAll(db, sql: "SELECT completion_id, rank FROM ranking WHERE item_id = ? AND labeler_id = ?",
                                         arguments: arguments)
            let flagged = try Int64.fetchAll(db, sql: "SELECT completion_id FROM flag WHERE item_id = ? AND labeler_id = ?",
                                             arguments: arguments)
            let thumbs = try Row.fetchAll(db, sql: "SELECT completion_id, up FROM thumb WHERE item_id = ? AND labeler_id = ?",
                                          arguments: arguments)
            let ranking = ranks.isEmpty && flagged.isEmpty ? nil : RankingSubmission(
                ranks: Dictionary(uniqueKeysWithValues: ranks.map { (String($0["completion_id"] as Int64), $0["rank"] as Int) }),
                flagged: flagged.map(String.init))
            return LabeledItem(item: item, ranking: ranking,
                               thumbs: Dictionary(uniqueKeysWithValues: thumbs.map { (String($0["completion_id"] as Int64), $0["up"] as Bool) }))
        }
    }

    /// The labeler's judged items in the project, newest first.
    public func submissions(project: Int64, labeler: Int64) async throws -> [SubmissionSummary] {
        try await read { db in
            try Self.requireAccess(.labeler(labeler), project: project, db)
            return try Row.fetchAll(db, sql: """
                SELECT assignment.item_id, assignment.submitted_at FROM assignment JOIN item ON item.id = assignment.item_id
                WHERE item.project_id = ? AND assignment.labeler_id = ? AND assignment.state = 'done'
                ORDER BY assignment.submitted_at DESC, assignment.item_id DESC
                """, arguments: [project, labeler]).map { SubmissionSummary(itemID: $0["item_id"], submittedAt: $0["submitted_at"]) }
        }
    }

    /// A member, in a project of this mode, with the item assigned and not skipped.
    private static func requireJudgeable(item itemID: Int64, project: Int64, mode: ProjectMode, labeler: Int64, _ db: Database) throws {
        try requireAccess(.labeler(labeler), project: project, db)
        let projectMode = try Self.project(project, db).settings.mode
        guard projectMode == mode else { throw FeedbackError.invalid("project \(project) collects \(projectMode.rawValue), not \(mode.rawValue)") }
        if try assignmentState(item: itemID, labeler: labeler, db) == .skipped {
            throw FeedbackError.conflict("item \(itemID) was skipped and may now be with another labeler")
        }
    }

    private static func markDone(item itemID: Int64, labeler: Int64, _ db: Database) throws {
        try db.execute(sql: """
            UPDATE assignment SET state = 'done', submitted_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now')
            WHERE item_id = ? AND labeler_id = ?
            """, arguments: [itemID, labeler])
    }
}

extension RankingSubmission {
    /// Database ids with ranks, and flagged ids, after checking the submission against the item: known
    /// completions only, ranks from 1 to the number of completions, every completion ranked or flagged, none both.
    func resolved(against item: LabelingItem) throws -> (ranks: [(Int64, Int)], flagged: Set<Int64>) {
        let known = Set(item.completions.map(\.id))
        for id in Array(ranks.keys) + flagged where !known.contains(id) {
            throw FeedbackError.invalid("item \(item.itemID) has no completion \"\(id)\"")
        }
        if let both = flagged.first(where: { ranks[$0] != nil }) {
            throw FeedbackError.invalid("completion \"\(both)\" is both ranked and flagged: a flagged completion is left out of the ranking")
        }
        for (id, rank) in ranks where !(1...item.completions.count).contains(rank) {
            throw FeedbackError.invalid("rank \(rank) of completion \"\(id)\" is not between 1 and \(item.completions.count)")
        }
        for completion in item.completions where ranks[completion.id] == nil && !flagged.contains(completion.id) {
            throw FeedbackError.invalid("completion \"\(completion.id)\" is neither ranked nor flagged")
        }
        // Known ids are decimal database ids, so the conversions cannot fail.
        return (ranks.compactMap { id, rank in Int64(id).map { ($0, rank) } }, Set(flagged.compactMap { Int64($0) }))
    }
}
