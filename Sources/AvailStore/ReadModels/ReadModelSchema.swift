import GRDB

/// The read models' tables, in their own file (see `ReadModelStore`).
///
/// They are derived from the log, so they are not migrated: a file whose `user_version` is not
/// `version` is set aside, a fresh generation is made, and the projector folds the log into it.
/// Change the schema by changing `version` with it.
enum ReadModelSchema {
    /// 2: facts in their compact form (`CompactFacts`), pages of 8 KB.
    static let version = 2

    /// The tables, without the secondary indexes (a rebuild creates those after the rows).
    static let tables = """
        -- The last log position the read models include; written in the same transaction as
        -- them, always.
        CREATE TABLE projection_checkpoint (
            name     TEXT    PRIMARY KEY,
            position INTEGER NOT NULL CHECK (position >= 0)
        ) STRICT;
        INSERT INTO projection_checkpoint (name, position) VALUES ('read_models', 0);

        CREATE TABLE expert_profiles (
            id                   TEXT PRIMARY KEY,
            name                 TEXT NOT NULL,
            email                TEXT NOT NULL,
            admin_email          TEXT,
            timezone             TEXT NOT NULL,
            integration_type     TEXT NOT NULL CHECK (integration_type IN ('none', 'native', 'calendly')),
            calendly_config      TEXT,
            calendly_account     TEXT,
            native_schedule      TEXT,
            past_event_type_uris TEXT NOT NULL,
            created_at           TEXT NOT NULL,
            updated_at           TEXT NOT NULL
        ) STRICT;

        -- The fold's state (JSON) of invitees only named so far, as the other half of a
        -- reschedule; a described invitee's facts live in its appointment row.
        CREATE TABLE invitee_facts (
            invitee_uri TEXT PRIMARY KEY,
            facts       BLOB NOT NULL
        ) STRICT;

        CREATE TABLE appointments (
            id                         TEXT    PRIMARY KEY,
            expert_id                  TEXT,
            calendar_type              TEXT    NOT NULL,
            external_calendar_event_id TEXT,
            -- `id` is made from the invitee URI, so the URI needs no index of its own.
            external_invitee_uri       TEXT,
            status                     TEXT    NOT NULL CHECK (status IN ('scheduled', 'canceled', 'rescheduled')),
            start_time                 TEXT,
            end_time                   TEXT,
            invitee_name               TEXT,
            invitee_email              TEXT,
            invitee_timezone           TEXT,
            rescheduled_from           TEXT,
            rescheduled_to             TEXT,
            canceled                   INTEGER NOT NULL CHECK (canceled IN (0, 1)),
            canceled_by                TEXT,
            cancel_reason              TEXT,
            canceler_type              TEXT,
            canceled_at                TEXT,
            no_show                    INTEGER NOT NULL CHECK (no_show IN (0, 1)),
            created_at                 TEXT,
            updated_at                 TEXT,
            event_type_uri             TEXT,
            -- The hosts' keys (Calendly user URIs and emails), one per line.
            host_keys                  TEXT    NOT NULL,
            facts                      BLOB    NOT NULL
        ) STRICT;

        -- Which appointments name a host key: who may claim them when an expert connects or
        -- changes email.
        CREATE TABLE appointment_hosts (
            host_key       TEXT NOT NULL,
            appointment_id TEXT NOT NULL,
            PRIMARY KEY (host_key, appointment_id)
        ) STRICT, WITHOUT ROWID;

        CREATE TABLE parked_events (
            position    INTEGER PRIMARY KEY,
            type        TEXT NOT NULL,
            reason      TEXT NOT NULL,
            recorded_at TEXT NOT NULL
        ) STRICT;
        """

    /// The secondary indexes, each for a query that uses it: an expert's appointments by time;
    /// those of an event type (an expert's connection changes); those of a scheduled event
    /// (reconciliation).
    static let indexes = """
        CREATE INDEX appointments_by_expert ON appointments (expert_id, start_time, id);
        CREATE INDEX appointments_by_event_type ON appointments (event_type_uri);
        CREATE INDEX appointments_by_calendar_event ON appointments (external_calendar_event_id);
        """

    /// An empty set of read models, at position 0.
    static func create(_ db: Database) throws {
        try db.execute(sql: tables)
        try db.execute(sql: indexes)
        try db.execute(sql: "PRAGMA user_version = \(version)")
    }
}
