import GRDB

extension DatabaseWriter {
    /// Runs `body` in one write transaction that commits with `synchronous=FULL`: once this
    /// returns, the commit is on disk, and a power cut cannot take it back.
    ///
    /// Every write availd promises to keep goes through here: the log's appends, expert tokens,
    /// calendar feeds, Calendly credentials and OAuth states. The pragma is set on every call,
    /// because the projector commits its rebuildable read models with `NORMAL` on the same
    /// writer connection. The transaction is `IMMEDIATE`: it takes the write lock before `body`
    /// reads, so a body that reads and then writes never finds its snapshot stale at the first
    /// write because a CLI command beside the daemon committed in between (`SQLITE_BUSY_SNAPSHOT`,
    /// which the busy timeout does not wait out).
    func durableWrite<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await writeWithoutTransaction { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            var result: T?
            try db.inTransaction(.immediate) {
                result = try body(db)
                return .commit
            }
            // `inTransaction` returned without throwing: `body` ran and set it.
            return result!
        }
    }
}
