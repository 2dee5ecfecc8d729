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
///
/// A PASSIVE checkpoint beside a writer that never pauses never finishes, though: frames are
/// appended while it copies. SQLite starts the WAL over only when a write transaction begins
/// with every frame copied, so under sustained load the WAL grew without end (80 MB a second
/// at 5,000 deliveries/s), and every commit then wrote to new blocks at its end, which the
/// kernel zeroes first (9 % of the daemon's CPU). So once the WAL holds `restartFrames`, the
/// last few frames are copied on the writer's own connection, between two batches, where no
/// frame can arrive meanwhile; the next batch then starts the WAL over. That delays one batch
/// by the copy and an fsync of the log's file (3–20 ms measured), about once a second under
/// full load. (Passes every quarter second while the WAL filled that fast made p99 worse.)
public final class LogCheckpointer: Service, Sendable {
    private let database: AvailDatabase
    private let interval: Duration
    private let restartFrames: Int
    private let logger: Logger

    public init(database: AvailDatabase, interval: Duration = .seconds(1), restartFrames: Int = 16384, logger: Logger) {
        self.database = database
        self.interval = interval
        self.restartFrames = restartFrames
        self.logger = logger
    }

    /// How large the WAL file may stay once it starts over (SQLite's `journal_size_limit`).
    static let walSizeLimit = 128 << 20

    /// What SQLite's automatic checkpoint is set to when this is not running (its default).
    static let automaticPages = 1000

    public func run() async throws {
        // In memory there is no WAL; a service that returns would stop the daemon.
        guard let path = database.path else { return try await gracefulShutdown() }
        var configuration = Configuration()
        configuration.label = "availd.checkpointer"
        configuration.busyMode = .timeout(1)
        let connection = try DatabaseQueue(path: path, configuration: configuration)
        try await database.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA wal_autocheckpoint = 0; PRAGMA journal_size_limit = \(Self.walSizeLimit)")
        }
        defer { try? database.writer.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_autocheckpoint = \(Self.automaticPages)") } }
        try? await cancelWhenGracefulShutdown {
            while (try? await Task.sleep(for: self.interval)) != nil {
                do {
                    try await self.checkpoint(connection)
                } catch {
                    self.logger.warning("log.checkpoint_failed", metadata: ["error": "\(error)"])
                }
            }
        }
    }

    /// One pass: the bulk here, and, if the WAL is due to start over, the rest on the writer.
    ///
    /// A pass here that copied every frame it saw does not suffice: frames it did not see may
    /// already be committed, and the writer's next transaction then begins with frames left to
    /// copy, so SQLite does not start the WAL over. Passes here are repeated while they still find
    /// many new frames (each copies what arrived during the one before, so they shorten quickly),
    /// until the writer is left with at most `Self.tailFrames`: about a millisecond of copying.
    private func checkpoint(_ connection: DatabaseQueue) async throws {
        var (frames, _) = try await connection.writeWithoutTransaction { db in try db.checkpoint(.passive) }
        guard frames >= restartFrames else { return }
        for _ in 0..<Self.maximumPasses {
            let seen = frames
            (frames, _) = try await connection.writeWithoutTransaction { db in try db.checkpoint(.passive) }
            if frames - seen <= Self.tailFrames { break }
        }
        _ = try await database.writeWithoutTransaction { db in try db.checkpoint(.passive) }
    }

    /// At most this many frames (4 KiB each) are left for the writer's connection to copy.
    static let tailFrames = 256
    /// Passes after the first, before the writer copies whatever is left anyway.
    static let maximumPasses = 8
}
