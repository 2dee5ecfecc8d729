import AvailCore
import AvailTesting
import AvailWorkload
import Foundation
import Testing

/// Calendly semantics of the fold, one behaviour each.
@Suite struct FoldTests {
    let ada = GeneratedCorpus.hosts[0]
    let start = Timestamp(microseconds: 1_796_000_000_000_000)

    func at(_ minutes: Int64) -> Timestamp { Timestamp(microseconds: 1_795_000_000_000_000 + minutes * 60_000_000) }

    func fold(_ bodies: [Data], experts: [ExpertEvent] = []) throws -> Projection {
        var projection = Projection()
        for (offset, event) in experts.enumerated() { projection.apply(Corpus.event(event, position: Int64(offset + 1))) }
        for event in try Corpus.events(bodies, startingAt: Int64(experts.count + 1)) { projection.apply(event) }
        return projection
    }

    func delivery(_ name: String, _ hop: Int, at minute: Int64, old: Int? = nil, new: Int? = nil) -> Data {
        func uri(_ hop: Int) -> String {
            DeliveryBuilder.inviteeURI(event: DeliveryBuilder.uuid("e", hop), invitee: DeliveryBuilder.uuid("i", hop))
        }
        return ada.invitee(
            name, eventUUID: DeliveryBuilder.uuid("e", hop), inviteeUUID: DeliveryBuilder.uuid("i", hop), index: hop,
            createdAt: at(minute), start: start, oldInvitee: old.map(uri), newInvitee: new.map(uri))
    }

    @Test func aCancellationBeforeItsBookingStaysCanceled() throws {
        let created = delivery("invitee.created", 0, at: 1)
        let canceled = delivery("invitee.canceled", 0, at: 2)
        for order in [[created, canceled], [canceled, created]] {
            let appointments = try fold(order).appointments
            #expect(appointments.count == 1)
            #expect(appointments.first?.status == .canceled)
            #expect(appointments.first?.cancellation?.reason == "Conflict")
        }
    }

    /// The Invitee resource as Calendly's API answers it carries no scheduled event: a
    /// cancellation recorded from it keeps the times, event type and hosts the booking brought.
    @Test func aCancellationWithoutItsEventKeepsTheBookingsTimes() throws {
        let created = delivery("invitee.created", 0, at: 1)
        var canceled = try #require(try JSONSerialization.jsonObject(with: delivery("invitee.canceled", 0, at: 2)) as? [String: Any])
        var payload = try #require(canceled["payload"] as? [String: Any])
        payload["scheduled_event"] = nil
        canceled["payload"] = payload
        let bare = try JSONSerialization.data(withJSONObject: canceled)
        let whole = try fold([created, delivery("invitee.canceled", 0, at: 2)]).appointments
        for order in [[created, bare], [bare, created]] {
            let appointments = try fold(order).appointments
            #expect(appointments.count == 1)
            #expect(appointments.first?.status == .canceled)
            #expect(appointments.first?.startTime == whole.first?.startTime)
            #expect(appointments.first?.endTime == whole.first?.endTime)
            #expect(appointments.first?.startTime != nil)
        }
    }

    @Test func aReschedulePairLinksInEitherOrder() throws {
        let booked = delivery("invitee.created", 0, at: 1)
        let canceled = delivery("invitee.canceled", 0, at: 5, new: 1)
        let rebooked = delivery("invitee.created", 1, at: 5, old: 0)
        for order in [[booked, canceled, rebooked], [rebooked, canceled, booked], [booked, rebooked], [rebooked, booked]] {
            let appointments = try fold(order).appointments
            let old = try #require(appointments.first { $0.externalInviteeURI?.hasSuffix(DeliveryBuilder.uuid("i", 0)) == true })
            let new = try #require(appointments.first { $0.externalInviteeURI?.hasSuffix(DeliveryBuilder.uuid("i", 1)) == true })
            #expect(old.status == .rescheduled)
            #expect(old.rescheduledTo == new.id)
            #expect(new.status == .scheduled)
            #expect(new.rescheduledFrom == old.id)
        }
    }

    @Test func theLatestNoShowDeliveryWinsInEitherForm() throws {
        let uri = DeliveryBuilder.inviteeURI(event: DeliveryBuilder.uuid("e", 0), invitee: DeliveryBuilder.uuid("i", 0))
        let booked = delivery("invitee.created", 0, at: 1)
        let marked = delivery("invitee_no_show.created", 0, at: 10)
        let unmarked = GeneratedCorpus.bareNoShowForTests("invitee_no_show.deleted", invitee: uri, at: at(20))
        let markedAgain = GeneratedCorpus.bareNoShowForTests("invitee_no_show.created", invitee: uri, at: at(30))
        #expect(try fold([booked, marked]).appointments.first?.noShow == true)
        #expect(try fold([unmarked, booked, marked]).appointments.first?.noShow == false)
        #expect(try fold([markedAgain, unmarked, marked, booked]).appointments.first?.noShow == true)
    }

    @Test func groupInviteesAreSeparateAppointments() throws {
        let event = DeliveryBuilder.uuid("group", 0)
        let bodies = (0..<3).map { index in
            ada.invitee(
                "invitee.created", eventUUID: event, inviteeUUID: DeliveryBuilder.uuid("member", index), index: index,
                createdAt: at(Int64(index)), start: start)
        }
        let appointments = try fold(bodies).appointments
        #expect(appointments.count == 3)
        #expect(Set(appointments.map(\.externalCalendarEventID)) == [event])
    }

    @Test func anInviteeWithoutAURIIsParkedAndTheFoldCarriesOn() throws {
        let broken = Data(#"{"event":"invitee.created","created_at":"2026-11-20T10:00:00.000000Z","payload":{"email":"x@example.com"}}"#.utf8)
        let projection = try fold([broken, delivery("invitee.created", 0, at: 1)])
        #expect(projection.parked.map(\.position) == [1])
        #expect(projection.parked.first?.reason == "payload.uri is missing")
        #expect(projection.appointments.count == 1)
        #expect(projection.position == 2)
    }

    @Test func aMalformedStartTimeIsParked() throws {
        let text = String(decoding: delivery("invitee.created", 0, at: 1), as: UTF8.self)
            .replacingOccurrences(of: "\"start_time\":\"", with: "\"start_time\":\"next tuesday")
        let projection = try fold([Data(text.utf8)])
        #expect(projection.parked.first?.reason.hasPrefix("payload.scheduled_event.start_time is not an RFC 3339 time") == true)
        #expect(projection.appointments.isEmpty)
    }

    @Test func unknownAndUnmodelledEventsAreSkipped() throws {
        let reconfirmed = String(decoding: delivery("invitee.created", 0, at: 5), as: UTF8.self)
            .replacingOccurrences(of: "\"event\":\"invitee.created\"", with: "\"event\":\"invitee.reconfirmed\"")
        let projection = try fold([Data(reconfirmed.utf8)])
        #expect(projection.appointments.isEmpty)
        #expect(projection.parked.isEmpty)
        #expect(projection.position == 1)
    }

    @Test func everyCalendlySampleIsProjected() throws {
        let bodies = try Corpus.sampleBodies()
        #expect(bodies.count == 13)
        let projection = try fold(bodies)
        #expect(projection.parked.isEmpty)
        let inviteeURIs = Set(try bodies.compactMap { body -> String? in
            let delivery = try Delivery(body: body)
            guard delivery.event.hasPrefix("invitee") else { return nil }
            return delivery.payloadInvitee ?? delivery.payloadURI
        })
        #expect(Set(projection.appointments.map(\.externalInviteeURI)) == inviteeURIs)
        // Sample 10 and 11 are one real reschedule.
        let old = projection.appointments.first { $0.externalInviteeURI?.hasSuffix("537568dd-98bf-40e1-9848-c45e9321d639") == true }
        let new = projection.appointments.first { $0.externalInviteeURI?.hasSuffix("85e9a9c8-19c8-462e-8610-dc3c83a7cd02") == true }
        #expect(old?.status == .rescheduled)
        #expect(old?.rescheduledTo == new?.id)
        #expect(new?.rescheduledFrom == old?.id)
    }

    @Test func appointmentIDsAreStableUUIDs() {
        let id = Appointment.id(inviteeURI: "https://api.calendly.com/scheduled_events/e/invitees/i")
        #expect(id == Appointment.id(inviteeURI: "https://api.calendly.com/scheduled_events/e/invitees/i"))
        #expect(id != Appointment.id(inviteeURI: "https://api.calendly.com/scheduled_events/e/invitees/j"))
        #expect(UUID(uuidString: id) != nil)
        #expect(Array(id)[14] == "8")
    }
}

/// Expert matching (the README, "HTTP": `PUT /experts/{id}/integration`).
@Suite struct AssignmentTests {
    let expert = Corpus.experts[0]
    let booking = GeneratedCorpus.hosts[0].invitee(index: 1, seed: "assign")

    func events(_ bodies: [Data], then experts: [ExpertEvent]) throws -> Projection {
        var projection = Projection()
        let logged = try Corpus.events(bodies)
        for event in logged { projection.apply(event) }
        for (offset, event) in experts.enumerated() {
            projection.apply(Corpus.event(event, position: Int64(logged.count + offset + 1)))
        }
        return projection
    }

    func updated(email: String, id: String? = nil) -> ExpertEvent {
        .updated(ExpertUpdated(expertID: id ?? expert.id, name: expert.name, email: email, timezone: expert.timezone, setBy: .admin, at: Timestamp(microseconds: 0)))
    }

    func connected(_ uri: String?, id: String? = nil) -> ExpertEvent {
        .calendlyConnected(CalendlyConnected(expertID: id ?? expert.id, eventLink: expert.eventLink, eventTypeURI: uri, at: Timestamp(microseconds: 0)))
    }

    @Test func anUnmatchedAppointmentIsAssignedWhenItsExpertConnects() throws {
        #expect(try events([booking], then: [updated(email: "someone@else.example")]).appointments.first?.expertID == nil)
        #expect(try events([booking], then: [updated(email: "someone@else.example"), connected(expert.eventTypeURI)])
            .appointments.first?.expertID == expert.id)
    }

    @Test func anEmailChangeMovesUnclaimedAppointments() throws {
        #expect(try events([booking], then: [updated(email: "someone@else.example"), updated(email: expert.email.uppercased())])
            .appointments.first?.expertID == expert.id)
        #expect(try events([booking], then: [updated(email: expert.email), updated(email: "new@else.example")])
            .appointments.first?.expertID == nil)
    }

    @Test func theConnectedEventTypeBeatsAnEmailMatch() throws {
        let other = [updated(email: expert.email, id: "aaa-by-email"), updated(email: "x@y.example"), connected(expert.eventTypeURI)]
        #expect(try events([booking], then: other).appointments.first?.expertID == expert.id)
    }

    @Test func appointmentsStayAfterADisconnect() throws {
        let disconnect = ExpertEvent.disconnected(IntegrationDisconnected(expertID: expert.id, at: Timestamp(microseconds: 1)))
        let projection = try events([booking], then: [updated(email: "x@y.example"), connected(expert.eventTypeURI), disconnect])
        #expect(projection.appointments.first?.expertID == expert.id)
        #expect(projection.experts.first?.integrationType == IntegrationType.none)
        #expect(projection.experts.first?.calendlyConfig == nil)
    }

    /// Whose event type, whose appointment (the README, "Access"): an email the expert typed is shown,
    /// never used to match; the one the admin set keeps matching after the expert changes theirs.
    @Test func anEmailTheExpertTypedFindsNothing() throws {
        func typed(_ email: String) -> ExpertEvent {
            .updated(ExpertUpdated(expertID: expert.id, name: expert.name, email: email, timezone: expert.timezone, setBy: .expert, at: Timestamp(microseconds: 0)))
        }
        #expect(try events([booking], then: [typed(expert.email)]).appointments.first?.expertID == nil)
        let kept = try events([booking], then: [updated(email: expert.email), typed("me@elsewhere.example")])
        #expect(kept.appointments.first?.expertID == expert.id)
        #expect(kept.experts.first?.email == "me@elsewhere.example")
    }

    @Test func theConnectedUserFindsTheEventsSheHosts() throws {
        let user = "https://api.calendly.com/users/\(GeneratedCorpus.hosts[0].userUUID)"
        let connection = ExpertEvent.calendlyConnected(CalendlyConnected(
            expertID: expert.id, eventLink: "https://calendly.com/x/other", eventTypeURI: "https://api.calendly.com/event_types/other",
            userURI: user, at: Timestamp(microseconds: 0)))
        // Her email (as the admin set it) is not the host's; her connected user is.
        let projection = try events([booking], then: [updated(email: "x@y.example"), connection])
        #expect(projection.appointments.first?.expertID == expert.id)
    }

    @Test func aSecondExpertConnectingAHeldEventTypeIsParked() throws {
        let projection = try events([booking], then: [
            updated(email: "a@y.example"), updated(email: "b@y.example", id: "aaa"), connected(expert.eventTypeURI),
            connected(expert.eventTypeURI, id: "aaa"),
        ])
        #expect(projection.parked.map(\.reason) == ["event type \(expert.eventTypeURI) is connected to expert ada"])
        #expect(projection.appointments.first?.expertID == expert.id)
        #expect(projection.experts.first { $0.id == "aaa" }?.integrationType == IntegrationType.none)
    }

    @Test func connectingAnUnknownExpertIsParked() throws {
        let projection = try events([], then: [connected(expert.eventTypeURI)])
        #expect(projection.parked.first?.reason == "expert ada does not exist")
    }
}
