/// A lock every daemon on the database honours. Where one daemon owns the database (SQLite)
/// its own locks suffice and there is none; on PostgreSQL it is an advisory lock.
public protocol DatabaseLock: Sendable {
    /// Runs `body` while this daemon, and no other on the database, holds `key`.
    func withLock<T: Sendable>(_ key: String, _ body: @Sendable () async throws -> T) async throws -> T
}
