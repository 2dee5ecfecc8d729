import AvailCore
import AvailTesting
import AvailWorkload
import Foundation
import GRDB
import Testing

@testable import AvailStore

/// A database made before reconciliation (migrations up to `v6-calendar-feeds`) keeps its log
/// exactly through `v7-reconcile`, which rebuilds the table to let `reconcile` in.
@Suite struct UpgradeTests {
    @Test func theLogSurvivesTheRebuildThatLetsReconciliationIn() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let path = folder.path("old.sqlite")
        let queue = try DatabaseQueue(path: path)
        try Migrations.migrator.migrate(queue, upTo: "v6-calendar-feeds")
        let events = try (0..<5).map { try delivery($0) }
        _ = try await queue.write { db in try EventLog.append(events, in: db) }
        let observation = try InviteeObservation.event(
            invitee: Data(#"{"uri":"https://api.calendly.com/scheduled_events/e/invitees/i","status":"active","updated_at":"2026-12-01T10:00:00Z"}"#.utf8),
            scheduledEvent: Data(#"{"uri":"https://api.calendly.com/scheduled_events/e","start_time":"2026-12-02T10:00:00Z","end_time":"2026-12-02T10:30:00Z"}"#.utf8),
            at: .now())
        // The old CHECK refuses the new source.
        await #expect(throws: (any Error).self) { _ = try await queue.write { db in try EventLog.append([observation], in: db) } }
        let before = try await queue.read { db in
            try LogEvent.fetchAll(try db.cachedStatement(sql: "SELECT \(LogEvent.columns) FROM events ORDER BY position"), db)
        }
        try queue.close()

        let database = try LogDatabase.open(path: path)
        let log = database.log
        #expect(try await log.events(after: 0, limit: 100) == before)
        let verification = try await log.verify()
        #expect(verification.isIntact && verification.eventCount == 5, "\(verification.problems)")
        let appended = try await log.append([observation])
        #expect(appended.first?.position == 6)
        #expect(try await log.verify().isIntact)
        // The rebuilt table is append-only and gapless as before.
        await #expect(throws: (any Error).self) {
            try await database.write { db in try db.execute(sql: "UPDATE events SET type = 'x' WHERE position = 1") }
        }
        await #expect(throws: (any Error).self) {
            try await database.write { db in try db.execute(sql: "DELETE FROM events WHERE position = 6") }
        }
        await #expect(throws: (any Error).self) {
            try await database.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO events (position, stream, stream_version, type, source, recorded_at, dedupe_key, body, hash)
                        VALUES (9, 's-1', 1, 't', 'api', 'now', 'k', x'00', zeroblob(32))
                        """)
            }
        }
    }

    /// A database whose read models were in the log's file (up to `v8`): they are dropped from
    /// it, a first generation of their own is made empty, and the projector folds the log into
    /// it, to the same digest as before.
    @Test func readModelsMoveOutOfTheLogsFileAndAreFoldedAgain() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let path = folder.path("old.sqlite")
        let queue = try DatabaseQueue(path: path)
        try Migrations.migrator.migrate(queue, upTo: "v8-organization-subscriptions")
        let events = try Corpus.fixtureBodies().map { NewEvent(delivery: try Delivery(body: $0), signature: nil, receivedAt: .now()) }
        _ = try await queue.write { db in
            try EventLog.append(events, in: db)
            try db.execute(sql: "UPDATE projection_checkpoint SET position = 3")
        }
        try queue.close()

        let database = try LogDatabase.open(path: path)
        let tables = try await database.read { db in try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'") }
        for table in ["expert_profiles", "invitee_facts", "appointments", "appointment_hosts", "parked_events", "projection_checkpoint"] {
            #expect(!tables.contains(table), "\(table) is still in the log's file")
        }
        #expect(ReadModelGeneration.files(logPath: path).map(\.number) == [1])
        #expect(try await database.readModels.checkpoint() == 0)
        let fold = try await database.log.fold()
        #expect(try await database.readModels.catchUp(with: database.log) == fold.position)
        #expect(try await database.readModels.digest().digest == fold.digest)
    }
}
