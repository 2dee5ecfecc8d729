@testable import AvailCore
import AvailTesting
import AvailWorkload
import Foundation
import Testing

/// The facts as the read models store them (`CompactFacts`): every fold state reads back as
/// it was written, each string is stored once, and bytes that are not what `compact()` wrote
/// are refused, never misread.
@Suite struct CompactFactsTests {
    static func folded() throws -> [AppointmentFacts] {
        var projection = Projection()
        let bodies = try Corpus.fixtureBodies() + Corpus.sampleBodies()
            + GeneratedCorpus.histories(seed: 3, invitees: 200).flatMap { $0 }
        for event in try Corpus.events(bodies) { projection.apply(event) }
        return Array(projection.state.facts.values)
    }

    @Test func everyFoldStateReadsBackAsItWasWritten() throws {
        let facts = try Self.folded()
        #expect(facts.count > 300)
        #expect(facts.contains { $0.canceled != nil } && facts.contains { $0.noShow != nil })
        #expect(facts.contains { $0.rescheduledTo != nil } && facts.contains { $0.noShowSnapshot != nil })
        for item in facts {
            let stored = item.compact()
            #expect(stored.first == CompactFacts.format)
            #expect(try AppointmentFacts(compact: stored) == item)
            #expect(try AppointmentFacts(compact: stored).compact() == stored)
        }
    }

    @Test func aStringRepeatedAcrossCopiesIsStoredOnce() throws {
        let uri = "https://api.calendly.com/scheduled_events/E1/invitees/I1"
        var snapshot = InviteeSnapshot(hostEmails: ["ada@experts.example"])
        snapshot.name = "Zoë Example"
        snapshot.email = "zoe@example.com"
        snapshot.scheduledEventURI = "https://api.calendly.com/scheduled_events/E1"
        snapshot.eventTypeURI = "https://api.calendly.com/event_types/T1"
        snapshot.hostUsers = ["https://api.calendly.com/users/U1"]
        snapshot.startTime = Timestamp(microseconds: 1_795_000_000_000_000)
        let version = FactVersion(at: "2026-11-20T19:04:19.332644Z", key: "evt:\(String(repeating: "ab", count: 32))")
        var once = AppointmentFacts(inviteeURI: uri)
        once.created = Versioned(version: version, value: snapshot)
        var twice = once
        twice.noShowSnapshot = Versioned(version: version, value: snapshot)
        let added = twice.compact().count - once.compact().count
        // The second copy adds its field bits and indexes, not its strings again.
        #expect(added < 24, "a repeated snapshot added \(added) bytes")
        #expect(try AppointmentFacts(compact: twice.compact()) == twice)
    }

    @Test func spellingsSwiftHoldsEqualStayApart() throws {
        var facts = AppointmentFacts(inviteeURI: "https://api.calendly.com/scheduled_events/E1/invitees/I1")
        facts.rescheduledTo = "caf\u{E9}"
        facts.rescheduledFrom = "cafe\u{301}"
        #expect(facts.rescheduledTo == facts.rescheduledFrom)  // Swift's `==`
        let read = try AppointmentFacts(compact: facts.compact())
        #expect(Array(read.rescheduledTo!.utf8) == Array("caf\u{E9}".utf8))
        #expect(Array(read.rescheduledFrom!.utf8) == Array("cafe\u{301}".utf8))
    }

    @Test func extremeValuesSurvive() throws {
        var facts = AppointmentFacts(inviteeURI: "")
        var snapshot = InviteeSnapshot(hostEmails: [])
        snapshot.name = ""
        snapshot.startTime = Timestamp(microseconds: .min)
        snapshot.endTime = Timestamp(microseconds: .max)
        snapshot.createdAt = Timestamp(microseconds: -1)
        facts.created = Versioned(version: FactVersion(at: "", rank: FactVersion.observed, key: ""), value: snapshot)
        facts.noShowObservedAbsent = Versioned(version: FactVersion(at: "x", rank: .max, key: "y"), value: false)
        #expect(try AppointmentFacts(compact: facts.compact()) == facts)
    }

    @Test func bytesCompactDidNotWriteAreRefused() throws {
        let stored = try #require(try Self.folded().max { $0.compact().count < $1.compact().count }).compact()
        // Every truncation, and every stored form with bytes after it.
        for length in 0..<stored.count {
            #expect(throws: CompactFacts.Failure.self) { try AppointmentFacts(compact: Array(stored.prefix(length))) }
        }
        #expect(throws: CompactFacts.Failure.self) { try AppointmentFacts(compact: stored + [0]) }
        // Another format (the JSON the read models held before), an index past the strings, an
        // integer longer than 64 bits, a string that is not UTF-8, a boolean that is neither.
        #expect(throws: CompactFacts.Failure.self) { try AppointmentFacts(compact: Array(#"{"invitee_uri":"x"}"#.utf8)) }
        #expect(throws: CompactFacts.Failure.self) { try AppointmentFacts(compact: [CompactFacts.format, 0, 0, 0]) }
        #expect(throws: CompactFacts.Failure.self) {
            try AppointmentFacts(compact: [CompactFacts.format] + Array(repeating: 0xFF, count: 10) + [0x01])
        }
        #expect(throws: CompactFacts.Failure.self) { try AppointmentFacts(compact: [CompactFacts.format, 1, 1, 0xFF, 0, 0]) }
        #expect(throws: CompactFacts.Failure.self) {
            // invitee_uri, then no_show present with a version and the boolean 2
            try AppointmentFacts(compact: [CompactFacts.format, 1, 1, 0x61, 0, 0b1000, 0, 0, 0, 2])
        }
        #expect(try AppointmentFacts(compact: [CompactFacts.format, 1, 1, 0x61, 0, 0b1000, 0, 0, 0, 1]).noShow?.value == true)
    }
}
