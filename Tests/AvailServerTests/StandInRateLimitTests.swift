import AvailCore
import AvailTesting
import AvailWorkload
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

/// Calendly's rate limits: per user per minute, with `X-RateLimit-*` on every API answer.
@Suite struct StandInRateLimitTests {
    static let limit = HTTPField.Name("X-RateLimit-Limit")!, remaining = HTTPField.Name("X-RateLimit-Remaining")!
    static let reset = HTTPField.Name("X-RateLimit-Reset")!

    @Test func everyAnswerCarriesTheHeadersAndPastTheLimitIs429() async throws {
        try await withCalendly { _, control in
            let api = StandInAPI(control: control)
            let first = try await api.call(.get, "/users/me")
            #expect(first.headers[Self.limit] == "500")
            #expect(first.headers[Self.remaining] == "499")
            #expect((1...60).contains(Int(first.headers[Self.reset] ?? "") ?? 0))
            // Errors carry them too.
            #expect(try await api.call(.get, "/scheduled_events/none").headers[Self.remaining] == "498")
            try await api.sim("/_sim/rate_limits", #"{"per_minute":3}"#)
            for left in ["2", "1", "0"] { #expect(try await api.call(.get, "/users/me").headers[Self.remaining] == left) }
            let over = try await api.call(.get, "/users/me")
            #expect(over.status == .tooManyRequests)
            #expect(over.json["title"] as? String == "Too Many Requests")
            #expect(over.json["message"] is String)
            #expect(over.headers[Self.limit] == "3")
            #expect(over.headers[Self.remaining] == "0")
            #expect(over.headers[Self.reset] != nil)
            // Per user: another token is not limited by Ada's... the admin's use.
            #expect(try await api.call(.get, "/users/me", token: StandInAPI.ada).status == .ok)
            // Not the stand-in's own controls.
            let sim = try await control.execute(uri: "/_sim/requests", method: .get)
            #expect(sim.headers[Self.limit] == nil)
        }
    }

    @Test func bookingHasItsOwnTighterLimit() async throws {
        try await withCalendly { _, control in
            let api = StandInAPI(control: control)
            try await api.sim("/_sim/rate_limits", #"{"invitees_per_minute":2}"#)
            let grace = Corpus.experts[1]
            let booked = try await api.book(grace.eventTypeURI, index: 0)
            #expect(booked.headers[Self.limit] == "2")
            #expect(booked.headers[Self.remaining] == "1")
            try await api.book(grace.eventTypeURI, index: 1)
            let third = try await api.call(
                .post, "/invitees",
                json: #"{"event_type":"\#(grace.eventTypeURI)","start_time":"2030-01-07T15:00:00Z","invitee":{"name":"K","email":"k@example.com"}}"#)
            #expect(third.status == .tooManyRequests)
            #expect(third.json["title"] as? String == "Too Many Requests")
            // The rest of the API is still open.
            #expect(try await api.call(.get, "/users/me").status == .ok)
        }
    }

    @Test func theTokenEndpointAllowsEightAMinutePerUser() async throws {
        try await withCalendly { _, control in
            let oauth = OAuthTestClient(control: control)
            let code = try #require(try await oauth.decide(user: "ada-lovelace").redirectQuery["code"])
            var refresh = try #require(try await oauth.exchange(code).json["refresh_token"] as? String)
            for _ in 0..<7 {
                let answer = try await oauth.refresh(refresh)
                #expect(answer.status == .ok)
                refresh = try #require(answer.json["refresh_token"] as? String)
            }
            let ninth = try await oauth.refresh(refresh)
            #expect(ninth.status == .tooManyRequests)
            #expect(ninth.json["error"] as? String == "rate_limited")
            #expect(ninth.json["error_description"] is String)
            #expect(ninth.headers[Self.limit] == "8")
            // Another user's token requests are not counted against Ada's.
            let other = try #require(try await oauth.decide(user: "grace-hopper").redirectQuery["code"])
            #expect(try await oauth.exchange(other).status == .ok)
        }
    }

    @Test func injectedFailuresStillComeFirst() async throws {
        try await withCalendly { _, control in
            try await inject(#"[{"path":"/users/me","status":429,"times":1,"rate_limit_reset":7}]"#, control)
            let answer = try await StandInAPI(control: control).call(.get, "/users/me")
            #expect(answer.status == .tooManyRequests)
            #expect(answer.headers[Self.reset] == "7")
        }
    }
}
