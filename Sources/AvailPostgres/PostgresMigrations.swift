import Logging
import PostgresNIO

/// The PostgreSQL schema, as named migrations run in order, each once, each in its own
/// transaction together with its row in `availd_migrations`. A migration is frozen once
/// released: a change is a new migration at the end.
///
/// Several daemons may start at once on one database: a transaction-level advisory lock makes
/// them migrate one after the other, and each finds what the others applied.
enum PostgresMigrations {
    struct Migration {
        var name: String
        var statements: [String]
    }

    /// Held while one process migrates (`pg_advisory_xact_lock`'s key: "availd" and 0).
    static let lock: Int64 = 0x6176_6169_6C64_0000

    static let all: [Migration] = [
        Migration(name: "v1-event-log", statements: [
            """
            CREATE TABLE events (
                position       bigint PRIMARY KEY,
                stream         text   NOT NULL,
                stream_version bigint NOT NULL CHECK (stream_version > 0),
                type           text   NOT NULL,
                source         text   NOT NULL CHECK (source IN ('calendly', 'api', 'reconcile')),
                recorded_at    text   NOT NULL,
                dedupe_key     text   NOT NULL UNIQUE,
                body           bytea  NOT NULL,
                signature      text,
                hash           bytea  NOT NULL CHECK (octet_length(hash) = 32),
                UNIQUE (stream, stream_version)
            )
            """,
            // Each row is the last position + 1; a BEFORE ROW trigger sees the rows the same
            // statement inserted before it.
            """
            CREATE FUNCTION availd_events_gapless() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.position <> coalesce((SELECT max(position) FROM events), 0) + 1 THEN
                    RAISE EXCEPTION 'events: position must be the last position + 1';
                END IF;
                RETURN NEW;
            END $$
            """,
            "CREATE TRIGGER events_gapless BEFORE INSERT ON events FOR EACH ROW EXECUTE FUNCTION availd_events_gapless()",
            """
            CREATE FUNCTION availd_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                RAISE EXCEPTION 'events is append-only: % is not allowed', TG_OP;
            END $$
            """,
            "CREATE TRIGGER events_no_change BEFORE UPDATE OR DELETE ON events FOR EACH ROW EXECUTE FUNCTION availd_events_append_only()",
            "CREATE TRIGGER events_no_truncate BEFORE TRUNCATE ON events FOR EACH STATEMENT EXECUTE FUNCTION availd_events_append_only()",
        ]),
        // What is kept beside the log (the SQLite schema's v1, v3 and v5 to v8): access and
        // operational state, never domain state, so never in the log or the read models.
        Migration(name: "v2-beside-the-log", statements: [
            """
            CREATE TABLE dead_letters (
                id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                received_at text   NOT NULL,
                code        text   NOT NULL,
                reason      text   NOT NULL,
                body        bytea  NOT NULL,
                signature   text
            )
            """,
            """
            CREATE TABLE expert_tokens (
                id          text  PRIMARY KEY,
                expert_id   text  NOT NULL,
                label       text,
                secret_hash bytea NOT NULL CHECK (octet_length(secret_hash) = 32),
                created_at  text  NOT NULL,
                revoked_at  text
            )
            """,
            "CREATE INDEX expert_tokens_by_expert ON expert_tokens (expert_id, created_at, id)",
            """
            CREATE TABLE calendar_feeds (
                id          text  PRIMARY KEY,
                expert_id   text  NOT NULL,
                secret_hash bytea NOT NULL CHECK (octet_length(secret_hash) = 32),
                created_at  text  NOT NULL,
                revoked_at  text
            )
            """,
            "CREATE INDEX calendar_feeds_by_expert ON calendar_feeds (expert_id, created_at, id)",
            """
            CREATE TABLE calendly_credentials (
                expert_id       text    PRIMARY KEY,
                user_uri        text    NOT NULL,
                sealed          bytea   NOT NULL,
                version         bigint  NOT NULL,
                expires_at      bigint  NOT NULL,
                needs_reconnect boolean NOT NULL DEFAULT false,
                updated_at      text    NOT NULL
            )
            """,
            "CREATE INDEX calendly_credentials_by_user ON calendly_credentials (user_uri)",
            """
            CREATE TABLE oauth_states (
                state_hash      bytea  PRIMARY KEY CHECK (octet_length(state_hash) = 32),
                expert_id       text   NOT NULL,
                browser_hash    bytea  NOT NULL CHECK (octet_length(browser_hash) = 32),
                sealed_verifier bytea  NOT NULL,
                expires_at      bigint NOT NULL
            )
            """,
            """
            CREATE TABLE reconcile_progress (
                expert_id     text   PRIMARY KEY,
                user_uri      text   NOT NULL,
                window_start  text,
                page_token    text,
                started_at    text,
                completed_at  text,
                last_appended bigint NOT NULL DEFAULT 0,
                last_error    text,
                updated_at    text   NOT NULL
            )
            """,
            """
            CREATE TABLE organization_subscriptions (
                subscription_uri text PRIMARY KEY,
                callback_url     text NOT NULL,
                scope            text NOT NULL CHECK (scope IN ('organization', 'user')),
                organization     text NOT NULL,
                user_uri         text,
                events           text NOT NULL,
                created_at       text NOT NULL,
                CHECK ((scope = 'user') = (user_uri IS NOT NULL))
            )
            """,
            """
            CREATE TABLE subscription_checks (
                subscription_uri text PRIMARY KEY,
                expert_id        text,
                state            text NOT NULL,
                checked_at       text NOT NULL
            )
            """,
        ]),
        // The read models. Keys compare bytewise (`COLLATE "C"`), as SQLite's do, whatever the
        // database's collation: pages and the digest walk them in that order. An expert and an
        // appointment are kept as their canonical JSON (what the digest hashes), beside the
        // columns the queries filter on; `facts` is what the fold resumes from.
        Migration(name: "v3-read-models", statements: [
            """
            CREATE TABLE projection_checkpoint (
                name     text   PRIMARY KEY,
                position bigint NOT NULL CHECK (position >= 0)
            )
            """,
            "INSERT INTO projection_checkpoint (name, position) VALUES ('read_models', 0)",
            """
            CREATE TABLE expert_profiles (
                id      text COLLATE "C" PRIMARY KEY,
                profile bytea NOT NULL
            )
            """,
            """
            CREATE TABLE invitee_facts (
                invitee_uri text COLLATE "C" PRIMARY KEY,
                facts       bytea NOT NULL
            )
            """,
            """
            CREATE TABLE appointments (
                id                         text COLLATE "C" PRIMARY KEY,
                expert_id                  text,
                calendar_type              text NOT NULL,
                external_calendar_event_id text,
                status                     text NOT NULL CHECK (status IN ('scheduled', 'canceled', 'rescheduled')),
                start_time                 text COLLATE "C",
                end_time                   text COLLATE "C",
                event_type_uri             text,
                host_keys                  text NOT NULL,
                appointment                bytea NOT NULL,
                facts                      bytea NOT NULL
            )
            """,
            "CREATE INDEX appointments_by_expert ON appointments (expert_id, start_time, id)",
            "CREATE INDEX appointments_by_event_type ON appointments (event_type_uri)",
            "CREATE INDEX appointments_by_calendar_event ON appointments (external_calendar_event_id)",
            """
            CREATE TABLE appointment_hosts (
                host_key       text COLLATE "C" NOT NULL,
                appointment_id text COLLATE "C" NOT NULL,
                PRIMARY KEY (host_key, appointment_id)
            )
            """,
            """
            CREATE TABLE parked_events (
                position    bigint PRIMARY KEY,
                type        text   NOT NULL,
                reason      text   NOT NULL,
                recorded_at text   NOT NULL
            )
            """,
        ]),
        // What the daemon asks: an expert's appointments page by page (absent start times first,
        // as in SQLite), and reschedule chains followed back.
        Migration(name: "v4-read-model-queries", statements: [
            "ALTER TABLE appointments ADD COLUMN rescheduled_from text COLLATE \"C\"",
            "UPDATE appointments SET rescheduled_from = convert_from(appointment, 'UTF8')::jsonb ->> 'rescheduled_from'",
            "CREATE INDEX appointments_page ON appointments (expert_id, (coalesce(start_time, '')), id)",
        ]),
    ]

    /// Applies what `database` has not applied yet; returns the names applied now.
    @discardableResult
    static func migrate(_ database: AvailPostgresDatabase) async throws -> [String] {
        let logger = database.logger
        // Under the lock too: two `CREATE TABLE IF NOT EXISTS` at once can both try to create it.
        try await database.client.withTransaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(lock))", logger: logger)
            try await connection.query(
                "CREATE TABLE IF NOT EXISTS availd_migrations (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT clock_timestamp())",
                logger: logger)
        }
        var applied: [String] = []
        for migration in all {
            let ran = try await database.client.withTransaction(logger: logger) { connection in
                try await connection.query("SELECT pg_advisory_xact_lock(\(lock))", logger: logger)
                let done = try await connection.query(
                    "SELECT 1 FROM availd_migrations WHERE name = \(migration.name)", logger: logger).collect()
                guard done.isEmpty else { return false }
                for statement in migration.statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger)
                }
                try await connection.query("INSERT INTO availd_migrations (name) VALUES (\(migration.name))", logger: logger)
                return true
            }
            if ran {
                logger.info("postgres migration applied", metadata: ["migration": "\(migration.name)"])
                applied.append(migration.name)
            }
        }
        return applied
    }

    /// The migrations `database` has applied, in the order it applied them.
    static func applied(_ database: AvailPostgresDatabase) async throws -> [String] {
        var names: [String] = []
        for try await name in try await database.client.query(
            "SELECT name FROM availd_migrations ORDER BY applied_at, name", logger: database.logger
        ).decode(String.self) {
            names.append(name)
        }
        return names
    }
}
