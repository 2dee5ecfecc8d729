import AvailCore
import AvailPostgres
import AvailStore
import Logging
import ServiceLifecycle

/// The database the daemon and the commands run on, opened and migrated: an SQLite file (the
/// default) or PostgreSQL (`postgres://…`, where several daemons can share it). The rest of
/// availd sees only the stores' protocols.
public struct DaemonDatabase: Sendable {
    /// The read models, as the projector writes them and the daemon asks them.
    public var readModels: any ProjectionTarget
    /// Who projects, where several daemons share the database; nil: this process, always.
    var lease: (any ProjectionLease)?
    /// One holder across every process on the database; nil where one process's locks suffice
    /// (SQLite: its single writer, and the compare-and-swap of what is stored).
    var sharedLock: (any DatabaseLock)?
    public var checkWritable: @Sendable () async throws -> Void
    /// What keeps the database going while availd runs, started before every other service
    /// and stopped after them: SQLite's WAL checkpointer, PostgreSQL's connection pool.
    var service: any Service
    private var makeStores: @Sendable (TokenSealer) -> Stores

    /// Every store; `sealer` seals and opens the Calendly tokens and OAuth verifiers.
    public func stores(sealer: TokenSealer) -> Stores {
        makeStores(sealer)
    }

    /// The stores, for what stores nothing sealed (the log, dead letters, expert tokens,
    /// subscriptions): the sealer's key is made up now, so a Calendly token stored through
    /// these could never be opened.
    public var storesWithoutSecrets: Stores {
        get throws { makeStores(try TokenSealer(secretKey: Secret.generate())) }
    }

    /// Opens `path` (an SQLite file or `:memory:`, or a `postgres://` URL; `password` for a
    /// URL without one). On PostgreSQL the pool starts here and runs until `service` stops.
    static func open(path: String, password: String?, logger: Logger) async throws -> DaemonDatabase {
        guard AvailPostgresDatabase.isURL(path) else {
            let database = try LogDatabase.open(path: path)
            return DaemonDatabase(
                readModels: ReadModels(database: database), lease: nil, sharedLock: nil, checkWritable: database.checkWritable,
                service: LogCheckpointer(database: database, logger: logger), makeStores: { database.stores(sealer: $0) })
        }
        let database = try AvailPostgresDatabase(url: path, password: password, logger: logger)
        let pool = PostgresPool(database)
        do {
            try await database.migrate()
        } catch {
            await pool.stop()
            throw error
        }
        return DaemonDatabase(
            readModels: PostgresReadModels(database: database), lease: PostgresProjectionLease(database: database),
            sharedLock: PostgresAdvisoryLock(database: database), checkWritable: database.checkWritable, service: pool,
            makeStores: { database.stores(sealer: $0) })
    }

    /// For a command: runs `body` with the database `path` names, opened and migrated; on
    /// PostgreSQL its pool closes when `body` returns or throws. SQLite's WAL is checkpointed
    /// by the daemon, or when the last connection closes.
    public static func with<T: Sendable>(
        path: String, password: String?, logger: Logger, _ body: (DaemonDatabase) async throws -> T
    ) async throws -> T {
        let database = try await open(path: path, password: password, logger: logger)
        guard let pool = database.service as? PostgresPool else { return try await body(database) }
        do {
            let result = try await body(database)
            await pool.stop()
            return result
        } catch {
            await pool.stop()
            throw error
        }
    }
}

/// Runs a PostgreSQL connection pool from the moment availd opens it (migrations run before
/// anything listens) until the daemon's other services have stopped, or a command is done.
final class PostgresPool: Service, Sendable {
    private let task: Task<Void, Never>

    init(_ database: AvailPostgresDatabase) {
        task = Task { await database.run() }
    }

    func run() async throws {
        // Added first, so signalled last: the writer has drained and the projector stopped.
        try? await gracefulShutdown()
        await stop()
    }

    func stop() async {
        task.cancel()
        await task.value
    }
}
