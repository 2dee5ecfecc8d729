import GRDB

/// Named migrations, run once at start-up. Frozen once shipped: change the schema by adding one.
enum Migrations {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-event-log") { db in
            // The log. `position` is the rowid, and the insert trigger makes it exactly one more
            // than the last, so SQLite itself guarantees 1, 2, 3, … with no gaps.
            try db.execute(sql: """
                CREATE TABLE events (
                    position       INTEGER PRIMARY KEY,
                    stream         TEXT    NOT NULL,
                    stream_version INTEGER NOT NULL CHECK (stream_version > 0),
                    type           TEXT    NOT NULL,
                    source         TEXT    NOT NULL CHECK (source IN ('calendly', 'api')),
                    recorded_at    TEXT    NOT NULL,
                    dedupe_key     TEXT    NOT NULL UNIQUE,
                    body           BLOB    NOT NULL,
                    signature      TEXT,
                    hash           BLOB    NOT NULL CHECK (length(hash) = 32),
                    UNIQUE (stream, stream_version)
                ) STRICT;

                CREATE TRIGGER events_gapless BEFORE INSERT ON events
                WHEN NEW.position IS NOT (SELECT coalesce(max(position), 0) + 1 FROM events)
                BEGIN
                    SELECT RAISE(ABORT, 'events: position must be the last position + 1');
                END;

                CREATE TRIGGER events_no_update BEFORE UPDATE ON events
                BEGIN
                    SELECT RAISE(ABORT, 'events is append-only: UPDATE is not allowed');
                END;

                CREATE TRIGGER events_no_delete BEFORE DELETE ON events
                BEGIN
                    SELECT RAISE(ABORT, 'events is append-only: DELETE is not allowed');
                END;

                CREATE TABLE dead_letters (
                    id          INTEGER PRIMARY KEY AUTOINCREMENT,
                    received_at TEXT NOT NULL,
                    code        TEXT NOT NULL,
                    reason      TEXT NOT NULL,
                    body        BLOB NOT NULL,
                    signature   TEXT
                ) STRICT;
                """)
        }
        return migrator
    }
}
