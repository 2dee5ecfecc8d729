import GRDB
import Logging
import ServiceLifecycle

/// Copies the log's WAL back into its file from a connection of its own, once a second, while
/// the daemon runs, so that no append waits for a checkpoint.
///
/// SQLite's automatic checkpoint runs inside the commit that crosses the WAL's threshold, on the
/// writer, so a delivery in that batch waits for it. That is a few milliseconds usually, but a
/// long read beside the daemon (`verify`, `rebuild`) keeps the WAL from being reset, and the
/// first commit after it then checkpoints the whole backlog. So the writer's automatic
/// checkpoint is turned off while this runs, and a PASSIVE checkpoint here (which never waits
/// for readers or the writer) does the work beside the appends.
public final class LogCheckpointer: Service, Sendable {
    private let database: AvailDatabase
    private let interval: Duration
    private let logger: Logger

    public init(database: AvailDatabase, interval: Duration = .seconds(1), logger: Logger) {
        self.database = database
        self.interval = interval
        self.logger = logger
    }

    /// What SQLite's automatic checkpoint is set to when this is not running (its default).
    static let automaticPages = 1000

    public func run() async throws {
        // In memory there is no WAL; a service that returns would stop the daemon.
        guard let path = database.path else { return try await gracefulShutdown() }
        var configuration = Configuration()
        configuration.label = "availd.checkpointer"
        configuration.busyMode = .timeout(1)
        let connection = try DatabaseQueue(path: path, configuration: configuration)
        try await database.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_autocheckpoint = 0") }
        defer { try? database.writer.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_autocheckpoint = \(Self.automaticPages)") } }
        try? await cancelWhenGracefulShutdown {
            while (try? await Task.sleep(for: self.interval)) != nil {
                do {
                    try await connection.writeWithoutTransaction { db in _ = try db.checkpoint(.passive) }
                } catch {
                    self.logger.warning("log.checkpoint_failed", metadata: ["error": "\(error)"])
                }
            }
        }
    }
}
