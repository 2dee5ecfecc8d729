import ArgumentParser
import AvailPostgres
import AvailServer
import AvailStore
import Foundation
import Logging

/// `--database`: an SQLite file (the default, `./var/availd.sqlite`) or a `postgres://` URL,
/// and what every command does with it.
struct DatabaseOptions: ParsableArguments {
    @Option(name: .long, help: "The SQLite database file, or :memory:, or postgres://USER@HOST[:PORT]/DATABASE [AVAILD_DATABASE, default ./var/availd.sqlite].")
    var database: String?

    var path: String { database ?? Environment.value("AVAILD_DATABASE") ?? "./var/availd.sqlite" }

    /// Whether `path` is a `postgres://` URL rather than an SQLite file.
    var isPostgres: Bool { AvailPostgresDatabase.isURL(path) }

    /// The password for a `postgres://` URL that has none [AVAILD_DATABASE_PASSWORD, or the
    /// credential database-password].
    func postgresPassword() throws -> String? {
        try Environment.secret("AVAILD_DATABASE_PASSWORD", credential: "database-password")
    }

    /// The database path, its folder created if missing; a `postgres://` URL as it is.
    func preparedPath() throws -> String {
        let path = self.path
        // Never a folder named after a URL.
        if path != ":memory:", !isPostgres {
            let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
            try FileManager.default.createDirectory(
                at: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
        return path
    }
}


extension DatabaseOptions {
    /// Runs `body` with the log of `--database`, SQLite or PostgreSQL, for the commands that
    /// need only the log; `sqlite` is the SQLite database when it is one (its read models).
    func withLog<T: Sendable>(
        _ body: @Sendable (_ log: any EventStore, _ sqlite: AvailDatabase?) async throws -> T
    ) async throws -> T {
        if isPostgres {
            return try await withPostgres { try await body(PostgresEventLog(database: $0), nil) }
        }
        _ = Log.bootstrap()
        let database = try LogDatabase.open(path: try preparedPath())
        return try await body(database.log, database)
    }

    /// The process's logger (`Log.bootstrap`, once), which keeps `secrets` and the database's
    /// password out of every line.
    func logger(secrets: [String?] = []) throws -> Logger {
        Log.bootstrap(secrets: (secrets + [try postgresPassword()]).compactMap { $0 })
    }

    /// Runs `body` with the database `--database` names, SQLite or PostgreSQL, opened and
    /// migrated.
    func withDatabase<T: Sendable>(logger: Logger, _ body: (DaemonDatabase) async throws -> T) async throws -> T {
        try await DaemonDatabase.with(path: try preparedPath(), password: try postgresPassword(), logger: logger, body)
    }

    /// The secret `suffix` (`secret-key`, `signing-key`) in its file beside an SQLite database,
    /// if it exists; nil for `:memory:` and PostgreSQL, which keep none beside them.
    func existingSecretFile(_ suffix: String) throws -> String? {
        guard path != ":memory:", !isPostgres else { return nil }
        return try SecretFile(database: path, suffix: suffix).existing()
    }

    /// Runs `body` with the PostgreSQL database `--database` names (a `postgres://` URL).
    func withPostgres<T: Sendable>(_ body: @Sendable (AvailPostgresDatabase) async throws -> T) async throws -> T {
        let password = try postgresPassword()
        let logger = Log.bootstrap(secrets: [password].compactMap { $0 })
        return try await AvailPostgresDatabase.withDatabase(url: path, password: password, logger: logger, body)
    }
}
