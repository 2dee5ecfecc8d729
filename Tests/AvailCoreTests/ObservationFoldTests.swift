import AvailCore
import AvailTesting
import AvailWorkload
import Foundation
import Testing

/// The README, "Staying in sync with Calendly": the fold treats an observation like a
/// delivery of the same facts, so a log that missed webhooks and then observed Calendly's
/// state has the digest of the log that missed nothing; observing what the log already says
/// changes nothing.
@Suite struct ObservationFoldTests {
    static let observedAt = Timestamp(microseconds: 1_797_000_000_000_000)

    /// What Calendly's API answers now about every invitee the deliveries tell of, as
    /// reconciliation would observe it: the Invitee resource (the last of its created and
    /// canceled states, with the no-show of its latest no-show delivery) and its scheduled event.
    static func observations(of bodies: [Data]) throws -> [NewEvent] {
        var states: [String: (payload: [String: Any], canceled: Bool)] = [:]
        var noShows: [String: (at: String, object: Any)] = [:]
        for body in bodies {
            let envelope = try #require(try JSONSerialization.jsonObject(with: body) as? [String: Any])
            let name = try #require(envelope["event"] as? String)
            let payload = try #require(envelope["payload"] as? [String: Any])
            let at = try #require(envelope["created_at"] as? String)
            if name.hasPrefix("invitee_no_show.") {
                let invitee = try #require(payload["invitee"] as? String ?? payload["uri"] as? String)
                let object: Any = name.hasSuffix(".created")
                    ? ["uri": "https://api.calendly.com/invitee_no_shows/\(at)", "created_at": at] : NSNull()
                if noShows[invitee].map({ $0.at < at || ($0.at == at && name.hasSuffix(".deleted")) }) ?? true {
                    noShows[invitee] = (at, object)
                }
                continue
            }
            let uri = try #require(payload["uri"] as? String)
            let canceled = name == "invitee.canceled"
            if states[uri].map({ !$0.canceled || canceled }) ?? true { states[uri] = (payload, canceled) }
        }
        return try states.keys.sorted().map { uri in
            var invitee = states[uri]!.payload
            let event = invitee.removeValue(forKey: "scheduled_event")
            try #require(event != nil)
            invitee["no_show"] = noShows[uri]?.object ?? NSNull()
            return try InviteeObservation.event(
                invitee: JSONSerialization.data(withJSONObject: invitee, options: [.sortedKeys]),
                scheduledEvent: JSONSerialization.data(withJSONObject: event!, options: [.sortedKeys]), at: observedAt)
        }
    }

    static func log(_ bodies: [Data], then observed: [NewEvent] = []) throws -> [LogEvent] {
        let experts = ConvergenceTests.experts.enumerated().map { Corpus.event($0.element, position: Int64($0.offset + 1)) }
        let deliveries = try Corpus.events(bodies, startingAt: Int64(experts.count + 1))
        let observations = observed.enumerated().map { offset, event in
            LogEvent(position: Int64(experts.count + deliveries.count + offset + 1), streamVersion: 1, event: event, hash: [])
        }
        return experts + deliveries + observations
    }

    static func projection(_ events: [LogEvent]) -> Projection {
        var projection = Projection()
        for event in events { projection.apply(event) }
        return projection
    }

    /// The observations the fold would learn something from, as reconciliation appends them.
    static func news(_ observations: [NewEvent], against projection: Projection) throws -> [NewEvent] {
        try observations.filter { observation in
            let input = try ProjectionInput(observation: observation)
            return input.wouldChange(projection.state.facts.filter { input.inviteeURIs.contains($0.key) })
        }
    }

    @Test(arguments: [UInt64(21), 22, 23, 24, 25, 26])
    func deliveriesDroppedThenObservedGiveTheDigestOfNoneDropped(seed: UInt64) throws {
        // No-show deletions are left out: Calendly does not say when one happened (see below).
        let histories = GeneratedCorpus.histories(seed: seed, invitees: 200).filter { story in
            !story.contains { String(decoding: $0, as: UTF8.self).contains(#""event":"invitee_no_show.deleted""#) }
        }
        let bodies = histories.flatMap { $0 }
        let everything = Self.projection(try Self.log(bodies))
        var random = SplitMix64(seed: seed)
        let kept = bodies.filter { _ in random.next() % 10 >= 3 }
        #expect(kept.count < bodies.count * 8 / 10 && kept.count > bodies.count * 6 / 10)
        let observations = try Self.observations(of: bodies)
        let gappy = Self.projection(try Self.log(kept))
        #expect(gappy.digest != everything.digest)
        let new = try Self.news(observations, against: gappy)
        #expect(!new.isEmpty && new.count < observations.count)
        let reconciled = Self.projection(try Self.log(kept, then: new))
        #expect(reconciled.digest == everything.digest)
        #expect(reconciled.parked.isEmpty)
        // The log missed nothing: Calendly's state is what it says already.
        #expect(try Self.news(observations, against: everything).isEmpty)
        // And a second pass finds nothing new either.
        #expect(try Self.news(observations, against: reconciled).isEmpty)
    }

    @Test func everyObservationOfALogThatMissedNothingChangesNothing() throws {
        let bodies = GeneratedCorpus.histories(seed: 31, invitees: 300).flatMap { $0 }
        let everything = Self.projection(try Self.log(bodies))
        let observations = try Self.observations(of: bodies)
        #expect(observations.count > 300)
        #expect(try Self.news(observations, against: everything).isEmpty)
        let withAll = Self.projection(try Self.log(bodies, then: observations))
        #expect(withAll.digest == everything.digest)
    }

    @Test func aMissedNoShowDeletionIsObservedAsNone() throws {
        let host = GeneratedCorpus.hosts[0]
        let start = Timestamp(microseconds: 1_796_000_000_000_000)
        func delivery(_ name: String, at seconds: Int64) -> Data {
            host.invitee(name, eventUUID: "e1", inviteeUUID: "i1", index: 1, createdAt: Timestamp(microseconds: 1_795_000_000_000_000 + seconds * 1_000_000), start: start)
        }
        let created = delivery("invitee.created", at: 0), noShow = delivery("invitee_no_show.created", at: 60)
        let marked = Self.projection(try Self.log([created, noShow]))
        #expect(marked.appointments.first?.noShow == true)
        // Calendly has no no-show now (its deletion's delivery was lost).
        let observed = try Self.observations(of: [created])
        let new = try Self.news(observed, against: marked)
        #expect(new.count == 1)
        let reconciled = Self.projection(try Self.log([created, noShow], then: new))
        #expect(reconciled.appointments.first?.noShow == false)
        // A no-show made after the observation still wins, whichever is logged first.
        let later = try Corpus.events([delivery("invitee_no_show.created", at: 2_000_000_000)])[0]
        let observedEvent = LogEvent(position: 0, streamVersion: 1, event: new[0], hash: [])
        let before = try Self.log([created, noShow])
        for tail in [[observedEvent, later], [later, observedEvent]] {
            let events = (before + tail).enumerated().map { offset, event in
                LogEvent(position: Int64(offset + 1), streamVersion: 1, event: event.event, hash: [])
            }
            #expect(Self.projection(events).appointments.first?.noShow == true)
        }
    }

    @Test func anObservationNamesItsStateInItsDedupeKey() throws {
        let host = GeneratedCorpus.hosts[0]
        let start = Timestamp(microseconds: 1_796_000_000_000_000)
        let created = host.invitee("invitee.created", eventUUID: "e2", inviteeUUID: "i2", index: 2, createdAt: Timestamp(microseconds: 1_795_000_000_000_000), start: start)
        let canceled = host.invitee("invitee.canceled", eventUUID: "e2", inviteeUUID: "i2", index: 2, createdAt: Timestamp(microseconds: 1_795_000_100_000_000), start: start)
        let first = try Self.observations(of: [created]), again = try Self.observations(of: [created])
        let later = try Self.observations(of: [created, canceled])
        #expect(first[0].dedupeKey == again[0].dedupeKey)
        #expect(first[0].dedupeKey != later[0].dedupeKey)
        #expect(first[0].source == .reconcile && first[0].type == "calendly.invitee_observed")
        #expect(first[0].stream.description == "invitee-i2")
        #expect(first[0].dedupeKey.rawValue.hasPrefix("obs:"))
    }

    @Test func anObservationThatIsNeitherActiveNorCanceledIsParked() throws {
        let invitee = Data(#"{"uri":"https://api.calendly.com/scheduled_events/e3/invitees/i3","status":"pending","updated_at":"2026-12-01T10:00:00Z"}"#.utf8)
        let event = Data(#"{"uri":"https://api.calendly.com/scheduled_events/e3","start_time":"2026-12-02T10:00:00Z","end_time":"2026-12-02T10:30:00Z"}"#.utf8)
        let observation = try InviteeObservation.event(invitee: invitee, scheduledEvent: event, at: Self.observedAt)
        let projection = Self.projection([LogEvent(position: 1, streamVersion: 1, event: observation, hash: [])])
        #expect(projection.parked.count == 1)
        #expect(projection.parked.first?.reason.contains("pending") == true)
    }
}

