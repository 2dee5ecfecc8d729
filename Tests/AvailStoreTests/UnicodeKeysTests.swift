import AvailCore
@testable import AvailStore
import AvailTesting
import AvailWorkload
import Foundation
import GRDB
import Testing

/// é is one scalar in NFC (U+00E9) and two in NFD (e, U+0301): Swift's `==` and hashing call
/// the spellings equal, SQLite's keys compare bytes. Deliveries that differ only so must be
/// appended, projected and verified like any others.
@Suite struct UnicodeKeysTests {
    static let nfc = "jos\u{E9}@experts.example"
    static let nfd = "jose\u{301}@experts.example"
    static let start = Timestamp(microseconds: 1_796_000_000_000_000)

    static func at(_ step: Int) -> Timestamp { Timestamp(microseconds: 1_795_000_000_000_000 + Int64(step) * 1_000_000) }

    func append(_ log: EventLog, _ bodies: [Data]) async throws {
        _ = try await log.append(try bodies.map { NewEvent(delivery: try Delivery(body: $0), signature: nil, receivedAt: .now()) })
    }

    /// What the digest leaves out (the host index, facts of invitees not described yet) and the
    /// appointments, byte for byte.
    func rows(_ log: EventLog) async throws -> [String] {
        try await ReadModels(database: log.database).database.read { db in
            try String.fetchAll(db, sql: "SELECT hex(host_key) || ' ' || appointment_id FROM appointment_hosts ORDER BY 1")
                + String.fetchAll(db, sql: "SELECT hex(invitee_uri) || ' ' || hex(facts) FROM invitee_facts ORDER BY 1")
                + String.fetchAll(db, sql: "SELECT id || ' ' || hex(facts) FROM appointments ORDER BY 1")
        }
    }

    /// Projections equal a rebuild, digest and rows alike.
    func expectRebuildEqual(_ log: EventLog, sourceLocation: SourceLocation = #_sourceLocation) async throws {
        let readModels = ReadModels(database: log.database)
        let comparison = try await readModels.compareWithRebuild()
        #expect(comparison.stored == comparison.rebuilt, sourceLocation: sourceLocation)
        let incremental = try await rows(log)
        try await readModels.replace(with: try await log.fold())
        #expect(try await rows(log) == incremental, sourceLocation: sourceLocation)
        #expect(try await log.verify().problems == [], sourceLocation: sourceLocation)
    }

    /// One invitee whose host's email changes spelling, then to someone else, then back: each
    /// delivery in its own batch, so the host index is updated row by row.
    @Test func hostEmailsSpelledBothWaysDoNotStallTheProjector() async throws {
        let log = EventLog(database: try LogDatabase.open(path: ":memory:"))
        let readModels = ReadModels(database: log.database)
        for (step, host) in [Self.nfc, Self.nfd, "other@experts.example", Self.nfc, Self.nfd].enumerated() {
            let body = DeliveryBuilder(hostEmail: host).invitee(
                "invitee.created", eventUUID: "e-unicode", inviteeUUID: "i-unicode", index: 1, createdAt: Self.at(step), start: Self.start)
            try await append(log, [body])
            try await readModels.catchUp(with: log)
        }
        #expect(try await readModels.checkpoint() == 5)
        #expect(try await readModels.parked().isEmpty)
        let hosts = try await ReadModels(database: log.database).database.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM appointment_hosts") }
        #expect(hosts == 2)  // the host's email, in one spelling, and user URI
        try await expectRebuildEqual(log)
    }

    /// The expert's email in NFC, the host's in NFD: the expert claims the appointment whether
    /// it arrives before or after it.
    @Test(arguments: [false, true])
    func anExpertClaimsAppointmentsWhoseHostIsSpelledTheOtherWay(expertFirst: Bool) async throws {
        let log = EventLog(database: try LogDatabase.open(path: ":memory:"))
        let readModels = ReadModels(database: log.database)
        let expert = ExpertEvent.updated(ExpertUpdated(expertID: "jose", name: "José", email: Self.nfc, timezone: "UTC", setBy: .admin, at: Self.at(0)))
        let delivery = DeliveryBuilder(hostEmail: Self.nfd, eventTypeUUID: "unconnected").invitee(index: 1, seed: "unicode")
        for step in expertFirst ? [0, 1] : [1, 0] {
            if step == 0 {
                _ = try await log.append([Corpus.event(expert, position: 1).event])
            } else {
                try await append(log, [delivery])
            }
            try await readModels.catchUp(with: log)
        }
        #expect(try await readModels.appointments(AppointmentQuery(expertID: "jose")).appointments.count == 1)
        try await expectRebuildEqual(log)
    }

    /// Two spellings of one stream id: two streams to SQLite, so two streams to the log too,
    /// in one group commit or in several.
    @Test func streamNamesSpelledBothWaysAreTwoStreams() async throws {
        let log = EventLog(database: try LogDatabase.open(path: ":memory:"))
        func body(_ invitee: String, _ step: Int) -> Data {
            DeliveryBuilder().invitee(
                "invitee.created", eventUUID: "e-caf\u{E9}", inviteeUUID: invitee, index: 1, createdAt: Self.at(step), start: Self.start)
        }
        let composed = "i-caf\u{E9}", decomposed = "i-cafe\u{301}"
        try await append(log, [body(composed, 0)])
        try await append(log, [body(composed, 1)])
        try await append(log, [body(decomposed, 2), body(composed, 3), body(decomposed, 4)])
        let versions = try await log.events(after: 0, limit: 10).map { "\($0.event.stream.id.unicodeScalars.count) \($0.streamVersion)" }
        #expect(versions == ["6 1", "6 2", "7 1", "6 3", "7 2"])
        let readModels = ReadModels(database: log.database)
        try await readModels.catchUp(with: log)
        try await expectRebuildEqual(log)
        // To the fold, both spellings are one invitee, found by either.
        func uri(_ invitee: String) -> String { DeliveryBuilder.inviteeURI(event: "e-caf\u{E9}", invitee: invitee) }
        let appointment = try await readModels.appointment(id: Appointment.id(inviteeURI: uri(decomposed)))
        #expect(appointment?.externalInviteeURI == uri(composed))
        #expect(appointment?.id == Appointment.id(inviteeURI: uri(composed)))
    }
}
