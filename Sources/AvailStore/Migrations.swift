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
        migrator.registerMigration("v2-read-models") { db in
            // The projector's tables. Only the projector writes them, always together with
            // `projection_checkpoint`, in one transaction.
            try db.execute(sql: """
                CREATE TABLE projection_checkpoint (
                    name     TEXT    PRIMARY KEY,
                    position INTEGER NOT NULL CHECK (position >= 0)
                ) STRICT;
                INSERT INTO projection_checkpoint (name, position) VALUES ('read_models', 0);

                CREATE TABLE expert_profiles (
                    id                   TEXT PRIMARY KEY,
                    name                 TEXT NOT NULL,
                    email                TEXT NOT NULL,
                    timezone             TEXT NOT NULL,
                    integration_type     TEXT NOT NULL CHECK (integration_type IN ('none', 'native', 'calendly')),
                    calendly_config      TEXT,
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
                    host_emails                TEXT    NOT NULL,
                    facts                      BLOB    NOT NULL
                ) STRICT;
                CREATE INDEX appointments_by_expert ON appointments (expert_id, start_time, id);
                CREATE INDEX appointments_by_event_type ON appointments (event_type_uri);

                -- Which appointments name a host email: who may claim them when an expert
                -- connects or changes email.
                CREATE TABLE appointment_hosts (
                    email          TEXT NOT NULL,
                    appointment_id TEXT NOT NULL,
                    PRIMARY KEY (email, appointment_id)
                ) STRICT, WITHOUT ROWID;

                CREATE TABLE parked_events (
                    position    INTEGER PRIMARY KEY,
                    type        TEXT NOT NULL,
                    reason      TEXT NOT NULL,
                    recorded_at TEXT NOT NULL
                ) STRICT;
                """)
        }
        migrator.registerMigration("v3-expert-tokens") { db in
            // Access, not domain state: kept beside the log, not in it, so `export` and the
            // projections never carry a credential. Only the secret's SHA-256 is stored.
            try db.execute(sql: """
                CREATE TABLE expert_tokens (
                    id          TEXT PRIMARY KEY,
                    expert_id   TEXT NOT NULL,
                    label       TEXT,
                    secret_hash BLOB NOT NULL CHECK (length(secret_hash) = 32),
                    created_at  TEXT NOT NULL,
                    revoked_at  TEXT
                ) STRICT;
                CREATE INDEX expert_tokens_by_expert ON expert_tokens (expert_id, created_at, id);
                """)
        }
        migrator.registerMigration("v4-whose-appointment") { db in
            // Appointments are matched by hosts' Calendly user URIs as well as emails ("host
            // keys"), and only by emails the admin set or Calendly reported. The read models
            // are derived, so they are emptied here and the projector folds the log again.
            try db.execute(sql: """
                ALTER TABLE expert_profiles ADD COLUMN admin_email TEXT;
                ALTER TABLE appointments RENAME COLUMN host_emails TO host_keys;
                ALTER TABLE appointment_hosts RENAME COLUMN email TO host_key;
                DELETE FROM expert_profiles;
                DELETE FROM invitee_facts;
                DELETE FROM appointments;
                DELETE FROM appointment_hosts;
                DELETE FROM parked_events;
                UPDATE projection_checkpoint SET position = 0 WHERE name = 'read_models';
                """)
        }
        migrator.registerMigration("v5-calendly-oauth") { db in
            // An expert's own Calendly account: who it is (from the log) in the read model; its
            // tokens, sealed with AES-GCM, beside the log and never in it; and the `state` of
            // each authorization under way (its SHA-256, never the value).
            try db.execute(sql: """
                ALTER TABLE expert_profiles ADD COLUMN calendly_account TEXT;
                CREATE TABLE calendly_credentials (
                    expert_id       TEXT PRIMARY KEY,
                    user_uri        TEXT NOT NULL,
                    sealed          BLOB NOT NULL,
                    version         INTEGER NOT NULL,
                    expires_at      INTEGER NOT NULL,
                    needs_reconnect INTEGER NOT NULL DEFAULT 0 CHECK (needs_reconnect IN (0, 1)),
                    updated_at      TEXT NOT NULL
                ) STRICT;
                CREATE TABLE oauth_states (
                    state_hash   BLOB PRIMARY KEY CHECK (length(state_hash) = 32),
                    expert_id    TEXT NOT NULL,
                    browser_hash BLOB NOT NULL CHECK (length(browser_hash) = 32),
                    sealed_verifier BLOB NOT NULL,
                    expires_at   INTEGER NOT NULL
                ) STRICT;
                """)
        }
        migrator.registerMigration("v6-calendar-feeds") { db in
            // An expert's secret calendar URLs: access, not domain state, so beside the log
            // and never in it, like expert tokens. Only the secret's SHA-256 is stored.
            try db.execute(sql: """
                CREATE TABLE calendar_feeds (
                    id          TEXT PRIMARY KEY,
                    expert_id   TEXT NOT NULL,
                    secret_hash BLOB NOT NULL CHECK (length(secret_hash) = 32),
                    created_at  TEXT NOT NULL,
                    revoked_at  TEXT
                ) STRICT;
                CREATE INDEX calendar_feeds_by_expert ON calendar_feeds (expert_id, created_at, id);
                """)
        }
        migrator.registerMigration("v7-reconcile") { db in
            // Reconciliation appends events of its own source, `reconcile`: the log's CHECK is
            // widened by rebuilding the table (SQLite cannot alter a CHECK), rows copied as they
            // are, hashes and all, and its triggers made again. Then the progress of each
            // expert's reconciliation (operational state, beside the log like the tokens), and
            // an index to find the appointments of a scheduled event.
            try db.execute(sql: """
                CREATE TABLE events_v7 (
                    position       INTEGER PRIMARY KEY,
                    stream         TEXT    NOT NULL,
                    stream_version INTEGER NOT NULL CHECK (stream_version > 0),
                    type           TEXT    NOT NULL,
                    source         TEXT    NOT NULL CHECK (source IN ('calendly', 'api', 'reconcile')),
                    recorded_at    TEXT    NOT NULL,
                    dedupe_key     TEXT    NOT NULL UNIQUE,
                    body           BLOB    NOT NULL,
                    signature      TEXT,
                    hash           BLOB    NOT NULL CHECK (length(hash) = 32),
                    UNIQUE (stream, stream_version)
                ) STRICT;
                INSERT INTO events_v7 SELECT position, stream, stream_version, type, source, recorded_at, dedupe_key, body,
                    signature, hash FROM events ORDER BY position;
                DROP TABLE events;
                ALTER TABLE events_v7 RENAME TO events;

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

                CREATE TABLE reconcile_progress (
                    expert_id      TEXT PRIMARY KEY,
                    user_uri       TEXT NOT NULL,
                    -- The pass under way (both null when none is): its min_start_time and the
                    -- page it goes on from after a restart.
                    window_start   TEXT,
                    page_token     TEXT,
                    started_at     TEXT,
                    -- The last complete pass: when it started, and what it appended.
                    completed_at   TEXT,
                    last_appended  INTEGER NOT NULL DEFAULT 0,
                    last_error     TEXT,
                    updated_at     TEXT NOT NULL
                ) STRICT;

                CREATE INDEX appointments_by_calendar_event ON appointments (external_calendar_event_id);
                """)
        }
        migrator.registerMigration("v8-organization-subscriptions") { db in
            // Webhook subscriptions made with the organization token (`availd calendly
            // subscribe`), which no event of the log describes, so the daemon can watch them;
            // never their signing key (that stays in the secret file or the flag). And the last
            // check of every subscription, an expert's (`expert_id`) or one of those.
            try db.execute(sql: """
                CREATE TABLE organization_subscriptions (
                    subscription_uri TEXT PRIMARY KEY,
                    callback_url     TEXT NOT NULL,
                    scope            TEXT NOT NULL CHECK (scope IN ('organization', 'user')),
                    organization     TEXT NOT NULL,
                    user_uri         TEXT,
                    events           TEXT NOT NULL,
                    created_at       TEXT NOT NULL,
                    CHECK ((scope = 'user') = (user_uri IS NOT NULL))
                ) STRICT;
                CREATE TABLE subscription_checks (
                    subscription_uri TEXT PRIMARY KEY,
                    expert_id        TEXT,
                    state            TEXT NOT NULL,
                    checked_at       TEXT NOT NULL
                ) STRICT;
                """)
        }
        migrator.registerMigration("v9-read-models-apart") { db in
            // The read models move to files of their own (`ReadModelStore`), so that an append
            // never waits for the projector. They are derived: dropped here, and the projector
            // folds the log into the new file. What stays is which generation is current.
            try db.execute(sql: """
                DROP TABLE expert_profiles;
                DROP TABLE invitee_facts;
                DROP TABLE appointments;
                DROP TABLE appointment_hosts;
                DROP TABLE parked_events;
                DROP TABLE projection_checkpoint;
                CREATE TABLE read_models (
                    id         INTEGER PRIMARY KEY CHECK (id = 1),
                    generation INTEGER NOT NULL CHECK (generation >= 0)
                ) STRICT;
                INSERT INTO read_models (id, generation) VALUES (1, 0);
                """)
        }
        return migrator
    }
}
