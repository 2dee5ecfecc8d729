import AvailServer
import AvailTesting
import Foundation
import HTTPTypes
import Testing

/// SQLite text cannot hold U+0000: a stored NUL would be read back cut short and `availd
/// verify` would fail for good. So no command body may carry one, in any string (keys and
/// fields availd ignores included), as ingest already refuses deliveries that do.
@Suite struct NULOverHTTPTests {
    enum Target: String, CaseIterable, Sendable {
        case cancelReason, cancelKey, expertName, expertUnknownField, inviteeName, inviteeEmail, tokenLabel, schedule
    }

    /// The request for `target`, against Ada with a native schedule and one booking.
    func request(_ target: Target, appointment: String) -> (HTTPRequest.Method, String, String) {
        let booking = { (name: String, email: String) in
            #"{"start_time":"\#(BookingOverHTTPTests.at(11))","invitee":{"name":"\#(name)","email":"\#(email)"}}"#
        }
        switch target {
        case .cancelReason: return (.post, "/appointments/\(appointment)/cancel", #"{"reason":"Conflict\u0000 at work"}"#)
        case .cancelKey: return (.post, "/appointments/\(appointment)/cancel", #"{"reason\u0000":"Conflict"}"#)
        case .expertName:
            return (.put, "/experts/ada", #"{"name":"Ada\u0000 Lovelace","email":"ada@example.com","timezone":"Europe/London"}"#)
        case .expertUnknownField:
            return (.put, "/experts/ada", #"{"name":"Ada","email":"ada@example.com","timezone":"Europe/London","note":"\u0000"}"#)
        case .inviteeName: return (.post, "/experts/ada/appointments", booking(#"Nia\u0000"#, "nia@example.com"))
        case .inviteeEmail: return (.post, "/experts/ada/appointments", booking("Nia", #"nia@exa\u0000mple.com"#))
        case .tokenLabel: return (.post, "/experts/ada/tokens", #"{"label":"laptop\u0000"}"#)
        case .schedule:
            let schedule = AvailabilityOverHTTPTests.schedule.replacingOccurrences(of: #""UTC""#, with: #""UTC\u0000""#)
            return (.put, "/experts/ada/integration", #"{"type":"native","schedule":\#(schedule),"extra":["\u0000"]}"#)
        }
    }

    @Test(arguments: Target.allCases)
    func aNULInAnyStringIsRefusedAndNothingIsLogged(target: Target) async throws {
        try await withDaemon { daemon in
            try await BookingOverHTTPTests().nativeAda(daemon)
            let booked = try await daemon.call(.post, "/experts/ada/appointments", json: BookingOverHTTPTests.booking(10))
            let id = try #require(booked.json["id"] as? String)
            let before = try await daemon.allEvents().count
            let (method, path, body) = request(target, appointment: id)
            let answer = try await daemon.call(method, path, json: body)
            #expect(answer.status == .badRequest)
            #expect(answer.headers[.contentType] == "application/problem+json")
            #expect(answer.problem?.code == "invalid_field")
            #expect(answer.problem?.detail.contains("NUL") == true, "\(answer.problem?.detail ?? "no detail")")
            #expect(try await daemon.allEvents().count == before)
            #expect(try await daemon.call(.get, "/appointments/\(id)").json["status"] as? String == "scheduled")
            #expect((try await daemon.call(.get, "/experts/ada/tokens").json["tokens"] as? [Any])?.isEmpty == true)
        }
    }

    /// The field is named, and an escaped backslash before `u0000` is no NUL.
    @Test func theFieldIsNamedAndAnEscapedBackslashIsNoNUL() async throws {
        try await withDaemon { daemon in
            try await BookingOverHTTPTests().nativeAda(daemon)
            let booked = try await daemon.call(.post, "/experts/ada/appointments", json: BookingOverHTTPTests.booking(10))
            let id = try #require(booked.json["id"] as? String)
            let refused = try await daemon.call(.post, "/appointments/\(id)/cancel", json: #"{"reason":"a\u0000b"}"#)
            #expect(refused.problem?.detail.hasPrefix("reason:") == true, "\(refused.problem?.detail ?? "no detail")")
            let canceled = try await daemon.call(.post, "/appointments/\(id)/cancel", json: #"{"reason":"C:\\u0000"}"#)
            #expect(canceled.status == .ok)
            #expect((canceled.json["cancellation"] as? [String: Any])?["reason"] as? String == #"C:\u0000"#)
        }
    }
}
