import Foundation
import GRDB

/// Opens availd's SQLite database: the log's file (WAL, every commit `synchronous=FULL`,
/// migrated) and the read models' (`ReadModelStore`).
public enum LogDatabase {
    /// The writer's page cache, in SQLite's negative-KiB form (32 MiB).
    static let writerCacheSize = -32768

    /// The path that keeps everything in memory (tests, one-off commands).
    public static let inMemory = ":memory:"

    /// Opens (creating if needed) the database at `path` and runs pending migrations.
    ///
    /// Throws before anything listens if the file cannot be opened or migrated.
    public static func open(path: String) throws -> AvailDatabase {
        var configuration = Configuration()
        configuration.label = "availd"
        // CLI commands may run beside a live daemon: wait for its write lock, do not fail.
        configuration.busyMode = .timeout(10)
        let writer: any DatabaseWriter
        if path == inMemory {
            writer = try DatabaseQueue(configuration: configuration)
        } else {
            createOwnerOnly(path)
            writer = try DatabasePool(path: path, configuration: configuration)
        }
        // GRDB's DatabasePool sets its writer to NORMAL after `prepareDatabase` runs (safe
        // for WAL against corruption, but a power cut may lose the last commits). A 2xx
        // promises durability, so the writer connection itself must say FULL.
        try writer.writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            // The dedupe and stream indexes are read on every append: keep them in memory
            // (32 MiB) rather than pread them page by page.
            try db.execute(sql: "PRAGMA cache_size = \(writerCacheSize)")
        }
        try Migrations.migrator.migrate(writer)
        let file = path == inMemory ? nil : path
        return AvailDatabase(writer: writer, readModelStore: try ReadModelStore.open(log: writer, logPath: file), path: file)
    }

    /// Creates the database file, if there is none, readable by its owner only: SQLite gives
    /// the `-wal` and `-shm` files the database file's mode. (Nothing is done to an existing
    /// file; if this fails, opening reports why.)
    private static func createOwnerOnly(_ path: String) {
        let descriptor = openOrCreate(path, mode: 0o600)
        if descriptor >= 0 { close(descriptor) }
    }

    /// The writer connection's `synchronous` setting (2 is FULL); read on the writer, because
    /// a reader connection answers with its own value.
    public static func writerSynchronousMode(_ database: AvailDatabase) throws -> Int {
        try database.writer.writeWithoutTransaction { db in
            try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1
        }
    }
}

/// `open(2)` with `O_CREAT` (inside `LogDatabase`, `open` names its own method).
private func openOrCreate(_ path: String, mode: mode_t) -> Int32 {
    open(path, O_WRONLY | O_CREAT | O_CLOEXEC, mode)
}
