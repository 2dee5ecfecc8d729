import AvailCore
@testable import AvailStore
import AvailTesting
import AvailWorkload
import Foundation
import GRDB
import Testing

/// The SQLite read models, written batch by batch, equal the in-memory fold of the same log.
/// (What both backends promise alike is in AvailPostgresTests/ProjectionBackendTests.)
@Suite struct ReadModelsTests {
    /// A log holding the experts, then `bodies`, deduplicated as the real log does.
    static func log(_ bodies: [Data], experts: [ExpertEvent] = Corpus.experts.flatMap { Corpus.setUp($0) }) async throws -> EventLog {
        let log = EventLog(database: try LogDatabase.open(path: ":memory:"))
        var events = experts.enumerated().map { offset, expert in Corpus.event(expert, position: Int64(offset + 1)).event }
        events += try bodies.map { NewEvent(delivery: try Delivery(body: $0), signature: nil, receivedAt: .now()) }
        _ = try await log.append(events)
        return log
    }

    static func catchUp(_ readModels: ReadModels, _ log: EventLog, batchSizes seed: UInt64) async throws {
        var random = SplitMix64(seed: seed)
        var checkpoint = try await readModels.checkpoint()
        var experts = ExpertCache(try await readModels.experts())
        while true {
            let events = try await log.events(after: checkpoint, limit: 1 + Int(random.next() % 17))
            if events.isEmpty { return }
            guard case .applied(let position, let cache, _, _) = try await readModels.apply(
                events.map(PreparedEvent.init), after: checkpoint, experts: experts)
            else { Issue.record("unexpected stale checkpoint"); return }
            checkpoint = position
            experts = cache
        }
    }

    @Test(arguments: [UInt64(1), 2, 3])
    func batchesOfAnySizeGiveTheFoldsDigest(seed: UInt64) async throws {
        var bodies = try Corpus.fixtureBodies() + Corpus.sampleBodies()
        bodies += GeneratedCorpus.histories(seed: seed, invitees: 60).flatMap { $0 }
        var random = SplitMix64(seed: seed)
        bodies.shuffle(using: &random)
        let log = try await Self.log(bodies)
        let readModels = ReadModels(database: log.database)
        try await Self.catchUp(readModels, log, batchSizes: seed)
        let fold = try await log.fold()
        let (position, digest) = try await readModels.digest()
        #expect(position == fold.position)
        #expect(digest == fold.digest)
        let comparison = try await readModels.compareWithRebuild()
        #expect(comparison.stored == comparison.rebuilt)
        // The host index and the facts of invitees not described yet (neither is part of the
        // digest) also equal what a rebuild writes.
        func hosts() async throws -> [String] {
            try await ReadModels(database: log.database).database.read { db in
                try String.fetchAll(db, sql: "SELECT host_key || ' ' || appointment_id FROM appointment_hosts ORDER BY 1")
                    + String.fetchAll(db, sql: "SELECT invitee_uri || ' ' || hex(facts) FROM invitee_facts ORDER BY 1")
                    + String.fetchAll(db, sql: "SELECT id || ' ' || hex(facts) FROM appointments ORDER BY 1")
            }
        }
        let incremental = try await hosts()
        try await readModels.replace(with: fold)
        #expect(try await hosts() == incremental)
        #expect(incremental.count > 100)
    }

    @Test func aFailedBatchLeavesNothingBehind() async throws {
        let bodies = (0..<5).map { GeneratedCorpus.hosts[0].invitee(index: $0, seed: "atomic") }
        let log = try await Self.log(bodies, experts: [])
        let readModels = ReadModels(database: log.database)
        // The database is full (`max_page_count`, as a full disk): the batch fails part-way.
        // That is the database's failure, not an event's: retried, nothing parked.
        let pages = try await ReadModels(database: log.database).database.read { db in try Int.fetchOne(db, sql: "PRAGMA page_count") ?? 0 }
        try await ReadModels(database: log.database).database.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA max_page_count = \(pages)") }
        let events = try await log.events(after: 0, limit: 100)
        await #expect(throws: DatabaseError.self) {
            _ = try await readModels.apply(events.map(PreparedEvent.init), after: 0, experts: ExpertCache())
        }
        #expect(try await readModels.checkpoint() == 0)
        let counts = try await ReadModels(database: log.database).database.read { db in
            try ["appointments", "invitee_facts", "appointment_hosts", "parked_events"].map {
                try Int.fetchOne(db, sql: "SELECT count(*) FROM \($0)")
            }
        }
        #expect(counts == [0, 0, 0, 0])
        // Once there is room, the same batch applies.
        try await ReadModels(database: log.database).database.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA max_page_count = 1000000") }
        guard case .applied(let position, _, let parked, _) = try await readModels.apply(
            events.map(PreparedEvent.init), after: 0, experts: ExpertCache())
        else { Issue.record("stale"); return }
        #expect(position == 5)
        #expect(parked == 0)
    }

    @Test func theLogCommitsFullWhateverTheProjectorLeftBehind() async throws {
        // The projector commits its batches with synchronous=NORMAL on the writer connection;
        // the log's own commits must still be FULL.
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let writer = try LogDatabase.open(path: folder.path("sync.sqlite"))
        let log = EventLog(database: writer)
        _ = try await log.append([try Delivery(body: GeneratedCorpus.hosts[0].invitee(index: 1, seed: "sync"))]
            .map { NewEvent(delivery: $0, signature: nil, receivedAt: .now()) })
        try await ReadModels(database: writer).catchUp(with: log)
        #expect(try LogDatabase.writerSynchronousMode(writer) == 2)
        try await writer.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = NORMAL") }
        let modeDuringAppend = try await writer.writeWithoutTransaction { db -> Int in
            try db.inTransaction {
                _ = try EventLog.append([], in: db)
                return .commit
            }
            return try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1
        }
        #expect(modeDuringAppend == 1)
        _ = try await log.append([try Delivery(body: GeneratedCorpus.hosts[0].invitee(index: 2, seed: "sync"))]
            .map { NewEvent(delivery: $0, signature: nil, receivedAt: .now()) })
        #expect(try LogDatabase.writerSynchronousMode(writer) == 2)
    }

    @Test func aRebuildReplacesTamperedReadModels() async throws {
        let log = try await Self.log(try Corpus.fixtureBodies())
        let readModels = ReadModels(database: log.database)
        try await readModels.catchUp(with: log)
        let good = try await readModels.digest()
        try await ReadModels(database: log.database).database.write { db in try db.execute(sql: "UPDATE appointments SET status = 'canceled'") }
        let tampered = try await readModels.compareWithRebuild()
        #expect(tampered.stored != tampered.rebuilt)
        try await readModels.replace(with: try await log.fold())
        #expect(try await readModels.digest() == good)
    }

    @Test func appointmentsArePagedInStartTimeOrder() async throws {
        let log = try await Self.log(try Corpus.fixtureBodies())
        let readModels = ReadModels(database: log.database)
        try await readModels.catchUp(with: log)
        var seen: [Appointment] = []
        var query = AppointmentQuery(expertID: "grace", limit: 3)
        while true {
            let page = try await readModels.appointments(query)
            seen += page.appointments
            guard let next = page.next else { break }
            query.after = next
        }
        #expect(seen.count == 15)
        #expect(seen.map { $0.startTime! } == seen.map { $0.startTime! }.sorted())
        #expect(Set(seen.map(\.id)).count == 15)
        let canceled = try await readModels.appointments(AppointmentQuery(expertID: "grace", status: .canceled, limit: 100))
        #expect(canceled.appointments.count == 3)
        let december = try await readModels.appointments(AppointmentQuery(
            expertID: "grace", from: Timestamp(rfc3339: "2026-12-05T00:00:00Z"), to: Timestamp(rfc3339: "2026-12-15T00:00:00Z")))
        #expect(december.appointments.count == 5)
    }
}
