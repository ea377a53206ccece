import GRDB

/// Everything stats and exports need from one project, read in one transaction so they see a single moment.
public struct ProjectSnapshot: Sendable {
    public struct Completion: Sendable, Equatable {
        public let id: Int64
        public let text: String
        public let model: String?
    }

    public struct Item: Sendable, Equatable {
        public let id: Int64
        public let externalID: String?
        public let prompt: String
        public let completions: [Completion]
    }

    /// One labeler's stored ranking of one item.
    public struct StoredRanking: Sendable, Equatable {
        public let itemID: Int64
        public let labelerID: Int64
        public let ranks: [Int64: Int]
        public let flagged: Set<Int64>
        public let submittedAt: String
    }

    public struct StoredThumb: Sendable, Equatable {
        public let itemID: Int64
        public let labelerID: Int64
        public let completionID: Int64
        public let up: Bool
    }

    public let project: Project
    public let items: [Item]
    /// Names of the project's members and of anyone who judged one of its items.
    public let labelerNames: [Int64: String]
    /// Judged (item, labeler) assignments, in both modes.
    public let submissions: [(itemID: Int64, labelerID: Int64)]
    /// Ordered by item, then labeler.
    public let rankings: [StoredRanking]
    public let thumbs: [StoredThumb]
}

extension FeedbackStore {
    public func snapshot(project id: Int64) async throws -> ProjectSnapshot {
        try await read { db in
            let project = try Self.project(id, db)
            let arguments: StatementArguments = [id]
            var completions: [Int64: [ProjectSnapshot.Completion]] = [:]
            for row in try Row.fetchAll(db, sql: """
                SELECT completion.* FROM completion JOIN item ON item.id = completion.item_id
                WHERE item.project_id = ? ORDER BY completion.item_id, completion.position
                """, arguments: arguments) {
                completions[row["item_id"], default: []].append(.init(id: row["id"], text: row["text"], model: row["model"]))
            }
            let items = try Row.fetchAll(db, sql: "SELECT id, external_id, prompt FROM item WHERE project_id = ? ORDER BY id",
                                         arguments: arguments).map { row in
                ProjectSnapshot.Item(id: row["id"], externalID: row["external_id"], prompt: row["prompt"],
                                     completions: completions[row["id"]] ?? [])
            }
            let names = try Row.fetchAll(db, sql: """
                SELECT id, name FROM labeler WHERE id IN (SELECT labeler_id FROM membership WHERE project_id = :project)
                   OR id IN (SELECT labeler_id FROM assignment JOIN item ON item.id = assignment.item_id WHERE item.project_id = :project)
                """, arguments: ["project": id])
            let done = try Row.fetchAll(db, sql: """
                SELECT assignment.item_id, assignment.labeler_id, assignment.submitted_at
                FROM assignment JOIN item ON item.id = assignment.item_id
                WHERE item.project_id = ? AND assignment.state = 'done' ORDER BY assignment.item_id, assignment.labeler_id
                """, arguments: arguments)
            return ProjectSnapshot(
                project: project, items: items,
                labelerNames: Dictionary(uniqueKeysWithValues: names.map { ($0["id"], $0["name"]) }),
                submissions: done.map { ($0["item_id"], $0["labeler_id"]) },
                rankings: project.settings.mode == .ranking ? try Self.rankings(done, project: id, db) : [],
                thumbs: try Self.thumbs(project: id, db))
        }
    }

    private static func rankings(_ done: [Row], project: Int64, _ db: Database) throws -> [ProjectSnapshot.StoredRanking] {
        struct Key: Hashable { let item: Int64, labeler: Int64 }
        var ranks: [Key: [Int64: Int]] = [:]
        for row in try Row.fetchAll(db, sql: """
            SELECT ranking.* FROM ranking JOIN item ON item.id = ranking.item_id WHERE item.project_id = ?
            """, arguments: [project]) {
            ranks[Key(item: row["item_id"], labeler: row["labeler_id"]), default: [:]][row["completion_id"]] = row["rank"]
        }
        var flagged: [Key: Set<Int64>] = [:]
        for row in try Row.fetchAll(db, sql: """
            SELECT flag.* FROM flag JOIN item ON item.id = flag.item_id WHERE item.project_id = ?
            """, arguments: [project]) {
            flagged[Key(item: row["item_id"], labeler: row["labeler_id"]), default: []].insert(row["completion_id"])
        }
        return done.map { row in
            let key = Key(item: row["item_id"], labeler: row["labeler_id"])
            return ProjectSnapshot.StoredRanking(itemID: key.item, labelerID: key.labeler, ranks: ranks[key] ?? [:],
                                                 flagged: flagged[key] ?? [], submittedAt: row["submitted_at"])
        }
    }

    private static func thumbs(project: Int64, _ db: Database) throws -> [ProjectSnapshot.StoredThumb] {
        try Row.fetchAll(db, sql: """
            SELECT thumb.* FROM thumb JOIN item ON item.id = thumb.item_id
            WHERE item.project_id = ? ORDER BY thumb.item_id, thumb.labeler_id, thumb.completion_id
            """, arguments: [project]).map {
            ProjectSnapshot.StoredThumb(itemID: $0["item_id"], labelerID: $0["labeler_id"], completionID: $0["completion_id"], up: $0["up"])
        }
    }
}
