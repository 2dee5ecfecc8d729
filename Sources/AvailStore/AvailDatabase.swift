import Foundation
import GRDB

/// availd's database, opened and migrated: the log's file, which holds the log and everything
/// kept beside it (tokens, credentials, dead letters, subscriptions), and the read models in
/// files of their own (`ReadModelStore`).
///
/// The stores beside the log take this rather than a connection; the read and write methods
/// here are the log file's.
public final class AvailDatabase: Sendable {
    /// The log's file.
    public let writer: any DatabaseWriter
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

    public func read<T: Sendable>(_ value: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await writer.read(value)
    }

    public func read<T>(_ value: (Database) throws -> T) throws -> T {
        try writer.read(value)
    }

    public func write<T: Sendable>(_ updates: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await writer.write(updates)
    }

    public func write<T>(_ updates: (Database) throws -> T) throws -> T {
        try writer.write(updates)
    }

    public func writeWithoutTransaction<T: Sendable>(_ updates: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await writer.writeWithoutTransaction(updates)
    }

    public func writeWithoutTransaction<T>(_ updates: (Database) throws -> T) throws -> T {
        try writer.writeWithoutTransaction(updates)
    }

    func durableWrite<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await writer.durableWrite(body)
    }
}
