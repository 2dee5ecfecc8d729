import AvailCore
import AvailServer
import AvailTesting
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing

/// What schemathesis found against openapi.yaml: input the document says is invalid must be
/// refused with a 400 naming the field, as a problem document.
@Suite struct ValidationOverHTTPTests {
    static let profile = #"{"name":"Ada Lovelace","email":"ada@example.com","timezone":"Europe/London"}"#

    func expectInvalid(_ answer: Daemon.JSONAnswer, _ code: String, naming field: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(answer.status == .badRequest, sourceLocation: sourceLocation)
        #expect(answer.headers[.contentType] == "application/problem+json", sourceLocation: sourceLocation)
        #expect(answer.problem?.code == code, sourceLocation: sourceLocation)
        #expect(answer.problem?.detail.hasPrefix(field + ":") == true, "\(answer.problem?.detail ?? "no detail")", sourceLocation: sourceLocation)
    }

    /// `maxLength` counts Unicode scalars: 101 accented letters are 202 of them, though 101
    /// characters to Swift. Control characters in a name are refused.
    @Test(arguments: [
        (String(repeating: "e\u{301}", count: 101), "name"),
        ("Ada\u{0F}Lovelace", "name"),
        ("Ada\tLovelace", "name"),
    ])
    func aBadExpertNameIsRefused(name: String, field: String) async throws {
        try await withDaemon { daemon in
            let body = String(decoding: try JSONSerialization.data(withJSONObject: [
                "name": name, "email": "ada@example.com", "timezone": "Europe/London",
            ]), as: UTF8.self)
            expectInvalid(try await daemon.call(.put, "/experts/ada", json: body), "invalid_field", naming: field)
            #expect(try await daemon.call(.get, "/experts/ada").status == .notFound)
        }
    }

    @Test func anEmailWithAControlCharacterIsRefused() async throws {
        try await withDaemon { daemon in
            let answer = try await daemon.call(.put, "/experts/ada", json: #"{"name":"Ada","email":"ada\u0001@example.com","timezone":"UTC"}"#)
            expectInvalid(answer, "invalid_field", naming: "email")
        }
    }

    @Test func anInviteeNameWithAControlCharacterIsRefused() async throws {
        try await withDaemon { daemon in
            try await BookingOverHTTPTests().nativeAda(daemon)
            let controlled = try await daemon.call(
                .post, "/experts/ada/appointments",
                json: #"{"start_time":"\#(BookingOverHTTPTests.at(10))","invitee":{"name":"Nia\u0000Osei","email":"nia@example.com"}}"#)
            expectInvalid(controlled, "invalid_field", naming: "invitee.name")
            #expect(try await BookingOverHTTPTests().freeSlots(daemon).count == 3)
        }
    }

    @Test func aCancellationReasonCountsScalars() async throws {
        try await withDaemon { daemon in
            try await BookingOverHTTPTests().nativeAda(daemon)
            let booked = try await daemon.call(.post, "/experts/ada/appointments", json: BookingOverHTTPTests.booking(10))
            let id = try #require(booked.json["id"] as? String)
            let reason = String(repeating: "e\u{301}", count: 501)
            let body = String(decoding: try JSONSerialization.data(withJSONObject: ["reason": reason]), as: UTF8.self)
            expectInvalid(try await daemon.call(.post, "/appointments/\(id)/cancel", json: body), "invalid_field", naming: "reason")
            #expect(try await daemon.call(.get, "/appointments/\(id)").json["status"] as? String == "scheduled")
        }
    }

    /// RFC 3339 has no February 30th and no offset of +99:00.
    @Test(arguments: ["2026-02-30T09:00:00Z", "2027-02-29T09:00:00Z", "2026-04-31T09:00:00Z", "2026-12-07T09:00:00+99:00", "2026-12-07T09:00:00+05:60"])
    func impossibleTimesAreRefused(time: String) async throws {
        try await withDaemon { daemon in
            try await daemon.createFixtureExperts(connecting: false)
            expectInvalid(try await daemon.call(.get, "/experts/ada/appointments?from=\(time)"), "invalid_parameter", naming: "from")
            #expect(Timestamp(rfc3339: time) == nil)
        }
        #expect(Timestamp(rfc3339: "2028-02-29T09:00:00+05:30") != nil)
    }

    /// Wall times and dates are digits only: `+9:00` is not 09:00, nor `2030-+1-01` January.
    @Test(arguments: [
        (#"{"type":"wday","wday":"monday","intervals":[{"from":"+9:00","to":"17:00"}]}"#, "schedule.rules[0].intervals[0].from"),
        (#"{"type":"wday","wday":"monday","intervals":[{"from":"09:00","to":"1-:00"}]}"#, "schedule.rules[0].intervals[0].to"),
        (#"{"type":"date","date":"2030-+1-01","intervals":[]}"#, "schedule.rules[0].date"),
    ])
    func signedWallTimesAndDatesAreRefused(rule: String, field: String) async throws {
        try await withDaemon { daemon in
            try await daemon.createFixtureExperts(connecting: false)
            let body = #"{"type":"native","schedule":{"timezone":"Europe/London","duration_minutes":30,"rules":[\#(rule)]}}"#
            expectInvalid(try await daemon.call(.put, "/experts/ada/integration", json: body), "invalid_field", naming: field)
        }
    }

    /// A path that exists, asked with another method: 405 with `Allow`, as a problem document.
    @Test func anUnroutedMethodIs405WithAllow() async throws {
        try await withDaemon { daemon in
            let expert = try await daemon.call(.delete, "/experts/ada")
            #expect(expert.status == .methodNotAllowed)
            #expect(expert.headers[.allow] == "GET, PUT")
            #expect(expert.problem?.code == "method_not_allowed")
            #expect(expert.headers[.contentType] == "application/problem+json")
            #expect(expert.logPosition != nil)
            let health = try await daemon.call(.post, "/healthz")
            #expect(health.status == .methodNotAllowed)
            #expect(health.headers[.allow] == "GET")
            let nowhere = try await daemon.call(.delete, "/experts/ada/nowhere")
            #expect(nowhere.status == .notFound)
            #expect(nowhere.problem?.code == "not_found")
        }
    }
}
