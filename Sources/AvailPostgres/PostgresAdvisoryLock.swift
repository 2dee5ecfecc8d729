import AvailStore
import PostgresNIO

/// `DatabaseLock` on PostgreSQL: a transaction-level advisory lock on the key's hash, held by a
/// transaction of its own that stays open while `body` runs (on another connection, if `body`
/// uses the database). It ends with that transaction, so neither a failed `body` nor a daemon
/// that dies leaves it behind. Keys whose hashes collide only wait for each other.
public struct PostgresAdvisoryLock: DatabaseLock {
    let database: AvailPostgresDatabase
    /// The first half of the two-key form, so these keys never meet the single-key locks
    /// (appends, migrations, the projection lease).
    static let space: Int32 = 0x6176_6C64

    public init(database: AvailPostgresDatabase) {
        self.database = database
    }

    public func withLock<T: Sendable>(_ key: String, _ body: @Sendable () async throws -> T) async throws -> T {
        let logger = database.logger
        return try await database.transaction(durable: false) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(Self.space), hashtext(\(key)))", logger: logger)
            return try await body()
        }
    }
}
