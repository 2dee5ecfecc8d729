import AvailCore
import AvailPostgres
import AvailStore
import Logging
import ServiceLifecycle

/// The database the daemon runs on, opened and migrated: an SQLite file (the default) or
/// PostgreSQL (`postgres://…`, where several daemons can share it). The rest of the daemon
/// sees only the stores' protocols.
struct DaemonDatabase {
    var stores: Stores
    var readModels: any ProjectionTarget
    /// Who projects, where several daemons share the database; nil: this one, always.
    var lease: (any ProjectionLease)?
    /// One holder across every daemon on the database; nil where this daemon is the only one.
    var sharedLock: (any DatabaseLock)?
    var checkWritable: @Sendable () async throws -> Void
    /// What keeps the database going while the daemon runs, started before every other service
    /// and stopped after them: SQLite's WAL checkpointer, PostgreSQL's connection pool.
    var service: any Service

    static func open(_ configuration: Configuration, sealer: TokenSealer, logger: Logger) async throws -> DaemonDatabase {
        guard AvailPostgresDatabase.isURL(configuration.databasePath) else {
            let database = try LogDatabase.open(path: configuration.databasePath)
            return DaemonDatabase(
                stores: database.stores(sealer: sealer), readModels: ReadModels(database: database), lease: nil, sharedLock: nil,
                checkWritable: database.checkWritable, service: LogCheckpointer(database: database, logger: logger))
        }
        let database = try AvailPostgresDatabase(url: configuration.databasePath, password: configuration.databasePassword, logger: logger)
        let pool = PostgresPool(database)
        do {
            try await database.migrate()
        } catch {
            await pool.stop()
            throw error
        }
        return DaemonDatabase(
            stores: database.stores(sealer: sealer), readModels: PostgresReadModels(database: database),
            lease: PostgresProjectionLease(database: database),
            sharedLock: PostgresAdvisoryLock(database: database), checkWritable: database.checkWritable, service: pool)
    }
}

/// Runs a PostgreSQL connection pool from the moment the daemon opens it (migrations run before
/// anything listens) until the daemon's other services have stopped.
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
