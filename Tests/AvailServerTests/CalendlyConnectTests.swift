import AvailClient
import AvailCore
import AvailServer
import AvailStore
import AvailTesting
import AvailWorkload
import CalendlyStandIn
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import NIOCore
import Testing

/// Runs the Calendly stand-in on a free loopback port for `body`.
func withCalendly(_ body: @Sendable (_ baseURL: String, _ control: any TestClientProtocol) async throws -> Void) async throws {
    let seed = try StandInSeed.load(TestPaths.fixtures.appendingPathComponent("calendly-api/state.json"))
    try await CalendlyStandIn.buildApplication(seed: seed).test(.live) { client in
        try await body("http://127.0.0.1:\(client.port!)", client)
    }
}

/// Queues failures in the stand-in.
func inject(_ failures: String, _ control: any TestClientProtocol) async throws {
    let response = try await control.execute(
        uri: "/_sim/failures", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: failures))
    #expect(response.status == .noContent)
}

func requestCount(_ path: String, _ control: any TestClientProtocol) async throws -> Int {
    Int(String(buffer: try await control.execute(uri: "/_sim/requests?path=\(path)", method: .get).body)) ?? -1
}

@Suite struct CalendlyClientTests {
    static let admin = "calendly-token-admin"

    func client(_ baseURL: String, token: String = admin) -> CalendlyClient {
        var client = CalendlyClient(baseURL: baseURL, token: token)
        client.backoff = .milliseconds(10)
        return client
    }

    @Test func followsPagination() async throws {
        try await withCalendly { baseURL, control in
            let me = try await client(baseURL).me()
            #expect(me.name == "Marketplace Admin")
            let types = try await client(baseURL).eventTypes(organization: me.currentOrganization, pageSize: 2)
            #expect(types.count == 5)
            #expect(Set(types.map(\.uri)).count == 5)
            #expect(try await requestCount("/event_types", control) == 3)
        }
    }

    /// Calendly answers 400 to a `count` outside 1–100: the client never sends one.
    @Test(arguments: [0, 101, 1_000])
    func aPageSizeOutsideCalendlysRangeIsNeverSent(pageSize: Int) async throws {
        try await withCalendly { baseURL, _ in
            let me = try await client(baseURL).me()
            let types = try await client(baseURL).eventTypes(organization: me.currentOrganization, pageSize: pageSize)
            #expect(Set(types.map(\.uri)).count == 5)
        }
    }

    @Test func waitsOutARateLimitAndRetriesServerErrors() async throws {
        try await withCalendly { baseURL, control in
            try await inject(#"[{"path":"/users/me","status":429,"times":1,"rate_limit_reset":1},{"path":"/users/me","status":503,"times":1}]"#, control)
            let started = ContinuousClock.now
            let me = try await client(baseURL).me()
            #expect(me.slug == "marketplace-admin")
            #expect(ContinuousClock.now - started >= .seconds(1))
            #expect(try await requestCount("/users/me", control) == 3)
        }
    }

    @Test func givesUpAfterItsAttempts() async throws {
        try await withCalendly { baseURL, control in
            try await inject(#"[{"path":"/users/me","status":500,"times":5}]"#, control)
            await #expect(throws: CalendlyError.unavailable("HTTP 500")) { try await client(baseURL).me() }
            #expect(try await requestCount("/users/me", control) == 3)
        }
    }

    @Test func aSlowAnswerIsATimeOut() async throws {
        try await withCalendly { baseURL, control in
            try await inject(#"[{"path":"/users/me","status":500,"times":2,"delay_ms":800}]"#, control)
            var slow = client(baseURL)
            slow.timeout = .milliseconds(200)
            slow.attempts = 2
            await #expect(throws: CalendlyError.self) { try await slow.me() }
        }
    }

    @Test func seededBookingsAreNotOffered() async throws {
        // The seed books Alan's 45-minute event type at 10:00 UTC fourteen days from today.
        try await withCalendly { baseURL, _ in
            let alan = "https://api.calendly.com/event_types/5d4ed380-efef-4018-8c1a-30056a95a9d5"
            let today = Timestamp.now().unixSeconds / 86_400
            func day(_ offset: Int64) -> (String, String) {
                ("\(Timestamp(microseconds: (today + offset) * 86_400_000_000))", "\(Timestamp(microseconds: (today + offset + 1) * 86_400_000_000))")
            }
            let (bookedStart, bookedEnd) = day(14)
            let (freeStart, freeEnd) = day(21)
            let booked = try await client(baseURL).availableTimes(eventType: alan, start: bookedStart, end: bookedEnd).map(\.startTime)
            let free = try await client(baseURL).availableTimes(eventType: alan, start: freeStart, end: freeEnd)
            let seeded = TimeRange(
                start: Timestamp(microseconds: ((today + 14) * 86_400 + 36_000) * 1_000_000),
                end: Timestamp(microseconds: ((today + 14) * 86_400 + 38_700) * 1_000_000))
            for start in booked {
                let begin = Timestamp(rfc3339: start)!
                #expect(!TimeRange(start: begin, end: Timestamp(microseconds: begin.microseconds + 2_700_000_000)).overlaps(seeded))
            }
            // Same weekday a week later, nothing booked: two more slots (none on a weekend).
            #expect(booked.count == (free.isEmpty ? 0 : free.count - 2))
        }
    }

    @Test func aWrongTokenIsUnauthorized() async throws {
        try await withCalendly { baseURL, _ in
            let error = await #expect(throws: CalendlyError.self) { try await client(baseURL, token: "nope").me() }
            guard case .unauthorized = error else {
                Issue.record("expected unauthorized, got \(String(describing: error))")
                return
            }
        }
    }
}

@Suite struct CalendlyConnectTests {
    func configuration(_ baseURL: String) -> AvailServer.Configuration {
        var configuration = AvailServer.Configuration.testing()
        configuration.calendlyAPI = baseURL
        configuration.calendlyToken = CalendlyClientTests.admin
        // The stand-in behaves like an older account: at most 7 days per availability call.
        configuration.calendlyWindowDays = 7
        return configuration
    }

    @Test func connectingResolvesTheEventType() async throws {
        try await withCalendly { baseURL, _ in
            try await withDaemon(configuration(baseURL)) { daemon in
                try await daemon.createFixtureExperts(connecting: false)
                let answer = try await daemon.call(.put, "/experts/grace/integration", json: #"{"type":"calendly","event_link":"https://calendly.com/grace-hopper/compiler-workshop"}"#)
                #expect(answer.status == .ok)
                let config = answer.json["calendly_config"] as? [String: Any]
                #expect(config?["event_type_uri"] as? String == "https://api.calendly.com/event_types/cc148c9e-f9b3-4494-b090-46d78e0acc63")
                #expect(config?["user_uri"] as? String == "https://api.calendly.com/users/c44fbb8a-28b8-40b4-b9aa-e9d16159c8c1")
                #expect(config?["event_type_name"] as? String == "Compiler Workshop")
                #expect(config?["duration_minutes"] as? Int == 90)
            }
        }
    }

    @Test func theConnectedEventTypeClaimsItsAppointments() async throws {
        try await withCalendly { baseURL, _ in
            try await withDaemon(configuration(baseURL)) { daemon in
                try await daemon.createFixtureExperts(connecting: false)
                let last = try await daemon.sendFixtures()
                // Alan connects Ada's 30-minute event type: an event type match beats Ada's email.
                let connected = try await daemon.call(.put, "/experts/alan/integration", json: #"{"type":"calendly","event_link":"https://calendly.com/ada-lovelace/30min"}"#)
                #expect(connected.status == .ok)
                let ada = try await daemon.call(.get, "/experts/ada/appointments?limit=1000&min_position=\(last)")
                #expect((ada.json["appointments"] as? [[String: Any]])?.isEmpty == true)
                let alan = try await daemon.call(.get, "/experts/alan/appointments?limit=1000")
                #expect((alan.json["appointments"] as? [[String: Any]])?.count == 11 + 12)  // Ada's 11, and his own 12 by email
            }
        }
    }

    @Test func anUnknownLinkIs404AndChangesNothing() async throws {
        try await withCalendly { baseURL, _ in
            try await withDaemon(configuration(baseURL)) { daemon in
                try await daemon.createFixtureExperts(connecting: false)
                let before = try await daemon.allEvents().count
                let answer = try await daemon.call(.put, "/experts/ada/integration", json: #"{"type":"calendly","event_link":"https://calendly.com/ada-lovelace/2h-deep-dive"}"#)
                #expect(answer.status == .notFound)
                #expect(answer.problem?.code == "event_type_not_found")
                #expect(try await daemon.allEvents().count == before)
            }
        }
    }

    @Test func anUpstreamFailureIs502AndChangesNothing() async throws {
        try await withCalendly { baseURL, control in
            try await withDaemon(configuration(baseURL)) { daemon in
                try await daemon.createFixtureExperts(connecting: false)
                try await inject(#"[{"path":"/event_types","status":500,"times":100}]"#, control)
                let before = try await daemon.allEvents().count
                let answer = try await daemon.call(.put, "/experts/ada/integration", json: #"{"type":"calendly","event_link":"https://calendly.com/ada-lovelace/30min"}"#)
                #expect(answer.status == .badGateway)
                #expect(answer.problem?.code == "upstream_unavailable")
                #expect(try await daemon.allEvents().count == before)
                #expect(try await daemon.call(.get, "/experts/ada").json["integration_type"] as? String == "none")
            }
        }
    }
}

@Suite struct CalendlyAvailabilityTests {
    static var monday: LocalDate { AvailabilityOverHTTPTests.monday }
    static var range: String { "start_time=\(monday)T00:00:00Z&end_time=\(monday.adding(days: 10))T00:00:00Z" }

    func slots(_ daemon: Daemon) async throws -> (status: HTTPResponse.Status, starts: [String], problem: String?) {
        let answer = try await daemon.call(.get, "/experts/grace/availability?\(Self.range)")
        let slots = answer.json["slots"] as? [[String: Any]] ?? []
        return (answer.status, slots.compactMap { $0["start_time"] as? String }, answer.problem?.code)
    }

    @Test func slotsComeFromCalendlyInWindowsAndAreCachedUntilADelivery() async throws {
        try await withCalendly { baseURL, control in
            try await withDaemon(CalendlyConnectTests().configuration(baseURL)) { daemon in
                try await daemon.createFixtureExperts(connecting: false)
                let connected = try await daemon.call(.put, "/experts/grace/integration", json: #"{"type":"calendly","event_link":"https://calendly.com/grace-hopper/60min"}"#)
                #expect(connected.status == .ok)

                let first = try await slots(daemon)
                #expect(first.status == .ok)
                // Eight weekdays in ten days from a Monday, eight one-hour slots each (09-17 New York).
                #expect(first.starts.count == 64)
                #expect(first.starts == first.starts.sorted())
                // Ten days from a Monday touch two windows of the 7-day grid (which starts on
                // Thursdays, as 1 January 1970 did; the stand-in refuses more than 7 days).
                #expect(try await requestCount("/event_type_available_times", control) == 2)

                #expect(try await slots(daemon).starts == first.starts)
                #expect(try await requestCount("/event_type_available_times", control) == 2)

                // A delivery for Grace's event type drops her cached slots once it is projected.
                let grace = Corpus.experts[1]
                let builder = DeliveryBuilder(
                    hostEmail: grace.email, hostName: grace.name,
                    eventTypeUUID: String(grace.eventTypeURI.split(separator: "/").last!),
                    userUUID: String(grace.userURI.split(separator: "/").last!))
                let position = try await daemon.sender.send(builder.invitee(index: 1, seed: "cache")).json?["position"] as? Int ?? 0
                _ = try await daemon.call(.get, "/experts/grace?min_position=\(position)")
                _ = try await slots(daemon)
                #expect(try await requestCount("/event_type_available_times", control) == 4)
            }
        }
    }

    @Test func anUpstreamFailureIsA502() async throws {
        try await withCalendly { baseURL, control in
            try await withDaemon(CalendlyConnectTests().configuration(baseURL)) { daemon in
                try await daemon.createFixtureExperts(connecting: false)
                _ = try await daemon.call(.put, "/experts/grace/integration", json: #"{"type":"calendly","event_link":"https://calendly.com/grace-hopper/60min"}"#)
                try await inject(#"[{"path":"/event_type_available_times","status":502,"times":100}]"#, control)
                let answer = try await slots(daemon)
                #expect(answer.status == .badGateway)
                #expect(answer.problem == "upstream_unavailable")
            }
        }
    }
}

@Suite struct CalendlyFlowTests {
    /// Connect, availability, book, the webhook echo, reschedule, cancel: all through the
    /// stand-in over HTTP, and the log alone rebuilds the same read models.
    @Test func theWholeFlowAgainstTheStandIn() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let database = folder.path("flow.sqlite")
        try await withCalendly { baseURL, control in
            var configuration = CalendlyConnectTests().configuration(baseURL)
            configuration.databasePath = database
            try await withDaemon(configuration) { daemon in
                let target = #"{"url":"\#(daemon.baseURL)","signing_key":"\#(daemon.configuration.signingKeys[0])"}"#
                let hooked = try await control.execute(
                    uri: "/_sim/webhooks", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: target))
                #expect(hooked.status == .noContent)
                try await daemon.createFixtureExperts(connecting: false)
                _ = try await daemon.call(.put, "/experts/grace/integration", json: #"{"type":"calendly","event_link":"https://calendly.com/grace-hopper/60min"}"#)

                let range = CalendlyAvailabilityTests.range
                let free = (try await daemon.call(.get, "/experts/grace/availability?\(range)").json["slots"] as? [[String: Any]] ?? [])
                    .compactMap { $0["start_time"] as? String }
                #expect(free.count == 64)
                let invitee = #""invitee":{"name":"Kofi Mensah","email":"kofi@example.com","timezone":"Africa/Accra"}"#

                let booked = try await daemon.call(.post, "/experts/grace/appointments", json: #"{"start_time":"\#(free[0])",\#(invitee)}"#)
                #expect(booked.status == .created)
                #expect(booked.json["calendar_type"] as? String == "calendly")
                #expect(booked.json["expert_id"] as? String == "grace")
                #expect(booked.json["start_time"] as? String == free[0])
                let first = try #require(booked.json["id"] as? String)
                let uri = try #require(booked.json["external_invitee_uri"] as? String)

                // The stand-in delivered invitee.created as Calendly would: still one appointment.
                let events = try await daemon.allEvents()
                #expect(events.filter { $0.type == "invitee.created" && $0.source == "calendly" }.count == 1)
                #expect(events.filter { $0.type == CalendlyBooking.bookedType }.count == 1)
                let head = events.last!.position
                let listed = try await daemon.call(.get, "/experts/grace/appointments?min_position=\(head)")
                #expect((listed.json["appointments"] as? [[String: Any]])?.map { $0["external_invitee_uri"] as? String } == [uri])

                let taken = try await daemon.call(.post, "/experts/grace/appointments", json: #"{"start_time":"\#(free[0])",\#(invitee)}"#)
                #expect(taken.status == .conflict)
                #expect(taken.problem?.code == "slot_unavailable")
                let after = (try await daemon.call(.get, "/experts/grace/availability?\(range)").json["slots"] as? [[String: Any]] ?? [])
                #expect(after.count == 63)

                let moved = try await daemon.call(.patch, "/appointments/\(first)", json: #"{"start_time":"\#(free[5])"}"#)
                #expect(moved.status == .ok)
                let second = try #require(moved.json["id"] as? String)
                #expect(moved.json["rescheduled_from"] as? String == first)
                #expect(moved.json["start_time"] as? String == free[5])
                let old = try await daemon.call(.get, "/appointments/\(first)")
                #expect(old.json["status"] as? String == "rescheduled")
                #expect(old.json["rescheduled_to"] as? String == second)

                let canceled = try await daemon.call(.post, "/appointments/\(second)/cancel", json: #"{"reason":"Travel"}"#)
                #expect(canceled.status == .ok)
                #expect(canceled.json["status"] as? String == "canceled")
                let again = try await daemon.call(.post, "/appointments/\(second)/cancel", json: "{}")
                #expect(again.status == .conflict)
                #expect(try await daemon.call(.get, "/experts/grace/availability?\(range)").json["slots"].map { ($0 as? [Any])?.count } == 64)
            }
        }
        let comparison = try await ReadModels(database: try LogDatabase.open(path: database)).compareWithRebuild()
        #expect(comparison.stored == comparison.rebuilt)
    }
}

@Suite struct CalendlyBookingFailureTests {
    @Test func aRescheduleWhoseCancelFailsKeepsBothAndSaysSo() async throws {
        try await withCalendly { baseURL, control in
            try await withDaemon(CalendlyConnectTests().configuration(baseURL)) { daemon in
                let free = try await daemon.connectGraceToCalendly()
                let booked = try await daemon.call(.post, "/experts/grace/appointments", json: #"{"start_time":"\#(free[0])","invitee":{"name":"K","email":"k@example.com"}}"#)
                let first = try #require(booked.json["id"] as? String)
                let event = try #require(booked.json["external_calendar_event_id"] as? String)
                try await inject(#"[{"path":"/scheduled_events/\#(event)/cancellation","status":500,"times":1}]"#, control)
                let moved = try await daemon.call(.patch, "/appointments/\(first)", json: #"{"start_time":"\#(free[3])"}"#)
                #expect(moved.status == .badGateway)
                #expect(moved.problem?.code == "upstream_unavailable")
                #expect(moved.problem?.detail.contains("did not cancel the old one") == true)
                // Both stand, unlinked: the old one is still scheduled, the new one too.
                let old = try await daemon.call(.get, "/appointments/\(first)")
                #expect(old.json["status"] as? String == "scheduled")
                #expect(old.json["rescheduled_to"] is NSNull)
                let listed = try await daemon.call(.get, "/experts/grace/appointments?status=scheduled")
                #expect((listed.json["appointments"] as? [[String: Any]])?.count == 2)
            }
        }
    }

    /// Calendly answers 403 when the event is already canceled (or past): that is the event's
    /// state, not the token, so availd says 409 `not_scheduled`, not 502.
    @Test func cancelingWhatCalendlyAlreadyCanceledIs409() async throws {
        try await withCalendly { baseURL, control in
            try await withDaemon(CalendlyConnectTests().configuration(baseURL)) { daemon in
                let slot = try #require(try await daemon.connectGraceToCalendly().first)
                let booked = try await daemon.call(.post, "/experts/grace/appointments", json: #"{"start_time":"\#(slot)","invitee":{"name":"K","email":"k@example.com"}}"#)
                let id = try #require(booked.json["id"] as? String)
                let event = try #require(booked.json["external_calendar_event_id"] as? String)
                // Canceled at Calendly directly; no webhook tells availd.
                let direct = try await control.execute(
                    uri: "/scheduled_events/\(event)/cancellation", method: .post,
                    headers: [.authorization: "Bearer \(CalendlyClientTests.admin)", .contentType: "application/json"],
                    body: ByteBuffer(string: "{}"))
                #expect(direct.status == .created || direct.status == .ok)
                let answer = try await daemon.call(.post, "/appointments/\(id)/cancel", json: "{}")
                #expect(answer.status == .conflict)
                #expect(answer.problem?.code == "not_scheduled")
            }
        }
    }

    /// Booked, but the scheduled event cannot be read: nothing half-known is recorded, and
    /// the answer says what happened at Calendly.
    @Test func aBookingWhoseEventCannotBeReadIsA502AndRecordsNothing() async throws {
        try await withCalendly { baseURL, control in
            try await withDaemon(CalendlyConnectTests().configuration(baseURL)) { daemon in
                let slot = try #require(try await daemon.connectGraceToCalendly().first)
                try await inject(#"[{"path":"/scheduled_events/","status":500,"times":10}]"#, control)
                let before = try await daemon.allEvents().count
                let answer = try await daemon.call(.post, "/experts/grace/appointments", json: #"{"start_time":"\#(slot)","invitee":{"name":"K","email":"k@example.com"}}"#)
                #expect(answer.status == .badGateway)
                #expect(answer.problem?.code == "upstream_unavailable")
                #expect(answer.problem?.detail.contains("booked at Calendly") == true)
                #expect(try await daemon.allEvents().count == before)
            }
        }
    }

    @Test func aFailedBookingIsA502AndRecordsNothing() async throws {
        try await withCalendly { baseURL, control in
            try await withDaemon(CalendlyConnectTests().configuration(baseURL)) { daemon in
                let slot = try #require(try await daemon.connectGraceToCalendly().first)
                try await inject(#"[{"path":"/invitees","status":500,"times":1}]"#, control)
                let before = try await daemon.allEvents().count
                let answer = try await daemon.call(.post, "/experts/grace/appointments", json: #"{"start_time":"\#(slot)","invitee":{"name":"K","email":"k@example.com"}}"#)
                #expect(answer.status == .badGateway)
                #expect(answer.problem?.code == "upstream_unavailable")
                #expect(try await daemon.allEvents().count == before)
                // A booking is not sent twice: it may have happened at Calendly.
                #expect(try await requestCount("/invitees", control) == 1)
            }
        }
    }
}

@Suite struct CalendlyWebhookOrderTests {
    /// The stand-in delays every webhook at random (so a reschedule's two halves come in either
    /// order) and sends some twice; the end state is the same as in order, once each.
    @Test(arguments: [UInt64(1), 2, 3])
    func delayedAndRepeatedWebhooksConverge(round: UInt64) async throws {
        try await withCalendly { baseURL, control in
            try await withDaemon(CalendlyConnectTests().configuration(baseURL)) { daemon in
                let settings = #"{"url":"\#(daemon.baseURL)","signing_key":"\#(daemon.configuration.signingKeys[0])","max_delay_ms":150,"duplicate_every":2}"#
                _ = try await control.execute(
                    uri: "/_sim/webhooks", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: settings))
                let free = try await daemon.connectGraceToCalendly()
                let booked = try await daemon.call(.post, "/experts/grace/appointments", json: #"{"start_time":"\#(free[Int(round)])","invitee":{"name":"K","email":"k@example.com"}}"#)
                let first = try #require(booked.json["id"] as? String)
                let moved = try await daemon.call(.patch, "/appointments/\(first)", json: #"{"start_time":"\#(free[10 + Int(round)])"}"#)
                let second = try #require(moved.json["id"] as? String)
                #expect(try await daemon.call(.post, "/appointments/\(second)/cancel", json: "{}").status == .ok)

                // Wait for the stand-in to have sent everything (each send answered: 2xx).
                var waited = 0
                while String(buffer: try await control.execute(uri: "/_sim/webhooks/outstanding", method: .get).body) != "0", waited < 200 {
                    try await Task.sleep(for: .milliseconds(20))
                    waited += 1
                }
                let events = try await daemon.allEvents()
                #expect(events.filter { $0.source == "calendly" }.count == 4)
                let head = events.last!.position
                let old = try await daemon.call(.get, "/appointments/\(first)?min_position=\(head)")
                #expect(old.json["status"] as? String == "rescheduled")
                #expect(old.json["rescheduled_to"] as? String == second)
                let new = try await daemon.call(.get, "/appointments/\(second)")
                #expect(new.json["status"] as? String == "canceled")
                #expect(new.json["rescheduled_from"] as? String == first)
                let metrics = String(decoding: try await daemon.call(.get, "/metrics").body, as: UTF8.self)
                #expect(metrics.contains(#"availd_webhook_deliveries_total{outcome="duplicate"} 2"#))
            }
        }
    }
}

extension Daemon {
    /// The fixture experts, Grace connected to her Calendly event type; her free slots' starts.
    func connectGraceToCalendly() async throws -> [String] {
        try await createFixtureExperts(connecting: false)
        let connected = try await call(.put, "/experts/grace/integration", json: #"{"type":"calendly","event_link":"https://calendly.com/grace-hopper/60min"}"#)
        #expect(connected.status == .ok)
        let slots = try await call(.get, "/experts/grace/availability?\(CalendlyAvailabilityTests.range)").json["slots"] as? [[String: Any]]
        return (slots ?? []).compactMap { $0["start_time"] as? String }
    }
}

/// Background work keeps a reserve of each token's rate limit for the expert's own requests.
@Suite struct RateLimitPacerTests {
    @Test func belowTheReserveTheNextCallWaitsForTheWindowToReset() async throws {
        let pacer = CalendlyRateLimitPacer(reserveFraction: 0.2)
        // 2 of 10 left is the reserve: no wait yet.
        pacer.record(limit: "10", remaining: "2", reset: "1", maximum: .seconds(5))
        await pacer.beforeRequest()
        #expect(pacer.totalWait == .zero)
        // 1 left: the next call waits out the second until the window resets.
        pacer.record(limit: "10", remaining: "1", reset: "1", maximum: .seconds(5))
        await pacer.beforeRequest()
        #expect(pacer.totalWait > .milliseconds(500) && pacer.totalWait <= .seconds(1))
        // A 429 says none is left; the wait is bounded by `maximum`.
        pacer.record(limit: "10", remaining: "0", reset: "3600", maximum: .milliseconds(200))
        let before = pacer.totalWait
        await pacer.beforeRequest()
        #expect(pacer.totalWait - before <= .milliseconds(200) && pacer.totalWait > before)
    }

    @Test func answersWithoutTheHeadersNeverWait() async throws {
        let pacer = CalendlyRateLimitPacer(reserveFraction: 0.5)
        pacer.record(limit: nil, remaining: nil, reset: nil, maximum: .seconds(5))
        await pacer.beforeRequest()
        pacer.record(limit: "abc", remaining: "not a number", reset: "inf", maximum: .seconds(5))
        await pacer.beforeRequest()
        #expect(pacer.totalWait == .zero)
    }
}
