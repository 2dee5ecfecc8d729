import AvailClient
import AvailCore
import AvailServer
import AvailTesting
import AvailWorkload
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

extension Daemon {
    struct JSONAnswer {
        var status: HTTPResponse.Status
        var headers: HTTPFields
        var body: Data

        var json: [String: Any] { (try? JSONSerialization.jsonObject(with: body) as? [String: Any]) ?? [:] }
        var problem: ProblemDocument? { try? JSONDecoder().decode(ProblemDocument.self, from: body) }
        var logPosition: Int64? { headers[HTTPField.Name("Log-Position")!].flatMap { Int64($0) } }
    }

    /// `method path` as admin with an optional JSON body.
    func call(_ method: HTTPRequest.Method, _ path: String, json: String? = nil, headers extra: HTTPFields = [:]) async throws -> JSONAnswer {
        var headers = admin
        headers.append(contentsOf: extra)
        if json != nil { headers[.contentType] = "application/json" }
        let response = try await client.execute(
            uri: path, method: method, headers: headers, body: json.map { ByteBuffer(string: $0) })
        return JSONAnswer(status: response.status, headers: response.headers, body: Data(response.body.readableBytesView))
    }

    /// Creates the three fixture experts through the API.
    func createFixtureExperts(connecting: Bool = true) async throws {
        for expert in Corpus.experts {
            let created = try await call(.put, "/experts/\(expert.id)", json: #"{"name":"\#(expert.name)","email":"\#(expert.email)","timezone":"\#(expert.timezone)"}"#)
            #expect(created.status == .ok)
            if connecting {
                let connected = try await call(.put, "/experts/\(expert.id)/integration", json: #"{"type":"calendly","event_link":"\#(expert.eventLink)"}"#)
                #expect(connected.status == .ok)
            }
        }
    }

    /// Sends every fixture delivery, signed; returns the highest position acknowledged.
    func sendFixtures() async throws -> Int64 {
        var last: Int64 = 0
        for body in try Corpus.fixtureBodies() {
            let answer = try await sender.send(body)
            #expect(answer.status == 202 || answer.status == 200)
            last = max(last, Int64(answer.json?["position"] as? Int ?? 0))
        }
        return last
    }
}

@Suite struct ExpertsOverHTTPTests {
    @Test func aProfileChangeIsVisibleInItsOwnAnswerAndTheNextRead() async throws {
        try await withDaemon { daemon in
            let put = try await daemon.call(.put, "/experts/ada", json: #"{"name":"Ada Lovelace","email":"ada@experts.example","timezone":"Europe/London"}"#)
            #expect(put.status == .ok)
            #expect(put.json["integration_type"] as? String == "none")
            #expect(put.json["calendly_config"] is NSNull)
            #expect(put.json["native_schedule"] is NSNull)
            #expect(put.logPosition == 1)
            let get = try await daemon.call(.get, "/experts/ada")
            #expect(get.json["email"] as? String == "ada@experts.example")
            let renamed = try await daemon.call(.put, "/experts/ada", json: #"{"name":"Augusta Ada King","email":"ada@experts.example","timezone":"Europe/London"}"#)
            #expect(renamed.json["name"] as? String == "Augusta Ada King")
            #expect(renamed.logPosition == 2)
            let events = try await daemon.allEvents()
            #expect(events.map(\.type) == ["expert.updated", "expert.updated"])
            #expect(events.allSatisfy { $0.source == "api" })
        }
    }

    @Test(arguments: [
        (#"{"email":"a@b.example","timezone":"UTC"}"#, "invalid_field", "name"),
        (#"{"name":"","email":"a@b.example","timezone":"UTC"}"#, "invalid_field", "name"),
        (#"{"name":"A","email":"not-an-email","timezone":"UTC"}"#, "invalid_field", "email"),
        (#"{"name":"A","email":"a@b.example","timezone":"Mars/Olympus"}"#, "invalid_field", "timezone"),
        (#"{"name":7,"email":"a@b.example","timezone":"UTC"}"#, "invalid_field", "name"),
        (#"[1,2]"#, "invalid_json", ""),
        (#"{"name":"#, "invalid_json", ""),
    ])
    func aBadProfileIsA400NamingTheField(body: String, code: String, field: String) async throws {
        try await withDaemon { daemon in
            let answer = try await daemon.call(.put, "/experts/ada", json: body)
            #expect(answer.status == .badRequest)
            #expect(answer.problem?.code == code)
            #expect(answer.problem?.detail.hasPrefix(field) == true)
            #expect(try await daemon.allEvents().isEmpty)
        }
    }

    @Test(arguments: ["/experts/has%20space", "/experts/\(String(repeating: "x", count: 65))"])
    func aBadExpertIDIsA400(path: String) async throws {
        try await withDaemon { daemon in
            let answer = try await daemon.call(.put, path, json: #"{"name":"A","email":"a@b.example","timezone":"UTC"}"#)
            #expect(answer.status == .badRequest)
            #expect(answer.problem?.code == "invalid_parameter")
        }
    }

    @Test func connectingAndDisconnectingCalendly() async throws {
        try await withDaemon { daemon in
            try await daemon.createFixtureExperts(connecting: false)
            let bad = try await daemon.call(.put, "/experts/ada/integration", json: #"{"type":"calendly","event_link":"https://example.com/ada/30min"}"#)
            #expect(bad.status == .badRequest)
            #expect(bad.problem?.code == "invalid_event_link")
            let connected = try await daemon.call(.put, "/experts/ada/integration", json: #"{"type":"calendly","event_link":"https://www.calendly.com/ada-lovelace/30min/?month=2026-12"}"#)
            #expect(connected.status == .ok)
            #expect(connected.json["integration_type"] as? String == "calendly")
            let config = connected.json["calendly_config"] as? [String: Any]
            #expect(config?["event_link"] as? String == "https://calendly.com/ada-lovelace/30min")
            #expect(config?["event_type_uri"] is NSNull)
            #expect(config?["connected_at"] is String)
            let disconnected = try await daemon.call(.delete, "/experts/ada/integration")
            #expect(disconnected.status == .ok)
            #expect(disconnected.json["integration_type"] as? String == "none")
            #expect(disconnected.json["calendly_config"] is NSNull)
        }
    }

    static let schedule = #"{"timezone":"Europe/Berlin","duration_minutes":30,"rules":[{"type":"wday","wday":"monday","intervals":[{"from":"09:00","to":"17:00"}]},{"type":"date","date":"2026-12-24","intervals":[]}],"buffer_before_minutes":0,"buffer_after_minutes":10,"min_notice_minutes":60}"#

    @Test func settingANativeScheduleAndSwitchingBack() async throws {
        try await withDaemon { daemon in
            try await daemon.createFixtureExperts()
            let native = try await daemon.call(.put, "/experts/ada/integration", json: #"{"type":"native","schedule":\#(Self.schedule)}"#)
            #expect(native.status == .ok)
            #expect(native.json["integration_type"] as? String == "native")
            #expect(native.json["calendly_config"] is NSNull)
            let schedule = native.json["native_schedule"] as? [String: Any]
            #expect(schedule?["timezone"] as? String == "Europe/Berlin")
            #expect((schedule?["rules"] as? [[String: Any]])?.count == 2)
            #expect(schedule?["buffer_after_minutes"] as? Int == 10)
            let calendly = try await daemon.call(.put, "/experts/ada/integration", json: #"{"type":"calendly","event_link":"https://calendly.com/ada-lovelace/30min"}"#)
            #expect(calendly.json["integration_type"] as? String == "calendly")
            #expect(calendly.json["native_schedule"] is NSNull)
        }
    }

    @Test(arguments: [
        (#"{"type":"native"}"#, "schedule"),
        (#"{"type":"native","schedule":{"timezone":"Mars/Base","duration_minutes":30,"rules":[]}}"#, "schedule.timezone"),
        (#"{"type":"native","schedule":{"timezone":"UTC","duration_minutes":30,"rules":[{"type":"wday","wday":"funday","intervals":[]}]}}"#, "schedule.rules[0].wday"),
        (#"{"type":"native","schedule":{"timezone":"UTC","duration_minutes":30,"rules":[{"type":"wday","wday":"monday","intervals":[{"from":"12:00","to":"09:00"}]}]}}"#, "schedule.rules[0].intervals"),
        (#"{"type":"zoom"}"#, "type"),
    ])
    func aBadIntegrationIsA400NamingTheField(body: String, field: String) async throws {
        try await withDaemon { daemon in
            try await daemon.createFixtureExperts(connecting: false)
            let answer = try await daemon.call(.put, "/experts/ada/integration", json: body)
            #expect(answer.status == .badRequest)
            #expect(answer.problem?.code == "invalid_field")
            #expect(answer.problem?.detail.hasPrefix(field + ":") == true, "\(answer.problem?.detail ?? "")")
        }
    }

    @Test func anUnknownExpertIsA404Problem() async throws {
        try await withDaemon { daemon in
            for (method, path) in [(HTTPRequest.Method.get, "/experts/nobody"), (.delete, "/experts/nobody/integration"),
                                   (.get, "/experts/nobody/appointments"), (.get, "/appointments/nothing")] {
                let answer = try await daemon.call(method, path)
                #expect(answer.status == .notFound, "\(path)")
                #expect(answer.problem?.code == "not_found")
                #expect(answer.logPosition == 0)
            }
            let connect = try await daemon.call(.put, "/experts/nobody/integration", json: #"{"type":"calendly","event_link":"https://calendly.com/a/b"}"#)
            #expect(connect.status == .notFound)
        }
    }
}

@Suite struct AppointmentsOverHTTPTests {
    @Test func fixtureDeliveriesBecomeTheExpertsAppointments() async throws {
        try await withDaemon { daemon in
            try await daemon.createFixtureExperts()
            let last = try await daemon.sendFixtures()
            let list = try await daemon.call(.get, "/experts/grace/appointments?min_position=\(last)&limit=1000")
            #expect(list.status == .ok)
            #expect((list.logPosition ?? 0) >= last)
            let appointments = list.json["appointments"] as? [[String: Any]] ?? []
            #expect(appointments.count == 15)
            let starts = appointments.compactMap { $0["start_time"] as? String }
            #expect(starts == starts.sorted())
            #expect(appointments.allSatisfy { $0["expert_id"] as? String == "grace" && $0["calendar_type"] as? String == "calendly" })
            let first = try #require(appointments.first)
            let one = try await daemon.call(.get, "/appointments/\(first["id"] as! String)")
            #expect(one.status == .ok)
            #expect(NSDictionary(dictionary: one.json) == NSDictionary(dictionary: first))
            let keys: Set<String> = [
                "id", "expert_id", "calendar_type", "external_calendar_event_id", "external_invitee_uri", "status",
                "start_time", "end_time", "invitee", "rescheduled_from", "rescheduled_to", "cancellation", "no_show",
                "created_at", "updated_at",
            ]
            #expect(Set(first.keys) == keys)
        }
    }

    @Test func filtersAndPages() async throws {
        try await withDaemon { daemon in
            try await daemon.createFixtureExperts()
            let last = try await daemon.sendFixtures()
            let canceled = try await daemon.call(.get, "/experts/grace/appointments?status=canceled&min_position=\(last)")
            #expect((canceled.json["appointments"] as? [[String: Any]])?.count == 3)
            let window = try await daemon.call(.get, "/experts/grace/appointments?from=2026-12-05T00:00:00Z&to=2026-12-15T00:00:00Z")
            #expect((window.json["appointments"] as? [[String: Any]])?.count == 5)
            var ids: [String] = []
            var path = "/experts/grace/appointments?limit=4"
            while true {
                let page = try await daemon.call(.get, path)
                ids += (page.json["appointments"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
                guard let cursor = page.json["next_cursor"] as? String else { break }
                path = "/experts/grace/appointments?limit=4&cursor=\(cursor)"
            }
            #expect(ids.count == 15)
            #expect(Set(ids).count == 15)
        }
    }

    @Test(arguments: ["status=done", "from=yesterday", "to=2026-13-01T00:00:00Z", "limit=0", "cursor=%%%", "min_position=-1"])
    func badQueriesAreA400NamingTheParameter(query: String) async throws {
        try await withDaemon { daemon in
            try await daemon.createFixtureExperts(connecting: false)
            let answer = try await daemon.call(.get, "/experts/ada/appointments?\(query)")
            #expect(answer.status == .badRequest)
            #expect(answer.problem?.code == "invalid_parameter")
            #expect(answer.problem?.detail.hasPrefix(String(query.prefix(while: { $0 != "=" }))) == true)
        }
    }
}

@Suite struct ReadYourWritesTests {
    @Test func everyResponseCarriesLogPosition() async throws {
        try await withDaemon { daemon in
            _ = try await daemon.sender.send(builder.invitee(index: 1))
            for path in ["/healthz", "/readyz", "/metrics", "/events", "/nowhere"] {
                let answer = try await daemon.call(.get, path + "?min_position=1")
                #expect(answer.logPosition == 1, "\(path)")
            }
            let unauthorized = try await daemon.client.execute(uri: "/events", method: .get)
            #expect(unauthorized.headers[HTTPField.Name("Log-Position")!] != nil)
        }
    }

    @Test func aReadAheadOfTheProjectionIsA504AfterTheWait() async throws {
        var configuration = AvailServer.Configuration.testing()
        configuration.projectionWaitTimeout = .milliseconds(200)
        try await withDaemon(configuration) { daemon in
            let started = ContinuousClock.now
            let answer = try await daemon.call(.get, "/events?min_position=50")
            #expect(answer.status == .gatewayTimeout)
            #expect(answer.problem?.code == "projection_lag")
            #expect(ContinuousClock.now - started >= .milliseconds(200))
        }
    }

    @Test func aWaitingReadIsAnsweredWhenTheDeliveryIsProjected() async throws {
        try await withDaemon { daemon in
            try await daemon.createFixtureExperts()
            let before = try await daemon.call(.get, "/experts/ada")
            let next = (before.logPosition ?? 0) + 1
            async let waiting = daemon.call(.get, "/experts/ada/appointments?min_position=\(next)")
            try await Task.sleep(for: .milliseconds(50))
            _ = try await daemon.sender.send(Corpus.fixtureBodies()[0])
            let answer = try await waiting
            #expect(answer.status == .ok)
            #expect((answer.json["appointments"] as? [[String: Any]])?.count == 1)
        }
    }

    @Test func unusableEventsAreParkedAndListed() async throws {
        try await withDaemon { daemon in
            let body = Data(#"{"event":"invitee.created","created_at":"2026-11-20T10:00:00.000000Z","payload":{"email":"x@example.com"}}"#.utf8)
            #expect(try await daemon.sender.send(body).status == 202)
            let parked = try await daemon.call(.get, "/parked?min_position=1")
            let items = parked.json["parked"] as? [[String: Any]] ?? []
            #expect(items.count == 1)
            #expect(items.first?["reason"] as? String == "payload.uri is missing")
            #expect(items.first?["position"] as? Int == 1)
            let metrics = String(decoding: try await daemon.call(.get, "/metrics").body, as: UTF8.self)
            #expect(metrics.contains("availd_projection_position 1"))
            #expect(metrics.contains("availd_projection_parked_total 1"))
        }
    }
}
