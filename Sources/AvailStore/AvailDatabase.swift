import Foundation
import GRDB

/// availd's database, opened and migrated: the log's file, which holds the log and everything
/// kept beside it (tokens, credentials, dead letters, subscriptions), and the read models in
/// files of their own (`ReadModelStore`).
///
/// The stores beside the log take this rather than a connection, and nothing outside this
/// module sees SQL or GRDB: the read and write methods here (the log file's) are the store's
/// own, and the server asks only what `checkWritable` answers.
public final class AvailDatabase: Sendable {
    /// The log's file.
    let writer: any DatabaseWriter
    public let readModelStore: ReadModelStore
    /// The log's file; nil when everything is in memory.
    public let path: String?

    init(writer: any DatabaseWriter, readModelStore: ReadModelStore, path: String?) {
        self.writer = writer
        self.readModelStore = readModelStore
        self.path = path
    }

    public var log: EventLog { EventLog(database: self) }
    public var readModels: ReadModels { ReadModels(database: self) }

    func read<T: Sendable>(_ value: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await writer.read(value)
    }

    func read<T>(_ value: (Database) throws -> T) throws -> T {
        try writer.read(value)
    }

    func write<T: Sendable>(_ updates: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await writer.write(updates)
    }

    func write<T>(_ updates: (Database) throws -> T) throws -> T {
        try writer.write(updates)
    }

    func writeWithoutTransaction<T: Sendable>(_ updates: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await writer.writeWithoutTransaction(updates)
    }

    func writeWithoutTransaction<T>(_ updates: (Database) throws -> T) throws -> T {
        try writer.writeWithoutTransaction(updates)
    }

    /// Throws unless the log's file grants its write lock now: not read-only, not locked by
    /// another process for longer than the busy timeout. Takes the lock and gives it back.
    public func checkWritable() async throws {
        try await writer.writeWithoutTransaction { db in
            try db.execute(sql: "BEGIN IMMEDIATE")
            try db.execute(sql: "ROLLBACK")
        }
    }

    func durableWrite<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await writer.durableWrite(body)
    }
}
