import AvailCore
import AvailServer
import AvailTesting
import AvailWorkload
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

/// The stand-in is never kinder than Calendly: every answer it gives has exactly the keys
/// Calendly's API reference gives (copied to `fixtures/calendly-api/shapes.json`), no key missing, none more.
@Suite struct StandInShapeTests {
    /// One object's shape: its keys, those present only sometimes, and nested shapes.
    struct Shape: Decodable {
        var keys: [String]
        var optional: [String]?
        var nested: [String: String]?
    }

    struct Shapes: Decodable {
        var objects: [String: Shape]
        var answers: [String: String]

        static func load() throws -> Shapes {
            try JSONDecoder().decode(
                Shapes.self, from: Data(contentsOf: TestPaths.fixtures.appendingPathComponent("calendly-api/shapes.json")))
        }

        /// Where `value` departs from the shape named `name`, as `path: what`; empty when it fits.
        func mismatches(_ value: Any, _ name: String, at path: String = "$") -> [String] {
            guard let shape = objects[name] else { return ["\(path): no shape \(name) in shapes.json"] }
            if let array = value as? [Any] {
                return array.enumerated().flatMap { mismatches($1, name, at: "\(path)[\($0)]") }
            }
            guard let object = value as? [String: Any] else { return ["\(path): not an object (\(name))"] }
            let present = Set(object.keys), required = Set(shape.keys), allowed = required.union(shape.optional ?? [])
            var found = required.subtracting(present).sorted().map { "\(path): \(name) lacks \($0)" }
            found += present.subtracting(allowed).sorted().map { "\(path): \(name) has \($0), which Calendly does not send" }
            for (key, nestedShape) in shape.nested ?? [:] {
                guard let nested = object[key], !(nested is NSNull) else { continue }
                found += mismatches(nested, nestedShape, at: "\(path).\(key)")
            }
            return found
        }
    }

    /// The checker itself: a key more or a key less is caught, nested ones too.
    @Test func theCheckerCatchesAKeyMoreOrLess() throws {
        let shapes = try Shapes.load()
        let user: [String: Any] = [
            "uri": "u", "name": "n", "slug": "s", "email": "e", "scheduling_url": "x", "timezone": "UTC",
            "current_organization": "o",
        ]
        #expect(shapes.mismatches(["resource": user], "user_answer").isEmpty)
        var more = user
        more["avatar_url"] = "a"
        #expect(shapes.mismatches(["resource": more], "user_answer") == ["$.resource: user has avatar_url, which Calendly does not send"])
        var less = user
        less["slug"] = nil
        #expect(shapes.mismatches(["resource": less], "user_answer") == ["$.resource: user lacks slug"])
        // An Invitee from the API with the scheduled event embedded is the kindness to catch.
        let invitee = try #require(shapes.objects["webhook_invitee"]).keys
        let embedded = Dictionary(uniqueKeysWithValues: invitee.map { ($0, NSNull() as Any) })
        #expect(shapes.mismatches(embedded, "invitee") == ["$: invitee has scheduled_event, which Calendly does not send"])
    }

    /// Every route the stand-in serves, in every state it can answer it in, and the webhooks it
    /// sends, as availd stored them.
    @Test func everyStandInAnswerHasCalendlysShape() async throws {
        let shapes = try Shapes.load()
        try await withCalendly { baseURL, control in
            try await withDaemon(CalendlyConnectTests().configuration(baseURL)) { daemon in
                let target = #"{"url":"\#(daemon.baseURL)","signing_key":"\#(daemon.configuration.signingKeys[0])"}"#
                _ = try await control.execute(
                    uri: "/_sim/webhooks", method: .post, headers: [.contentType: "application/json"], body: ByteBuffer(string: target))
                var checked: [String: Int] = [:]
                func check(_ method: HTTPRequest.Method, _ path: String, _ answer: String, json: String? = nil, token: String = CalendlyClientTests.admin,
                           status: HTTPResponse.Status = .ok) async throws -> [String: Any] {
                    var headers: HTTPFields = [.authorization: "Bearer \(token)"]
                    if json != nil { headers[.contentType] = "application/json" }
                    let response = try await control.execute(uri: path, method: method, headers: headers, body: json.map { ByteBuffer(string: $0) })
                    #expect(response.status == status, "\(method) \(path)")
                    let value = try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView))
                    let shape = try #require(shapes.answers[answer])
                    #expect(shapes.mismatches(value, shape) == [], "\(method) \(path)")
                    checked[answer, default: 0] += 1
                    return value as? [String: Any] ?? [:]
                }
                let me = try await check(.get, "/users/me", "GET /users/me")
                let organization = try #require((me["resource"] as? [String: Any])?["current_organization"] as? String)
                let grace = Corpus.experts[1]
                _ = try await check(.get, "/users/\(grace.userURI.split(separator: "/").last!)", "GET /users/{uuid}")
                let page = try await check(.get, "/event_types?organization=\(organization)&count=2", "GET /event_types")
                let token = try #require((page["pagination"] as? [String: Any])?["next_page_token"] as? String)
                _ = try await check(.get, "/event_types?organization=\(organization)&count=2&page_token=\(token)", "GET /event_types")
                _ = try await check(.get, "/event_types?user=\(grace.userURI)", "GET /event_types")

                let monday = AvailabilityOverHTTPTests.monday
                let times = try await check(
                    .get, "/event_type_available_times?event_type=\(grace.eventTypeURI)&start_time=\(monday)T00:00:00Z&end_time=\(monday.adding(days: 2))T00:00:00Z",
                    "GET /event_type_available_times")
                let slot = try #require((times["collection"] as? [[String: Any]])?.first?["start_time"] as? String)

                let booking = #"{"event_type":"\#(grace.eventTypeURI)","start_time":"\#(slot)","invitee":{"name":"Kofi Mensah","email":"kofi@example.com","timezone":"Africa/Accra"}}"#
                let booked = try await check(.post, "/invitees", "POST /invitees", json: booking, status: .created)
                let invitee = try #require((booked["resource"] as? [String: Any])?["uri"] as? String)
                let event = try #require((booked["resource"] as? [String: Any])?["event"] as? String)
                let eventPath = String(event.dropFirst("https://api.calendly.com".count))
                let invitePath = String(invitee.dropFirst("https://api.calendly.com".count))
                _ = try await check(.get, eventPath, "GET /scheduled_events/{uuid}")
                _ = try await check(.get, invitePath, "GET /scheduled_events/{uuid}/invitees/{uuid}")
                _ = try await check(.get, "/scheduled_events?organization=\(organization)&count=1", "GET /scheduled_events")
                _ = try await check(.get, "\(eventPath)/invitees", "GET /scheduled_events/{uuid}/invitees")
                let subscription = #"{"url":"https://hooks.example/shape","events":["invitee.created"],"organization":"\#(organization)","scope":"organization","signing_key":"k"}"#
                let created = try await check(.post, "/webhook_subscriptions", "POST /webhook_subscriptions", json: subscription, status: .created)
                let hook = try #require((created["resource"] as? [String: Any])?["uri"] as? String)
                _ = try await check(.get, String(hook.dropFirst("https://api.calendly.com".count)), "GET /webhook_subscriptions/{uuid}")
                _ = try await check(.get, "/webhook_subscriptions?organization=\(organization)&scope=organization", "GET /webhook_subscriptions")
                _ = try await check(.post, "/webhook_subscriptions", "an error", json: subscription, status: .conflict)
                _ = try await check(.post, "/webhook_subscriptions", "an error", json: "{}", status: .badRequest)
                _ = try await check(.post, "\(eventPath)/cancellation", "POST /scheduled_events/{uuid}/cancellation", json: #"{"reason":"Travel"}"#, status: .created)
                let canceledEvent = try await check(.get, eventPath, "GET /scheduled_events/{uuid}")
                #expect((canceledEvent["resource"] as? [String: Any])?["cancellation"] is [String: Any])
                let canceled = try await check(.get, invitePath, "GET /scheduled_events/{uuid}/invitees/{uuid}")
                #expect((canceled["resource"] as? [String: Any])?["cancellation"] is [String: Any])

                _ = try await check(.get, "/users/me", "an error", token: "not-a-token", status: .unauthorized)
                _ = try await check(.post, "\(eventPath)/cancellation", "an error", json: "{}", status: .forbidden)
                _ = try await check(.get, "/scheduled_events/no-such-event", "an error", status: .notFound)
                _ = try await check(.get, "/event_types?organization=\(organization)", "an error", token: "calendly-token-ada", status: .forbidden)

                // OAuth ("OAuth apps"): the token endpoint's answers, and the query of the
                // consent page's redirect read as an object.
                let oauth = OAuthTestClient(control: control)
                func checkOAuth(_ value: Any, _ answer: String) throws {
                    #expect(shapes.mismatches(value, try #require(shapes.answers[answer])) == [], "\(answer)")
                    checked[answer, default: 0] += 1
                }
                let approved = try await oauth.decide(user: "marketplace-admin")
                try checkOAuth(approved.redirectQuery, "the authorize redirect, approved")
                try checkOAuth(try await oauth.decide(decision: "deny").redirectQuery, "the authorize redirect, refused")
                try checkOAuth(
                    try await oauth.authorizePage(OAuthTestClient.authorizeFields(responseType: "token")).redirectQuery, "the authorize redirect, refused")
                let issued = try await oauth.exchange(try #require(approved.redirectQuery["code"]))
                try checkOAuth(issued.json, "POST /oauth/token")
                let first = try #require(issued.json["refresh_token"] as? String)
                let refreshed = try await oauth.refresh(first)
                try checkOAuth(refreshed.json, "POST /oauth/token")
                try checkOAuth(try await oauth.refresh(first).json, "an OAuth error")
                try checkOAuth(try await oauth.token([("grant_type", "implicit")]).json, "an OAuth error")
                try checkOAuth(try await oauth.token([("grant_type", "refresh_token"), ("refresh_token", first)], secret: "wrong").json, "an OAuth error")
                let credentials = [("client_id", OAuthTestClient.clientID), ("client_secret", OAuthTestClient.clientSecret)]
                let access = try #require(refreshed.json["access_token"] as? String)
                try checkOAuth(try await oauth.post("/oauth/introspect", [("token", access)] + credentials).json, "POST /oauth/introspect, live")
                try checkOAuth(try await oauth.post("/oauth/revoke", [("token", access)] + credentials).json, "POST /oauth/revoke")
                try checkOAuth(try await oauth.post("/oauth/introspect", [("token", access)] + credentials).json, "POST /oauth/introspect, not live")
                _ = try await check(.get, "/users/me", "an error", token: access, status: .unauthorized)

                let deliveries = try await daemon.allEvents().filter { $0.source == "calendly" }
                #expect(deliveries.map(\.type) == ["invitee.created", "invitee.canceled"])
                for delivery in deliveries {
                    let body = try JSONSerialization.jsonObject(with: Data(delivery.body.utf8))
                    #expect(shapes.mismatches(body, try #require(shapes.answers["a webhook delivery"])) == [], "\(delivery.type)")
                    checked["a webhook delivery", default: 0] += 1
                }
                // Every answer shapes.json names was asked for at least once.
                #expect(Set(checked.keys) == Set(shapes.answers.keys))
            }
        }
    }
}

/// A booking through availd is complete at once, from Calendly's answers alone: the stand-in
/// sends no webhook here, so nothing but `POST /invitees` (an Invitee without its event) and
/// `GET /scheduled_events/{uuid}` tells availd what was booked.
@Suite struct BookingFromAnswersTests {
    @Test func aBookingHasItsExpertAndTimesAndCanBeMovedAndCanceled() async throws {
        try await withCalendly { baseURL, control in
            try await withDaemon(CalendlyConnectTests().configuration(baseURL)) { daemon in
                let free = try await daemon.connectGraceToCalendly()
                let booked = try await daemon.call(.post, "/experts/grace/appointments", json: #"{"start_time":"\#(free[0])","invitee":{"name":"K","email":"k@example.com"}}"#)
                #expect(booked.status == .created)
                #expect(booked.json["expert_id"] as? String == "grace")
                #expect(booked.json["start_time"] as? String == free[0])
                let start = try #require(Timestamp(rfc3339: free[0]))
                #expect(booked.json["end_time"] as? String == "\(Timestamp(microseconds: start.microseconds + 3_600_000_000))")
                let id = try #require(booked.json["id"] as? String)
                let event = try #require(booked.json["external_calendar_event_id"] as? String)
                #expect(try await requestCount("/scheduled_events/\(event)", control) == 1)

                let moved = try await daemon.call(.patch, "/appointments/\(id)", json: #"{"start_time":"\#(free[2])"}"#)
                #expect(moved.status == .ok)
                #expect(moved.json["expert_id"] as? String == "grace")
                #expect(moved.json["start_time"] as? String == free[2])
                #expect(moved.json["end_time"] is String)
                let old = try await daemon.call(.get, "/appointments/\(id)")
                #expect(old.json["status"] as? String == "rescheduled")
                #expect(old.json["start_time"] as? String == free[0])

                let second = try #require(moved.json["id"] as? String)
                let canceled = try await daemon.call(.post, "/appointments/\(second)/cancel", json: #"{"reason":"Travel"}"#)
                #expect(canceled.status == .ok)
                #expect(canceled.json["status"] as? String == "canceled")
                #expect(canceled.json["expert_id"] as? String == "grace")
                #expect(canceled.json["end_time"] as? String == moved.json["end_time"] as? String)
            }
        }
    }
}
