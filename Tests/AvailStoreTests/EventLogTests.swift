import AvailCore
@testable import AvailStore
import AvailTesting
import Foundation
import GRDB
import Testing

@Suite struct EventLogTests {
    @Test func appendsAtGaplessPositionsWithStreamVersions() async throws {
        let log = EventLog(database: try LogDatabase.open(path: LogDatabase.inMemory))
        let first = try delivery(1)
        var canceled = first
        canceled.type = "invitee.canceled"
        canceled.dedupeKey = DedupeKey(rawValue: "evt:canceled")
        let outcomes = try await log.append([first, try delivery(2), canceled])
        #expect(outcomes == [.appended(position: 1), .appended(position: 2), .appended(position: 3)])
        let events = try await log.events(after: 0, limit: 10)
        #expect(events.map(\.position) == [1, 2, 3])
        #expect(events.map(\.streamVersion) == [1, 1, 2])
        #expect(events[2].event.stream == first.stream)
    }

    @Test func storesTheExactBytesAndFields() async throws {
        let log = EventLog(database: try LogDatabase.open(path: LogDatabase.inMemory))
        let event = try delivery(7)
        // Read back through SQLite's C API: a NULL signature and an empty body stay what they were.
        var unsigned = try delivery(8)
        unsigned.signature = nil
        unsigned.source = .api
        unsigned.body = Data()
        _ = try await log.append([event, unsigned])
        let stored = try await log.events(after: 0, limit: 2)
        #expect(stored.map(\.event) == [event, unsigned])
        #expect(stored[0].hash == ChainHash.hash(previous: ChainHash.genesis, position: 1, streamVersion: 1, event: event))
        #expect(stored[1].hash == ChainHash.hash(previous: stored[0].hash, position: 2, streamVersion: 1, event: unsigned))
    }

    @Test func dedupesAgainstTheLogAndWithinABatch() async throws {
        let log = EventLog(database: try LogDatabase.open(path: LogDatabase.inMemory))
        let a = try delivery(1)
        let b = try delivery(2)
        #expect(try await log.append([a, b, a]) == [.appended(position: 1), .appended(position: 2), .duplicate(position: 1)])
        #expect(try await log.append([b, try delivery(3)]) == [.duplicate(position: 2), .appended(position: 3)])
        #expect(try await log.lastPosition() == 3)
    }

    @Test(arguments: [
        "UPDATE events SET body = x'00' WHERE position = 1",
        "UPDATE events SET type = 'x'",
        "DELETE FROM events WHERE position = 1",
        "DELETE FROM events",
    ])
    func refusesToChangeOrDeleteEvents(statement: String) async throws {
        let database = try LogDatabase.open(path: LogDatabase.inMemory)
        _ = try await EventLog(database: database).append([try delivery(1)])
        await #expect(throws: DatabaseError.self) {
            try await database.write { try $0.execute(sql: statement) }
        }
        #expect(try await EventLog(database: database).events(after: 0, limit: 5).count == 1)
    }

    @Test func sqliteRefusesAGapInPositions() async throws {
        let database = try LogDatabase.open(path: LogDatabase.inMemory)
        _ = try await EventLog(database: database).append([try delivery(1)])
        await #expect(throws: DatabaseError.self) {
            try await database.write { db in
                try db.execute(sql: """
                    INSERT INTO events (position, stream, stream_version, type, source, recorded_at, dedupe_key, body, hash)
                    VALUES (3, 'x-1', 1, 't', 'api', 'now', 'k', x'00', zeroblob(32))
                    """)
            }
        }
    }

    @Test func theWriterConnectionCommitsWithSynchronousFull() throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let database = try LogDatabase.open(path: folder.path("log.sqlite"))
        #expect(try LogDatabase.writerSynchronousMode(database) == 2)
        let journal = try database.writeWithoutTransaction { try String.fetchOne($0, sql: "PRAGMA journal_mode") }
        #expect(journal == "wal")
    }

    @Test func aReopenedLogContinuesItsChain() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let path = folder.path("log.sqlite")
        _ = try await EventLog(database: try LogDatabase.open(path: path)).append([try delivery(1), try delivery(2)])
        let reopened = EventLog(database: try LogDatabase.open(path: path))
        #expect(try await reopened.append([try delivery(2), try delivery(3)]) == [.duplicate(position: 2), .appended(position: 3)])
        #expect(try await reopened.verify().isIntact)
    }
}

@Suite struct LogVerificationTests {
    /// A log of 20 events in a file, with the append-only triggers dropped so a test can
    /// tamper as an attacker with file access could.
    func tamperableLog() async throws -> (EventLog, AvailDatabase, TemporaryDirectory) {
        let folder = try TemporaryDirectory()
        let database = try LogDatabase.open(path: folder.path("log.sqlite"))
        let log = EventLog(database: database)
        _ = try await log.append(try (1...20).map { try delivery($0) })
        try await database.write { db in
            try db.execute(sql: "DROP TRIGGER events_no_update; DROP TRIGGER events_no_delete")
        }
        return (log, database, folder)
    }

    @Test func anIntactLogVerifies() async throws {
        let (log, _, folder) = try await tamperableLog()
        defer { folder.remove() }
        let report = try await log.verify()
        #expect(report.isIntact)
        #expect(report.eventCount == 20)
    }

    @Test(arguments: [
        "UPDATE events SET body = CAST(replace(CAST(body AS TEXT), 'Invitee 5', 'Invitee 6') AS BLOB) WHERE position = 5",
        "UPDATE events SET recorded_at = '2020-01-01T00:00:00.000000Z' WHERE position = 9",
        "DELETE FROM events WHERE position = 11",
    ])
    func tamperingIsFound(statement: String) async throws {
        let (log, database, folder) = try await tamperableLog()
        defer { folder.remove() }
        try await database.write { try $0.execute(sql: statement) }
        #expect(try await !log.verify().isIntact)
    }
}
