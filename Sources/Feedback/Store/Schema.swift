import GRDB

/// The tables, created by numbered migrations so that later versions can change them without losing data.
enum Schema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE project (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    name TEXT NOT NULL,
                    guidelines TEXT NOT NULL,
                    criterion TEXT NOT NULL,
                    labelers_per_item INTEGER NOT NULL CHECK (labelers_per_item >= 1),
                    mode TEXT NOT NULL CHECK (mode IN ('ranking', 'thumbs')),
                    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
                );
                -- assigned_count = open and done assignments, kept in step by the assignment code so that "least
                -- covered first" is one indexed query.
                CREATE TABLE item (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    project_id INTEGER NOT NULL REFERENCES project(id),
                    external_id TEXT,
                    prompt TEXT NOT NULL,
                    assigned_count INTEGER NOT NULL DEFAULT 0,
                    UNIQUE (project_id, external_id)
                );
                CREATE INDEX item_by_coverage ON item(project_id, assigned_count, id);
                CREATE TABLE completion (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    item_id INTEGER NOT NULL REFERENCES item(id),
                    position INTEGER NOT NULL,
                    text TEXT NOT NULL,
                    model TEXT,
                    UNIQUE (item_id, position)
                );
                CREATE TABLE labeler (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    name TEXT NOT NULL,
                    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
                );
                -- Only SHA-256 hashes of tokens are kept; labeler_id NULL is the admin.
                CREATE TABLE token (
                    hash TEXT PRIMARY KEY,
                    labeler_id INTEGER REFERENCES labeler(id),
                    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
                );
                CREATE TABLE membership (
                    project_id INTEGER NOT NULL REFERENCES project(id),
                    labeler_id INTEGER NOT NULL REFERENCES labeler(id),
                    PRIMARY KEY (project_id, labeler_id)
                ) WITHOUT ROWID;
                -- One row per item shown to a labeler: the primary key is what makes "never the same item twice" hold.
                CREATE TABLE assignment (
                    item_id INTEGER NOT NULL REFERENCES item(id),
                    labeler_id INTEGER NOT NULL REFERENCES labeler(id),
                    state TEXT NOT NULL CHECK (state IN ('open', 'done', 'skipped')),
                    assigned_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
                    submitted_at TEXT,
                    PRIMARY KEY (item_id, labeler_id)
                ) WITHOUT ROWID;
                CREATE INDEX assignment_by_labeler ON assignment(labeler_id, state);
                CREATE TABLE ranking (
                    item_id INTEGER NOT NULL,
                    labeler_id INTEGER NOT NULL,
                    completion_id INTEGER NOT NULL REFERENCES completion(id),
                    rank INTEGER NOT NULL CHECK (rank >= 1),
                    PRIMARY KEY (item_id, labeler_id, completion_id),
                    FOREIGN KEY (item_id, labeler_id) REFERENCES assignment(item_id, labeler_id)
                ) WITHOUT ROWID;
                CREATE TABLE flag (
                    item_id INTEGER NOT NULL,
                    labeler_id INTEGER NOT NULL,
                    completion_id INTEGER NOT NULL REFERENCES completion(id),
                    PRIMARY KEY (item_id, labeler_id, completion_id),
                    FOREIGN KEY (item_id, labeler_id) REFERENCES assignment(item_id, labeler_id)
                ) WITHOUT ROWID;
                CREATE TABLE thumb (
                    item_id INTEGER NOT NULL,
                    labeler_id INTEGER NOT NULL,
                    completion_id INTEGER NOT NULL REFERENCES completion(id),
                    up INTEGER NOT NULL CHECK (up IN (0, 1)),
                    PRIMARY KEY (item_id, labeler_id, completion_id),
                    FOREIGN KEY (item_id, labeler_id) REFERENCES assignment(item_id, labeler_id)
                ) WITHOUT ROWID;
                """)
        }
        // Personalization: end users of the chat, their turns, replies and feedback events, and the versions of
        // their adapters. Events are append-only; `chat_user.adapter_version` is the version serving (0: the base).
        migrator.registerMigration("v2-chat") { db in
            try db.execute(sql: """
                CREATE TABLE chat_user (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    name TEXT NOT NULL,
                    adapter_version INTEGER NOT NULL DEFAULT 0,
                    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
                );
                ALTER TABLE token ADD COLUMN user_id INTEGER REFERENCES chat_user(id);
                CREATE TABLE chat_turn (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    user_id INTEGER NOT NULL REFERENCES chat_user(id),
                    messages TEXT NOT NULL,
                    prompt TEXT NOT NULL,
                    mode TEXT NOT NULL CHECK (mode IN ('compare', 'single')),
                    adapter_version INTEGER NOT NULL,
                    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
                );
                CREATE INDEX chat_turn_by_user ON chat_turn(user_id, id);
                CREATE TABLE chat_reply (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    turn_id INTEGER NOT NULL REFERENCES chat_turn(id),
                    position INTEGER NOT NULL,
                    text TEXT NOT NULL,
                    UNIQUE (turn_id, position)
                );
                CREATE TABLE chat_event (
                    id INTEGER PRIMARY KEY AUTOINCREMENT,
                    user_id INTEGER NOT NULL REFERENCES chat_user(id),
                    turn_id INTEGER NOT NULL REFERENCES chat_turn(id),
                    kind TEXT NOT NULL CHECK (kind IN ('choice', 'thumb', 'correction')),
                    reply_id INTEGER NOT NULL REFERENCES chat_reply(id),
                    up INTEGER CHECK (up IN (0, 1)),
                    correction TEXT,
                    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
                );
                CREATE INDEX chat_event_by_user ON chat_event(user_id, id);
                CREATE UNIQUE INDEX one_choice_per_turn ON chat_event(turn_id) WHERE kind = 'choice';
                CREATE UNIQUE INDEX one_thumb_per_reply ON chat_event(reply_id) WHERE kind = 'thumb';
                -- A version was trained on the user's events up to last_event_id.
                CREATE TABLE adapter_version (
                    user_id INTEGER NOT NULL REFERENCES chat_user(id),
                    version INTEGER NOT NULL CHECK (version >= 1),
                    last_event_id INTEGER NOT NULL,
                    events INTEGER NOT NULL,
                    seconds REAL NOT NULL,
                    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now')),
                    PRIMARY KEY (user_id, version)
                ) WITHOUT ROWID;
                """)
        }
        return migrator
    }
}
