import AvailCore
@testable import AvailStore
import AvailTesting
import AvailWorkload
import Foundation
import GRDB
import Testing

/// An event that cannot be applied is parked with its reason and the projector goes on; only a
/// failure of the database itself (full, busy, I/O) is retried (ReadModelsTests'
/// `aFailedBatchLeavesNothingBehind`).
@Suite struct ParkingTests {
    static func bodies(_ seed: String) -> [Data] { (0..<5).map { GeneratedCorpus.hosts[0].invitee(index: $0, seed: seed) } }

    func count(_ table: String, _ log: EventLog) async throws -> Int? {
        try await ReadModels(database: log.database).database.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM \(table)") }
    }

    /// A constraint the third event's data violates (here a trigger's, as a CHECK would).
    @Test func anEventTheDatabaseRefusesIsParkedAndLaterEventsAreProjected() async throws {
        let log = try await ReadModelsTests.log(Self.bodies("refused"), experts: [])
        try await ReadModels(database: log.database).database.writeWithoutTransaction { db in
            try db.execute(sql: """
                CREATE TEMP TRIGGER refuse_third BEFORE INSERT ON main.appointments WHEN NEW.invitee_name = 'Invitee 2'
                BEGIN SELECT RAISE(ABORT, 'invitee 2 is refused'); END
                """)
        }
        let readModels = ReadModels(database: log.database)
        try await readModels.catchUp(with: log)
        #expect(try await readModels.checkpoint() == 5)
        let parked = try await readModels.parked()
        #expect(parked.map(\.position) == [3])
        #expect(parked.first?.reason.contains("invitee 2 is refused") == true, "\(parked.first?.reason ?? "none")")
        #expect(try await count("appointments", log) == 4)
    }

    /// Stored facts that no longer decode park the event that needs them, not the projector.
    @Test func factsThatDoNotDecodeParkTheEventThatReadsThem() async throws {
        let bodies = Self.bodies("undecodable")
        let log = try await ReadModelsTests.log(Array(bodies.prefix(2)), experts: [])
        let readModels = ReadModels(database: log.database)
        try await readModels.catchUp(with: log)
        try await ReadModels(database: log.database).database.write { db in
            try db.execute(sql: "UPDATE appointments SET facts = X'7B226E6F7422' WHERE invitee_name = 'Invitee 0'")
        }
        let again = GeneratedCorpus.hosts[0].invitee(
            "invitee.canceled", index: 0, seed: "undecodable", createdAt: Timestamp(microseconds: 1_795_000_100_000_000))
        _ = try await log.append(try [again, bodies[2]].map { NewEvent(delivery: try Delivery(body: $0), signature: nil, receivedAt: .now()) })
        try await readModels.catchUp(with: log)
        #expect(try await readModels.checkpoint() == 4)
        #expect(try await readModels.parked().map(\.position) == [3])
        #expect(try await count("appointments", log) == 3)
    }
}
