import AvailCore
import AvailStore
import AvailTesting
import Foundation
import Logging
import PostgresNIO
import Testing

@testable import AvailPostgres

/// The database that holds a log: SQLite (a real `:memory:` database) or a real PostgreSQL the
/// tests start (`TestPostgres`), a database of its own for each test.
enum Backend: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, postgres

    var testDescription: String { rawValue }

    static let logger = Logger(label: "availd-test")

    func withLog<T: Sendable>(_ body: @Sendable (any EventStore) async throws -> T) async throws -> T {
        switch self {
        case .sqlite:
            return try await body(EventLog(database: try LogDatabase.open(path: LogDatabase.inMemory)))
        case .postgres:
            return try await AvailPostgresDatabase.withDatabase(url: try TestPostgres.server().newDatabase(), logger: Self.logger) {
                try await body(PostgresEventLog(database: $0))
            }
        }
    }
}

/// An event of `stream` with a small body; `key` is its dedupe key.
func event(_ key: String, stream: String = "expert-ada", signature: String? = nil) -> NewEvent {
    NewEvent(
        stream: StreamName(category: "expert", id: String(stream.dropFirst("expert-".count))), type: "test.event", source: .api,
        recordedAt: Timestamp(microseconds: 1_795_000_000_000_000), dedupeKey: DedupeKey(rawValue: key),
        body: Data(#"{"key":"\#(key)","bytes":"\u{00e9}\u{0000}"}"#.utf8), signature: signature)
}

/// What `EventStore` promises, asked of both backends.
@Suite struct EventStoreTests {
    @Test(arguments: Backend.allCases)
    func appendsDeduplicatesVersionsAndReadsBackByteExact(backend: Backend) async throws {
        try await backend.withLog { log in
            #expect(try await log.lastPosition() == 0)
            #expect(try await log.append([]) == [])
            let first = try await log.append([
                event("a"), event("b", stream: "expert-grace", signature: "t=1,v1=abc"), event("a"), event("c"),
            ])
            #expect(first == [.appended(position: 1), .appended(position: 2), .duplicate(position: 1), .appended(position: 3)])
            let second = try await log.append([event("c"), event("d", stream: "expert-grace"), event("e")])
            #expect(second == [.duplicate(position: 3), .appended(position: 4), .appended(position: 5)])
            #expect(try await log.lastPosition() == 5)

            let all = try await log.events(after: 0, limit: 100)
            #expect(all.map(\.position) == [1, 2, 3, 4, 5])
            #expect(all.map(\.event.dedupeKey.rawValue) == ["a", "b", "c", "d", "e"])
            #expect(all.map(\.streamVersion) == [1, 1, 2, 2, 3], "versions count within each stream")
            #expect(all.map(\.event.body) == ["a", "b", "c", "d", "e"].map { event($0).body }, "bodies byte-exact, NUL included")
            #expect(all.map(\.event.signature) == [nil, "t=1,v1=abc", nil, nil, nil])
            #expect(all[1].event == event("b", stream: "expert-grace", signature: "t=1,v1=abc"))
            #expect(try await log.events(after: 2, limit: 2).map(\.position) == [3, 4])
            #expect(try await log.events(after: 5, limit: 10).isEmpty)

            let verification = try await log.verify(maximumProblems: 20)
            #expect(verification.isIntact, "\(verification.problems)")
            #expect(verification.eventCount == 5)
            #expect(verification.headHash == Hex.encode(all[4].hash))
        }
    }

    @Test func bothBackendsChainTheSameEventsToTheSameHashes() async throws {
        let batches = [[event("a"), event("b", stream: "expert-grace", signature: "t=2,v1=ff")], [event("a"), event("c")]]
        var results: [[AvailCore.LogEvent]] = []
        for backend in Backend.allCases {
            results.append(try await backend.withLog { log in
                for batch in batches { _ = try await log.append(batch) }
                return try await log.events(after: 0, limit: 10)
            })
        }
        #expect(results[0].count == 3)
        #expect(results[0] == results[1], "positions, versions, bodies and hashes alike")
    }

    /// What `availd import` writes with: events copied with their positions, versions and
    /// hashes, taken only where they continue the log, a batch whole or not at all.
    @Test(arguments: Backend.allCases)
    func appendCopyTakesOnlyWhatContinuesTheLogABatchWholeOrNotAtAll(backend: Backend) async throws {
        let source = try await Backend.sqlite.withLog { log in
            _ = try await log.append((0..<6).map { event("s\($0)", stream: $0 % 2 == 0 ? "expert-ada" : "expert-grace") })
            return try await log.events(after: 0, limit: 10)
        }
        /// `original` at position 4 with what is changed, its hash made right for it.
        func forged(_ original: AvailCore.LogEvent, version: Int64? = nil, key: String? = nil) -> AvailCore.LogEvent {
            var event = original
            if let version { event.streamVersion = version }
            if let key { event.event.dedupeKey = DedupeKey(rawValue: key) }
            event.hash = ChainHash.hash(previous: source[2].hash, position: 4, streamVersion: event.streamVersion, event: event.event)
            return event
        }
        var tampered = source[4]
        tampered.event.body = Data(#"{"key":"s4","bytes":"changed"}"#.utf8)
        let refused: [([AvailCore.LogEvent], LogCopyRefusal)] = [
            ([source[4]], LogCopyRefusal(position: 5, reason: "the log's next position is 4")),
            ([source[3], tampered], LogCopyRefusal(position: 5, reason: "hash does not match its contents and predecessor")),
            ([forged(source[3], key: "s0")], LogCopyRefusal(position: 4, reason: "dedupe key s0 is already in the log")),
            ([forged(source[3], version: 3)], LogCopyRefusal(position: 4, reason: "stream expert-grace version 3, expected 2")),
        ]

        try await backend.withLog { log in
            try await log.appendCopy(Array(source[0..<3]))
            let head = try await log.head()
            #expect(head.position == 3 && head.hash == source[2].hash)

            for (batch, refusal) in refused {
                await #expect(throws: refusal) { try await log.appendCopy(batch) }
                #expect(try await log.lastPosition() == 3, "nothing of a refused batch is stored: \(refusal)")
            }

            try await log.appendCopy(Array(source[3...]))
            #expect(try await log.events(after: 0, limit: 10) == source, "the same log, hash for hash")
            #expect(try await log.verify(maximumProblems: 20).isIntact)
        }
    }

    @Test func anEmptyLogVerifiesToTheGenesisHash() async throws {
        for backend in Backend.allCases {
            let verification = try await backend.withLog { try await $0.verify(maximumProblems: 20) }
            #expect(verification == LogVerification(eventCount: 0, headHash: Hex.encode(ChainHash.genesis), problems: []), "\(backend)")
        }
    }
}

/// What only PostgreSQL needs proving: its triggers, its migrations, its positions under
/// concurrent writers.
@Suite struct PostgresEventLogTests {
    func withDatabase<T: Sendable>(url: String? = nil, _ body: @Sendable (AvailPostgresDatabase) async throws -> T) async throws -> T {
        try await AvailPostgresDatabase.withDatabase(url: try url ?? TestPostgres.server().newDatabase(), logger: Backend.logger, body)
    }

    /// The server's refusal of `sql`, as text; nil when it ran.
    func refusal(_ sql: String, on database: AvailPostgresDatabase) async -> String? {
        do {
            try await database.client.query(PostgresQuery(unsafeSQL: sql))
            return nil
        } catch let error as PSQLError {
            return error.serverInfo?[.message] ?? "\(error)"
        } catch {
            return "\(error)"
        }
    }

    @Test func theLogRefusesUpdateDeleteTruncateAndAGap() async throws {
        try await withDatabase { database in
            let log = PostgresEventLog(database: database)
            _ = try await log.append([event("a"), event("b")])
            #expect(await refusal("UPDATE events SET type = 'x' WHERE position = 1", on: database)?.contains("append-only: UPDATE") == true)
            #expect(await refusal("DELETE FROM events WHERE position = 2", on: database)?.contains("append-only: DELETE") == true)
            #expect(await refusal("TRUNCATE events", on: database)?.contains("append-only: TRUNCATE") == true)
            let gap = """
                INSERT INTO events (position, stream, stream_version, type, source, recorded_at, dedupe_key, body, hash)
                VALUES (4, 'expert-ada', 9, 't', 'api', 'x', 'gap', '\\x00', decode(repeat('00', 32), 'hex'))
                """
            #expect(await refusal(gap, on: database)?.contains("last position + 1") == true)
            let duplicate = gap.replacingOccurrences(of: "(4,", with: "(3,").replacingOccurrences(of: "'gap'", with: "'a'")
            #expect(await refusal(duplicate, on: database)?.contains("dedupe_key") == true, "the dedupe key is UNIQUE")
            #expect(try await log.verify().isIntact)
            #expect(try await log.lastPosition() == 2)
        }
    }

    @Test func verifyFindsARowChangedBehindTheTriggersBack() async throws {
        try await withDatabase { database in
            let log = PostgresEventLog(database: database)
            _ = try await log.append([event("a"), event("b"), event("c")])
            // The superuser can switch the trigger off; verify still sees what changed.
            try await database.client.query("ALTER TABLE events DISABLE TRIGGER events_no_change")
            try await database.client.query("UPDATE events SET body = '\\x7b7d' WHERE position = 2")
            let verification = try await log.verify()
            #expect(verification.problems == ["position 2: hash does not match its contents and predecessor"])
        }
    }

    /// The README's backup for PostgreSQL: `pg_dump -Fc`, `pg_restore` into a fresh database.
    /// The copy verifies to the same head, and is a log still: append-only, appending on.
    @Test func aDumpRestoredIntoAFreshDatabaseVerifiesAndGoesOn() async throws {
        let url = try TestPostgres.server().newDatabase()
        let original = try await withDatabase(url: url) { database in
            let log = PostgresEventLog(database: database)
            for batch in 0..<5 {
                _ = try await log.append((0..<40).map { event("b\(batch)-\($0)", stream: "expert-\($0 % 7)", signature: "t=\($0),v1=00") })
            }
            return try await log.verify(maximumProblems: 20)
        }
        #expect(original.eventCount == 200)
        let copy = try TestPostgres.server().restoredCopy(of: url)
        try await withDatabase(url: copy) { (database) async throws -> Void in
            let log = PostgresEventLog(database: database)
            #expect(try await log.verify(maximumProblems: 20) == original)
            #expect(try await PostgresMigrations.applied(database) == PostgresMigrations.all.map(\.name))
            await #expect(throws: PSQLError.self) {
                try await database.client.query("DELETE FROM events WHERE position = 1", logger: Backend.logger)
            }
            #expect(try await log.append([event("after-restore", stream: "expert-3")]) == [.appended(position: 201)])
            #expect(try await log.verify(maximumProblems: 20).isIntact)
        }
    }

    @Test func migrationsAreNamedAndRunOnceWhenDaemonsStartTogether() async throws {
        let url = try TestPostgres.server().newDatabase()
        // Three daemons starting at once on one empty database.
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<3 { group.addTask { try await withDatabase(url: url) { _ in } } }
            try await group.waitForAll()
        }
        try await withDatabase(url: url) { (database) async throws -> Void in
            #expect(try await PostgresMigrations.applied(database) == PostgresMigrations.all.map(\.name))
            #expect(try await PostgresMigrations.migrate(database) == [], "a later start applies nothing")
        }
    }

    /// Several writers, each with connections of its own (as several daemons would have),
    /// commit batches of random sizes after random delays, while a reader follows the log from
    /// its checkpoint as the projector does. Had positions come from a sequence, a later
    /// position would commit first now and then, and the reader would skip the earlier one.
    @Test func concurrentWritersNeverLetAReaderSkipAPosition() async throws {
        let url = try TestPostgres.server().newDatabase()
        let writers = 4
        let perWriter = 25_000
        let total = Int64(writers * perWriter)
        let read = try await withThrowingTaskGroup(of: (count: Int64, skips: Int, verification: LogVerification?).self) { group in
            for writer in 0..<writers {
                group.addTask {
                    try await withDatabase(url: url) { database in
                        let log = PostgresEventLog(database: database) {
                            try? await Task.sleep(for: .microseconds(Int.random(in: 0...2_000)))
                        }
                        var next = 0
                        while next < perWriter {
                            let size = min(Int.random(in: 1...64), perWriter - next)
                            let batch = (next..<next + size).map { event("w\(writer)-\($0)", stream: "expert-\($0 % 37)") }
                            let outcomes = try await log.append(batch)
                            #expect(!outcomes.contains { $0.isDuplicate })
                            next += size
                        }
                    }
                    return (0, 0, nil)
                }
            }
            group.addTask {
                try await withDatabase(url: url) { database in
                    let log = PostgresEventLog(database: database)
                    var verifier = LogVerifier()
                    var checkpoint: Int64 = 0
                    var skips = 0
                    while checkpoint < total {
                        let events = try await log.events(after: checkpoint, limit: 1_000)
                        if events.isEmpty { try await Task.sleep(for: .milliseconds(1)) }
                        for event in events {
                            if event.position != checkpoint + 1 { skips += 1 }
                            verifier.check(event)
                            checkpoint = event.position
                        }
                    }
                    return (checkpoint, skips, verifier.verification)
                }
            }
            var reader: (count: Int64, skips: Int, verification: LogVerification?)?
            for try await result in group where result.verification != nil { reader = result }
            return try #require(reader)
        }
        #expect(read.count == total)
        #expect(read.skips == 0)
        try await withDatabase(url: url) { database in
            let log = PostgresEventLog(database: database)
            let verification = try await log.verify()
            #expect(verification.isIntact, "\(verification.problems)")
            #expect(verification.eventCount == total)
            #expect(read.verification == verification, "the reader's count and head hash are the log's")
        }
    }
}
