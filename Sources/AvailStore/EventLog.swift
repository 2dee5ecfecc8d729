import AvailCore
import Foundation
import GRDB
import GRDBSQLite

/// The append-only event log in SQLite: the only source of truth.
public struct EventLog: Sendable {
    let database: AvailDatabase

    public init(database: AvailDatabase) {
        self.database = database
    }

    /// Appends `events` in one transaction (one fsync), deduplicating against the log and
    /// within the batch. Either every new event is stored or, on error, none is.
    public func append(_ events: [NewEvent]) async throws -> [AppendOutcome] {
        // FULL whatever ran before on the connection: the projector's commits are NORMAL.
        try await database.durableWrite { db in try Self.append(events, in: db) }
    }

    /// The body of `append`, for callers already inside a write transaction.
    static func append(_ events: [NewEvent], in db: Database) throws -> [AppendOutcome] {
        var (position, previousHash) = try head(db)
        var seen: [DedupeKey: Int64] = [:]
        var streamVersions: [StreamName: Int64] = [:]
        var outcomes: [AppendOutcome] = []
        outcomes.reserveCapacity(events.count)
        for event in events {
            if let first = try seen[event.dedupeKey] ?? positionOf(event.dedupeKey, db) {
                outcomes.append(.duplicate(position: first))
                continue
            }
            position += 1
            let version = try (streamVersions[event.stream] ?? lastStreamVersion(event.stream, db)) + 1
            let hash = ChainHash.hash(previous: previousHash, position: position, streamVersion: version, event: event)
            try insert(event, position: position, streamVersion: version, hash: hash, db)
            seen[event.dedupeKey] = position
            streamVersions[event.stream] = version
            previousHash = hash
            outcomes.append(.appended(position: position))
        }
        return outcomes
    }

    public func appendCopy(_ events: [LogEvent]) async throws {
        guard !events.isEmpty else { return }
        try await database.durableWrite { db in
            var continuation = LogContinuation(head: try Self.head(db))
            for copied in events {
                try continuation.accept(
                    copied, storedVersion: { try Self.lastStreamVersion($0, db) }, isStored: { try Self.positionOf($0, db) != nil })
                try Self.insert(copied.event, position: copied.position, streamVersion: copied.streamVersion, hash: copied.hash, db)
            }
        }
    }

    /// The last position (0 when empty).
    public func lastPosition() async throws -> Int64 {
        try await database.read { db in try Self.head(db).position }
    }

    public func head() async throws -> (position: Int64, hash: [UInt8]) {
        try await database.read { db in try Self.head(db) }
    }

    /// Up to `limit` events after `position`, in order.
    public func events(after position: Int64, limit: Int) async throws -> [LogEvent] {
        try await database.read { db in
            let statement = try db.cachedStatement(
                sql: "SELECT \(LogEvent.columns) FROM events WHERE position > ? ORDER BY position LIMIT ?")
            try statement.setArguments([position, limit])
            return try LogEvent.fetchAll(statement, db)
        }
    }

    static func head(_ db: Database) throws -> (position: Int64, hash: [UInt8]) {
        let row = try Row.fetchOne(db, sql: "SELECT position, hash FROM events ORDER BY position DESC LIMIT 1")
        guard let row else { return (0, ChainHash.genesis) }
        return (row["position"], [UInt8](row["hash"] as Data))
    }

    private static func insert(_ event: NewEvent, position: Int64, streamVersion: Int64, hash: [UInt8], _ db: Database) throws {
        try db.cachedStatement(sql: """
            INSERT INTO events (position, stream, stream_version, type, source, recorded_at,
                                dedupe_key, body, signature, hash)
            VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
            """).execute(arguments: [
                position, event.stream.description, streamVersion, event.type, event.source.rawValue,
                event.recordedAt.description, event.dedupeKey.rawValue, event.body, event.signature,
                Data(hash),
            ])
    }

    private static func positionOf(_ key: DedupeKey, _ db: Database) throws -> Int64? {
        try Int64.fetchOne(
            db.cachedStatement(sql: "SELECT position FROM events WHERE dedupe_key = ?"),
            arguments: [key.rawValue]
        )
    }

    private static func lastStreamVersion(_ stream: StreamName, _ db: Database) throws -> Int64 {
        try Int64.fetchOne(
            db.cachedStatement(sql: "SELECT max(stream_version) FROM events WHERE stream = ?"),
            arguments: [stream.description]
        ) ?? 0
    }
}

extension LogEvent {
    /// The columns `forEach` reads, in its order.
    static let columns = "position, stream_version, stream, type, source, recorded_at, dedupe_key, body, signature, hash"

    /// The events `statement` (which selects `columns`) finds; throws at the first unreadable one.
    static func fetchAll(_ statement: Statement, _ db: Database) throws -> [LogEvent] {
        var events: [LogEvent] = []
        try forEach(statement, db) { _, event in events.append(try event.get()) }
        return events
    }

    /// Calls `row` with each row `statement` (which selects `columns`) finds: its position, and
    /// its event or why it is unreadable. Read through SQLite's C API: a rebuild reads the
    /// whole log, and GRDB's `Row` (each value boxed, each column found by its name) made reading
    /// a sixth of the rebuild's time.
    static func forEach(
        _ statement: Statement, _ db: Database, _ row: (Int64, Result<LogEvent, DatabaseError>) throws -> Void
    ) throws {
        let handle = statement.sqliteStatement
        defer { sqlite3_reset(handle) }
        func text(_ column: CInt) -> String? {
            guard let bytes = sqlite3_column_text(handle, column) else { return nil }
            return String(decoding: UnsafeBufferPointer(start: bytes, count: Int(sqlite3_column_bytes(handle, column))), as: UTF8.self)
        }
        func blob(_ column: CInt) -> Data {
            guard let bytes = sqlite3_column_blob(handle, column) else { return Data() }
            return Data(bytes: bytes, count: Int(sqlite3_column_bytes(handle, column)))
        }
        while true {
            let code = sqlite3_step(handle)
            if code == SQLITE_DONE { return }
            guard code == SQLITE_ROW else {
                throw DatabaseError(
                    resultCode: ResultCode(rawValue: code),
                    message: db.sqliteConnection.map { String(cString: sqlite3_errmsg($0)) }, sql: statement.sql)
            }
            let position = sqlite3_column_int64(handle, 0)
            guard let stream = text(2).flatMap({ StreamName($0) }), let type = text(3),
                let source = text(4).flatMap(EventSource.init(rawValue:)),
                let recordedAt = text(5).flatMap(Timestamp.init(rfc3339:)), let dedupeKey = text(6)
            else {
                try row(position, .failure(DatabaseError(message: "events row \(position) is unreadable")))
                continue
            }
            try row(position, .success(LogEvent(
                position: position,
                streamVersion: sqlite3_column_int64(handle, 1),
                event: NewEvent(
                    stream: stream, type: type, source: source, recordedAt: recordedAt,
                    dedupeKey: DedupeKey(rawValue: dedupeKey), body: blob(7), signature: text(8)),
                hash: [UInt8](blob(9)))))
        }
    }
}
