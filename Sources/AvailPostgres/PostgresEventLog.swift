import AvailCore
import AvailStore
import Foundation
import Logging
import NIOCore
import PostgresNIO

/// The append-only event log in PostgreSQL, with every promise of the SQLite one
/// (`EventStore`).
///
/// **Positions.** A sequence would hand out positions in one order and commit them in another,
/// and a reader trusting `position > checkpoint` would skip the late one for good. Here one
/// append transaction runs at a time, under a transaction-level advisory lock: it reads the
/// last position after taking the lock and holds the lock until its commit is visible, so
/// position P + 1 is written only once P is committed (or abandoned, and then reused). Each
/// process's `LogWriter` batches its appends (group commit), which pays the lock once a batch.
///
/// **Durability.** Every append transaction says `synchronous_commit = on`, whatever the
/// server's default: its commit returns only once the WAL is flushed.
public struct PostgresEventLog: EventStore {
    let database: AvailPostgresDatabase
    /// Awaited inside each append transaction just before its commit; for tests that stretch
    /// the window in which a reader could see a later position first.
    let beforeCommit: (@Sendable () async -> Void)?

    public init(database: AvailPostgresDatabase) {
        self.init(database: database, beforeCommit: nil)
    }

    init(database: AvailPostgresDatabase, beforeCommit: (@Sendable () async -> Void)?) {
        self.database = database
        self.beforeCommit = beforeCommit
    }

    /// Held by the append transaction that is writing (`pg_advisory_xact_lock`'s key:
    /// "availd" and 1).
    static let appendLock: Int64 = 0x6176_6169_6C64_0001

    static let columns = "position, stream_version, stream, type, source, recorded_at, dedupe_key, body, signature, hash"

    public func append(_ events: [NewEvent]) async throws -> [AppendOutcome] {
        guard !events.isEmpty else { return [] }
        let logger = database.logger
        return try await database.durableTransaction(lock: Self.appendLock) { connection in
            // READ COMMITTED (the default): this statement starts after the lock is held, so the
            // head it reads is the last committed append's.
            let found = try await Self.state(
                keys: events.map(\.dedupeKey.rawValue), streams: events.map(\.stream.description), connection, logger: logger)
            var (position, previousHash) = found.head
            var seen = found.positions
            var versions = found.versions
            var rows = Rows()
            var outcomes: [AppendOutcome] = []
            outcomes.reserveCapacity(events.count)
            for event in events {
                if let first = seen[event.dedupeKey.rawValue] {
                    outcomes.append(.duplicate(position: first))
                    continue
                }
                position += 1
                let stream = event.stream.description
                let version = (versions[stream] ?? 0) + 1
                let hash = ChainHash.hash(previous: previousHash, position: position, streamVersion: version, event: event)
                rows.add(event, position: position, streamVersion: version, hash: hash)
                seen[event.dedupeKey.rawValue] = position
                versions[stream] = version
                previousHash = hash
                outcomes.append(.appended(position: position))
            }
            try await Self.insert(rows, connection, logger: logger)
            await beforeCommit?()
            return outcomes
        }
    }

    public func appendCopy(_ events: [AvailCore.LogEvent]) async throws {
        guard !events.isEmpty else { return }
        let logger = database.logger
        try await database.durableTransaction(lock: Self.appendLock) { connection in
            let found = try await Self.state(
                keys: events.map(\.event.dedupeKey.rawValue), streams: events.map(\.event.stream.description), connection,
                logger: logger)
            var continuation = LogContinuation(head: found.head)
            var rows = Rows()
            for copied in events {
                try continuation.accept(
                    copied, storedVersion: { found.versions[$0.description] ?? 0 }, isStored: { found.positions[$0.rawValue] != nil })
                rows.add(copied.event, position: copied.position, streamVersion: copied.streamVersion, hash: copied.hash)
            }
            try await Self.insert(rows, connection, logger: logger)
            await beforeCommit?()
        }
    }

    public func head() async throws -> (position: Int64, hash: [UInt8]) {
        try await database.client.withConnection { connection in
            try await Self.head(connection, logger: database.logger)
        }
    }

    public func lastPosition() async throws -> Int64 {
        try await database.client.withConnection { connection in
            try await Self.head(connection, logger: database.logger).position
        }
    }

    public func events(after position: Int64, limit: Int) async throws -> [AvailCore.LogEvent] {
        try await events(after: position, through: nil, limit: limit)
    }

    /// Up to `limit` events after `position` and, when `last` is given, up to it.
    func events(after position: Int64, through last: Int64?, limit: Int) async throws -> [AvailCore.LogEvent] {
        let rows = try await database.client.query("""
            SELECT position, stream_version, stream, type, source, recorded_at, dedupe_key, body, signature, hash
            FROM events WHERE position > \(position) AND position <= \(last ?? Int64.max)
            ORDER BY position LIMIT \(limit)
            """, logger: database.logger)
        var events: [AvailCore.LogEvent] = []
        for try await row in rows.decode(
            (Int64, Int64, String, String, String, String, String, ByteBuffer, String?, ByteBuffer).self
        ) {
            events.append(try Self.event(row))
        }
        return events
    }

    /// Walks the log (`LogVerifier`) up to the last position when it starts, a chunk at a time.
    public func verify(maximumProblems: Int, progress: (_ done: Int64, _ total: Int64) -> Void) async throws -> LogVerification {
        let head = try await lastPosition()
        var verifier = LogVerifier(maximumProblems: maximumProblems)
        var after: Int64 = 0
        while after < head, !verifier.isFull {
            let chunk = try await events(after: after, through: head, limit: 4096)
            guard let last = chunk.last?.position else { break }
            for event in chunk { verifier.check(event) }
            after = last
            progress(last, head)
        }
        return verifier.verification
    }

    struct UnreadableRow: Error, CustomStringConvertible {
        var description: String
    }

    private static func event(
        _ row: (Int64, Int64, String, String, String, String, String, ByteBuffer, String?, ByteBuffer)
    ) throws -> AvailCore.LogEvent {
        let (position, version, stream, type, source, recordedAt, key, body, signature, hash) = row
        guard let streamName = StreamName(stream), let source = EventSource(rawValue: source),
              let recordedAt = Timestamp(rfc3339: recordedAt)
        else { throw UnreadableRow(description: "events row \(position) is unreadable") }
        return AvailCore.LogEvent(
            position: position, streamVersion: version,
            event: NewEvent(
                stream: streamName, type: type, source: source, recordedAt: recordedAt,
                dedupeKey: DedupeKey(rawValue: key), body: Data(body.readableBytesView), signature: signature),
            hash: Array(buffer: hash))
    }

    private static func head(_ connection: PostgresConnection, logger: Logger) async throws -> (position: Int64, hash: [UInt8]) {
        for try await (position, hash) in try await connection.query(
            "SELECT position, hash FROM events ORDER BY position DESC LIMIT 1", logger: logger
        ).decode((Int64, ByteBuffer).self) {
            return (position, Array(buffer: hash))
        }
        return (0, ChainHash.genesis)
    }

    /// What an append needs to know, in one statement: the head, the positions of those of
    /// `keys` the log holds, and each of `streams`' last version (absent for a new stream).
    private static func state(
        keys: [String], streams: [String], _ connection: PostgresConnection, logger: Logger
    ) async throws -> (head: (position: Int64, hash: [UInt8]), positions: [String: Int64], versions: [String: Int64]) {
        var head: (position: Int64, hash: [UInt8]) = (0, ChainHash.genesis)
        var positions: [String: Int64] = [:]
        var versions: [String: Int64] = [:]
        let rows = try await connection.query("""
            (SELECT 'head' AS kind, NULL::text AS name, position AS number, hash FROM events ORDER BY position DESC LIMIT 1)
            UNION ALL
            SELECT 'key', dedupe_key, position, NULL FROM events WHERE dedupe_key = ANY(\(keys))
            UNION ALL
            SELECT 'stream', stream, max(stream_version), NULL FROM events WHERE stream = ANY(\(Array(Set(streams)))) GROUP BY stream
            """, logger: logger)
        for try await (kind, name, number, hash) in rows.decode((String, String?, Int64, ByteBuffer?).self) {
            switch (kind, name, hash) {
            case ("head", _, let hash?): head = (number, Array(buffer: hash))
            case ("key", let key?, _): positions[key] = number
            case ("stream", let stream?, _): versions[stream] = number
            default: throw UnreadableRow(description: "an append's state row \(kind) is unreadable")
            }
        }
        return (head, positions, versions)
    }

    /// Writes `rows` in one statement: a parameter per column, each an array.
    private static func insert(_ rows: Rows, _ connection: PostgresConnection, logger: Logger) async throws {
        guard !rows.positions.isEmpty else { return }
        try await connection.query("""
            INSERT INTO events (position, stream, stream_version, type, source, recorded_at,
                                dedupe_key, body, signature, hash)
            SELECT position, stream, stream_version, type, source, recorded_at, dedupe_key, body,
                   CASE WHEN signed THEN signature END, hash
            FROM unnest(\(rows.positions)::bigint[], \(rows.streams)::text[], \(rows.versions)::bigint[],
                        \(rows.types)::text[], \(rows.sources)::text[], \(rows.recordedAts)::text[],
                        \(rows.keys)::text[], \(rows.bodies)::bytea[], \(rows.signed)::boolean[],
                        \(rows.signatures)::text[], \(rows.hashes)::bytea[])
                AS batch(position, stream, stream_version, type, source, recorded_at, dedupe_key, body,
                         signed, signature, hash)
            ORDER BY position
            """, logger: logger)
    }

    /// An append's new rows, column by column, for `unnest`.
    private struct Rows {
        var positions: [Int64] = []
        var streams: [String] = []
        var versions: [Int64] = []
        var types: [String] = []
        var sources: [String] = []
        var recordedAts: [String] = []
        var keys: [String] = []
        var bodies: [ByteBuffer] = []
        /// Whether the event has a signature (`signatures` holds "" where it has none).
        var signed: [Bool] = []
        var signatures: [String] = []
        var hashes: [ByteBuffer] = []

        mutating func add(_ event: NewEvent, position: Int64, streamVersion: Int64, hash: [UInt8]) {
            positions.append(position)
            streams.append(event.stream.description)
            versions.append(streamVersion)
            types.append(event.type)
            sources.append(event.source.rawValue)
            recordedAts.append(event.recordedAt.description)
            keys.append(event.dedupeKey.rawValue)
            bodies.append(ByteBuffer(bytes: event.body))
            signed.append(event.signature != nil)
            signatures.append(event.signature ?? "")
            hashes.append(ByteBuffer(bytes: hash))
        }
    }
}
