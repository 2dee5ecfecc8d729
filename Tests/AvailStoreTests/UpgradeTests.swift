import AvailCore
import AvailTesting
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
        let queue = try DatabaseQueue(path: folder.path("old.sqlite"))
        try Migrations.migrator.migrate(queue, upTo: "v6-calendar-feeds")
        let log = EventLog(database: queue)
        _ = try await log.append(try (0..<5).map { try delivery($0) })
        let before = try await log.events(after: 0, limit: 100)
        let observation = try InviteeObservation.event(
            invitee: Data(#"{"uri":"https://api.calendly.com/scheduled_events/e/invitees/i","status":"active","updated_at":"2026-12-01T10:00:00Z"}"#.utf8),
            scheduledEvent: Data(#"{"uri":"https://api.calendly.com/scheduled_events/e","start_time":"2026-12-02T10:00:00Z","end_time":"2026-12-02T10:30:00Z"}"#.utf8),
            at: .now())
        // The old CHECK refuses the new source.
        await #expect(throws: (any Error).self) { _ = try await log.append([observation]) }

        try Migrations.migrator.migrate(queue)
        #expect(try await log.events(after: 0, limit: 100) == before)
        let verification = try await log.verify()
        #expect(verification.isIntact && verification.eventCount == 5, "\(verification.problems)")
        let appended = try await log.append([observation])
        #expect(appended.first?.position == 6)
        #expect(try await log.verify().isIntact)
        // The rebuilt table is append-only and gapless as before.
        await #expect(throws: (any Error).self) {
            try await queue.write { db in try db.execute(sql: "UPDATE events SET type = 'x' WHERE position = 1") }
        }
        await #expect(throws: (any Error).self) {
            try await queue.write { db in try db.execute(sql: "DELETE FROM events WHERE position = 6") }
        }
        await #expect(throws: (any Error).self) {
            try await queue.write { db in
                try db.execute(
                    sql: """
                        INSERT INTO events (position, stream, stream_version, type, source, recorded_at, dedupe_key, body, hash)
                        VALUES (9, 's-1', 1, 't', 'api', 'now', 'k', x'00', zeroblob(32))
                        """)
            }
        }
    }
}
