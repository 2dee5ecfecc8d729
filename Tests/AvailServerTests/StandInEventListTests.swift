import AvailCore
import AvailTesting
import AvailWorkload
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

/// `GET /scheduled_events` and `GET /scheduled_events/{uuid}/invitees` as Calendly answers them,
/// and the paging rules every list shares.
@Suite struct StandInEventListTests {
    static let ada = Corpus.experts[0], grace = Corpus.experts[1]

    /// Calendly refuses a `count` outside 1–100 (and a page token it did not issue) with a 400
    /// naming the parameter; it does not bring it into range.
    @Test(arguments: ["count=0", "count=101", "count=-1", "count=twenty", "page_token=x"])
    func eventTypesRefuseAPageParameterOutOfRange(parameter: String) async throws {
        try await withCalendly { _, control in
            let api = StandInAPI(control: control)
            let answer = try await api.call(.get, "/event_types?organization=\(StandInAPI.marketplace)&\(parameter)")
            #expect(answer.status == .badRequest)
            #expect(answer.json["title"] as? String == "Invalid Argument")
            #expect(answer.detailParameters == [String(parameter.prefix { $0 != "=" })])
        }
    }

    @Test func eventTypesPageWithinTheRange() async throws {
        try await withCalendly { _, control in
            let api = StandInAPI(control: control)
            let one = try await api.call(.get, "/event_types?organization=\(StandInAPI.marketplace)&count=1")
            #expect(one.collection.count == 1)
            #expect((one.pagination["next_page"] as? String)?.contains("organization=") == true)
            let token = try #require(one.pagination["next_page_token"] as? String)
            let rest = try await api.call(.get, "/event_types?organization=\(StandInAPI.marketplace)&count=100&page_token=\(token)")
            #expect(rest.collection.count == 4)
            #expect(rest.pagination["next_page_token"] is NSNull)
        }
    }

    @Test func scheduledEventsNeedExactlyOneOwnerAndFilterSortAndPage() async throws {
        try await withCalendly { _, control in
            let api = StandInAPI(control: control)
            let none = try await api.call(.get, "/scheduled_events")
            #expect(none.status == .badRequest)
            #expect(none.json["title"] as? String == "Invalid Argument")
            #expect(try await api.call(.get, "/scheduled_events?user=\(Self.grace.userURI)&organization=\(StandInAPI.marketplace)").status == .badRequest)
            for index in 0..<3 { try await api.book(Self.grace.eventTypeURI, index: index) }
            let booked = try await api.book(Self.ada.eventTypeURI)
            let event = try #require(booked.resource["event"] as? String)
            #expect(try await api.call(.post, "\(event.dropFirst("https://api.calendly.com".count))/cancellation", json: "{}").status == .created)

            let graces = try await api.call(.get, "/scheduled_events?user=\(Self.grace.userURI)&count=2")
            #expect(graces.status == .ok)
            #expect(graces.collection.count == 2)
            let token = try #require(graces.pagination["next_page_token"] as? String)
            #expect((graces.pagination["next_page"] as? String)?.contains("user=") == true)
            let rest = try await api.call(.get, "/scheduled_events?user=\(Self.grace.userURI)&count=2&page_token=\(token)")
            #expect(rest.collection.count == 1)
            let starts = (graces.collection + rest.collection).compactMap { $0["start_time"] as? String }
            #expect(starts == starts.sorted())
            let descending = try await api.call(.get, "/scheduled_events?user=\(Self.grace.userURI)&sort=start_time:desc")
            #expect(descending.collection.compactMap { $0["start_time"] as? String } == starts.reversed())
            #expect(try await api.call(.get, "/scheduled_events?user=\(Self.grace.userURI)&sort=name:asc").status == .badRequest)
            #expect(try await api.call(.get, "/scheduled_events?user=\(Self.grace.userURI)&count=101").status == .badRequest)
            #expect(try await api.call(.get, "/scheduled_events?user=\(Self.grace.userURI)&status=done").status == .badRequest)

            // The seed's booking (Alan's) and today's: the organization sees them all.
            let all = try await api.call(.get, "/scheduled_events?organization=\(StandInAPI.marketplace)&count=100")
            #expect(all.collection.count == 5)
            let canceled = try await api.call(.get, "/scheduled_events?organization=\(StandInAPI.marketplace)&status=canceled")
            #expect(canceled.collection.compactMap { $0["uri"] as? String } == [event])
            #expect(try await api.call(.get, "/scheduled_events?organization=\(StandInAPI.marketplace)&invitee_email=KOFI0@example.com").collection.count == 2)
            let second = try #require(starts.dropFirst().first)
            let window = try await api.call(.get, "/scheduled_events?user=\(Self.grace.userURI)&min_start_time=\(second)&max_start_time=\(starts[2])")
            #expect(window.collection.compactMap { $0["start_time"] as? String } == [second])

            // Permissions as for one event: the host, or an owner or admin of their organization.
            #expect(try await api.call(.get, "/scheduled_events?user=\(Self.grace.userURI)", token: StandInAPI.ada).status == .forbidden)
            #expect(try await api.call(.get, "/scheduled_events?organization=\(StandInAPI.marketplace)", token: StandInAPI.grace).status == .forbidden)
            #expect(try await api.call(.get, "/scheduled_events?organization=\(StandInAPI.marketplace)", token: StandInAPI.katherine).status == .forbidden)
            #expect(try await api.call(.get, "/scheduled_events?user=\(Self.grace.userURI)", token: StandInAPI.grace).collection.count == 3)
        }
    }

    /// An invitee's reschedule (`POST /_sim/reschedule`) as the API then answers it: the old
    /// invitee and event canceled by the invitee, updated at the cancellation, linked both ways
    /// to a new invitee on a new event; every answer still in Calendly's shape.
    @Test func aRescheduleCancelsTheOldInviteeAndLinksItToANewOneOnANewEvent() async throws {
        let shapes = try StandInShapeTests.Shapes.load()
        try await withCalendly { _, control in
            let api = StandInAPI(control: control)
            let booked = try await api.book(Self.grace.eventTypeURI)
            let old = try #require(booked.resource["uri"] as? String)
            let oldEvent = try #require(booked.resource["event"] as? String)
            let start = try await api.freeSlot(Self.grace.eventTypeURI, index: 3)
            let moved = try await api.reschedule(old, to: start)
            #expect(moved.status == .created)
            #expect(moved.json["old_invitee"] as? String == old)
            let new = try #require(moved.json["new_invitee"] as? String)
            let newEvent = try #require(moved.json["new_event"] as? String)
            #expect(newEvent != oldEvent)
            #expect(new.hasPrefix(newEvent + "/invitees/"))

            let canceled = try await api.call(.get, try StandInAPI.path(old))
            #expect(shapes.mismatches(canceled.json, "invitee_answer") == [])
            let cancellation = try #require(canceled.resource["cancellation"] as? [String: Any])
            #expect(cancellation["canceler_type"] as? String == "invitee")
            #expect(cancellation["canceled_by"] as? String == "Kofi Mensah")
            #expect(canceled.resource["status"] as? String == "canceled")
            #expect(canceled.resource["rescheduled"] as? Bool == true)
            #expect(canceled.resource["new_invitee"] as? String == new)
            #expect(canceled.resource["old_invitee"] is NSNull)
            #expect(canceled.resource["updated_at"] as? String == cancellation["created_at"] as? String)
            let oldEventAnswer = try await api.call(.get, try StandInAPI.path(oldEvent)).resource
            #expect(oldEventAnswer["status"] as? String == "canceled")
            #expect(oldEventAnswer["updated_at"] as? String == cancellation["created_at"] as? String)
            let oldEventInvitees = try await api.call(.get, try StandInAPI.path(oldEvent) + "/invitees")
            #expect(shapes.mismatches(oldEventInvitees.json, "invitee_page") == [])
            #expect(oldEventInvitees.collection.first?["rescheduled"] as? Bool == true)
            #expect(oldEventInvitees.collection.first?["new_invitee"] as? String == new)

            let created = try await api.call(.get, try StandInAPI.path(new))
            #expect(shapes.mismatches(created.json, "invitee_answer") == [])
            #expect(created.resource["status"] as? String == "active")
            #expect(created.resource["rescheduled"] as? Bool == false)
            #expect(created.resource["old_invitee"] as? String == old)
            #expect(created.resource["new_invitee"] is NSNull)
            #expect(created.resource["event"] as? String == newEvent)
            #expect(created.resource["email"] as? String == booked.resource["email"] as? String)
            #expect(created.resource["cancellation"] == nil)
            #expect(try await api.call(.get, try StandInAPI.path(newEvent)).resource["start_time"] as? String == start)

            let listed = try await api.call(.get, "/scheduled_events?user=\(Self.grace.userURI)")
            #expect(shapes.mismatches(listed.json, "scheduled_event_page") == [])
            let statuses = Dictionary(uniqueKeysWithValues: listed.collection.compactMap { event in
                (event["uri"] as? String).map { ($0, event["status"] as? String ?? "") }
            })
            #expect(statuses == [oldEvent: "canceled", newEvent: "active"])

            // A canceled invitee, an unknown one, a time that is no time or not free: 400.
            let again = try await api.reschedule(old, to: try await api.freeSlot(Self.grace.eventTypeURI, index: 5))
            #expect(again.status == .badRequest)
            #expect(again.detailParameters == ["invitee"])
            #expect(try await api.reschedule(oldEvent + "/invitees/nobody", to: start).detailParameters == ["invitee"])
            #expect(try await api.reschedule(new, to: "next Tuesday").detailParameters == ["start_time"])
            let taken = try await api.reschedule(new, to: start)
            #expect(taken.status == .badRequest)
            #expect(taken.detailParameters == ["start_time"])
            #expect(try await api.call(.get, try StandInAPI.path(new)).resource["status"] as? String == "active")
        }
    }

    @Test func anEventsInviteesArePaginatedAndFiltered() async throws {
        try await withCalendly { _, control in
            let api = StandInAPI(control: control)
            let booked = try await api.book(Self.grace.eventTypeURI)
            let event = String(try #require(booked.resource["event"] as? String).dropFirst("https://api.calendly.com".count))
            let invitees = try await api.call(.get, "\(event)/invitees")
            #expect(invitees.status == .ok)
            #expect(invitees.collection.compactMap { $0["uri"] as? String } == [booked.resource["uri"] as? String])
            #expect(invitees.collection.first?["scheduled_event"] == nil)
            #expect(try await api.call(.get, "\(event)/invitees?status=canceled").collection.isEmpty)
            #expect(try await api.call(.get, "\(event)/invitees?email=kofi0@example.com&sort=created_at:desc").collection.count == 1)
            #expect(try await api.call(.get, "\(event)/invitees?email=someone@example.com").collection.isEmpty)
            #expect(try await api.call(.get, "\(event)/invitees?count=101").status == .badRequest)
            #expect(try await api.call(.get, "\(event)/invitees?sort=start_time:asc").status == .badRequest)
            #expect(try await api.call(.get, "\(event)/invitees", token: StandInAPI.ada).status == .notFound)
            #expect(try await api.call(.get, "\(event)/invitees", token: StandInAPI.grace).status == .ok)
        }
    }
}
