import Foundation
import Logging
import PostgresNIO

/// availd's PostgreSQL database: a pool of connections (`PostgresClient`) to the database a
/// `postgres://` URL names, migrated before it is used.
///
/// The pool works only while `run()` runs; `withDatabase` runs it for the length of a body.
public final class AvailPostgresDatabase: Sendable {
    let client: PostgresClient
    let logger: Logger

    /// `password` is used when the URL has none (a credential file keeps it out of the URL).
    public init(url: String, password: String? = nil, logger: Logger) throws {
        var configuration = try Self.configuration(url: url)
        if configuration.password == nil { configuration.password = password }
        self.client = PostgresClient(configuration: configuration, backgroundLogger: logger)
        self.logger = logger
        self.connectionConfiguration = PostgresConnection.Configuration(
            host: configuration.host ?? "localhost", port: configuration.port ?? 5432, username: configuration.username,
            password: configuration.password, database: configuration.database, tls: .disable)
    }

    /// For a connection of its own, outside the pool (the projection lease).
    let connectionConfiguration: PostgresConnection.Configuration

    /// Runs the connection pool until the task running it is cancelled.
    public func run() async {
        await client.run()
    }

    /// Opens the database `url` names, migrates it (`PostgresMigrations`) and runs `body` with
    /// it; the pool closes when `body` returns or throws.
    public static func withDatabase<T: Sendable>(
        url: String, password: String? = nil, logger: Logger, _ body: @Sendable (AvailPostgresDatabase) async throws -> T
    ) async throws -> T {
        let database = try AvailPostgresDatabase(url: url, password: password, logger: logger)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await database.run() }
            defer { group.cancelAll() }
            try await PostgresMigrations.migrate(database)
            return try await body(database)
        }
    }

    /// Brings the schema up to date (`PostgresMigrations`); the pool must be running.
    public func migrate() async throws {
        try await PostgresMigrations.migrate(self)
    }

    /// Throws unless the database takes writes now: not a standby in recovery, not read-only.
    public func checkWritable() async throws {
        let row = try await query("SELECT pg_is_in_recovery(), current_setting('transaction_read_only')").first
        guard let (recovering, readOnly) = try row?.decode((Bool, String).self), !recovering, readOnly == "off" else {
            throw NotWritable(description: "PostgreSQL is a standby or read-only")
        }
    }

    public struct NotWritable: Error, CustomStringConvertible {
        public var description: String
    }

    /// Runs `body` in one transaction that commits only once PostgreSQL has flushed it to its WAL
    /// (`synchronous_commit = on`, whatever the server's default): what a 2xx or a handed-out
    /// credential promises. An error of `body` is thrown as it is, after the rollback.
    ///
    /// With `lock`, the transaction first takes that transaction-level advisory lock, in the
    /// same round trip; `body`'s statements start after it is held, so they see every
    /// transaction that held it before.
    func durableTransaction<T: Sendable>(lock: Int64? = nil, _ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await transaction(lock: lock, durable: true, body)
    }

    /// Runs `body` in one transaction, as `durableTransaction` does; with `durable: false` the
    /// commit does not wait for the WAL flush (`synchronous_commit = off`): a crash may lose the
    /// last such transactions, whole, never part of one. For what can be made again from the log.
    func transaction<T: Sendable>(lock: Int64? = nil, durable: Bool, _ body: (PostgresConnection) async throws -> T)
        async throws -> T
    {
        let synchronous = durable ? "on" : "off"
        do {
            return try await client.withTransaction(logger: logger) { connection in
                if let lock {
                    try await connection.query(
                        "SELECT set_config('synchronous_commit', \(synchronous), true), pg_advisory_xact_lock(\(lock))", logger: logger)
                } else {
                    try await connection.query("SELECT set_config('synchronous_commit', \(synchronous), true)", logger: logger)
                }
                return try await body(connection)
            }
        } catch let error as PostgresTransactionError {
            if let inner = error.closureError { throw inner }
            throw error
        }
    }

    /// Runs `statement` in a durable transaction of its own; the rows it returns.
    @discardableResult
    func durableQuery(_ statement: PostgresQuery) async throws -> [PostgresRow] {
        try await durableTransaction { connection in
            try await connection.query(statement, logger: logger).collect()
        }
    }

    /// Runs `statement` (no transaction of its own); the rows it returns.
    func query(_ statement: PostgresQuery) async throws -> [PostgresRow] {
        try await client.query(statement, logger: logger).collect()
    }

    /// Whether `text` names a PostgreSQL database rather than an SQLite file.
    public static func isURL(_ text: String) -> Bool {
        text.hasPrefix("postgres://") || text.hasPrefix("postgresql://")
    }

    public struct InvalidURL: Error, CustomStringConvertible {
        public var description: String
    }

    /// `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE`. No TLS: availd reaches PostgreSQL on
    /// a private network or loopback (say so in the README before offering more).
    static func configuration(url text: String) throws -> PostgresClient.Configuration {
        guard isURL(text), let url = URLComponents(string: text), let host = url.host, !host.isEmpty else {
            throw InvalidURL(description: "not a PostgreSQL URL (postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE)")
        }
        let database = String(url.path.drop { $0 == "/" })
        guard let user = url.user, !user.isEmpty, !database.isEmpty else {
            throw InvalidURL(description: "a PostgreSQL URL names its user and its database: postgres://USER@HOST/DATABASE")
        }
        return PostgresClient.Configuration(
            host: host, port: url.port ?? 5432, username: user.removingPercentEncoding ?? user,
            password: url.password.map { $0.removingPercentEncoding ?? $0 }, database: database, tls: .disable)
    }
}
