import GRDB

/// Items and their completions.
extension FeedbackStore {
    /// Adds the items to the project in one transaction: all or none. Returns how many were added.
    public func addItems(_ items: [NewItem], to project: Int64) async throws -> Int {
        try await write { db in
            let mode = try Self.project(project, db).settings.mode
            let fewest = mode == .ranking ? 2 : 1
            for (index, item) in items.enumerated() where item.completions.count < fewest {
                throw FeedbackError.invalid("item \(index + 1): a \(mode.rawValue) project needs at least \(fewest) completions per item")
            }
            for item in items {
                do {
                    try db.execute(sql: "INSERT INTO item (project_id, external_id, prompt) VALUES (?, ?, ?)",
                                   arguments: [project, item.externalID, item.prompt])
                } catch let error as DatabaseError where error.extendedResultCode == .SQLITE_CONSTRAINT_UNIQUE {
                    throw FeedbackError.conflict("project \(project) already has an item with id \"\(item.externalID ?? "")\"")
                }
                let itemID = db.lastInsertedRowID
                for (position, completion) in item.completions.enumerated() {
                    try db.execute(sql: "INSERT INTO completion (item_id, position, text, model) VALUES (?, ?, ?, ?)",
                                   arguments: [itemID, position, completion.text, completion.model])
                }
            }
            return items.count
        }
    }

    /// The item with its completions in their original order, and the project it belongs to.
    static func labelingItem(_ itemID: Int64, _ db: Database) throws -> (item: LabelingItem, project: Int64) {
        guard let row = try Row.fetchOne(db, sql: "SELECT project_id, prompt FROM item WHERE id = ?", arguments: [itemID]) else {
            throw FeedbackError.notFound("no item \(itemID)")
        }
        let completions = try Row.fetchAll(db, sql: "SELECT id, text FROM completion WHERE item_id = ? ORDER BY position",
                                           arguments: [itemID]).map { row in
            LabelingItem.Completion(id: String(row["id"] as Int64), text: row["text"])
        }
        return (LabelingItem(itemID: itemID, prompt: row["prompt"], completions: completions), row["project_id"])
    }
}
