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

/// `GET /experts/{id}/availability` for the integrations served so far (none, native).
@Suite struct AvailabilityOverHTTPTests {
    /// A Monday at least a week ahead, so "not in the past" holds whenever the tests run.
    static let monday: LocalDate = {
        var date = LocalDate(daysSinceEpoch: Int(Timestamp.now().unixSeconds / 86_400)).adding(days: 7)
        while date.weekday != .monday { date = date.adding(days: 1) }
        return date
    }()

    static func at(_ date: LocalDate, _ hour: Int) -> String { "\(date)T\(hour < 10 ? "0" : "")\(hour):00:00Z" }

    static let schedule = #"{"timezone":"UTC","duration_minutes":60,"rules":[{"type":"wday","wday":"monday","intervals":[{"from":"09:00","to":"12:00"}]}]}"#

    func slots(_ daemon: Daemon, _ query: String) async throws -> Daemon.JSONAnswer {
        // Public: no token.
        let response = try await daemon.client.execute(uri: "/experts/ada/availability?\(query)", method: .get)
        return Daemon.JSONAnswer(status: response.status, headers: response.headers, body: Data(response.body.readableBytesView))
    }

    var day: String { "start_time=\(Self.at(Self.monday, 0))&end_time=\(Self.at(Self.monday.adding(days: 1), 0))" }

    @Test func anExpertWithoutIntegrationHasNoSlots() async throws {
        try await withDaemon { daemon in
            try await daemon.createFixtureExperts(connecting: false)
            let answer = try await slots(daemon, day)
            #expect(answer.status == .ok)
            #expect(answer.json["integration_type"] as? String == "none")
            #expect((answer.json["slots"] as? [Any])?.isEmpty == true)
        }
    }

    @Test func aNativeScheduleOffersItsSlotsLessTheAppointments() async throws {
        try await withDaemon { daemon in
            try await daemon.createFixtureExperts(connecting: false)
            #expect(try await daemon.call(.put, "/experts/ada/integration", json: #"{"type":"native","schedule":\#(Self.schedule)}"#).status == .ok)
            let free = try await slots(daemon, day)
            #expect(free.json["integration_type"] as? String == "native")
            let starts = (free.json["slots"] as? [[String: Any]] ?? []).compactMap { $0["start_time"] as? String }
            #expect(starts == [9, 10, 11].map { "\(Self.monday)T\($0 < 10 ? "0" : "")\($0):00:00.000000Z" })

            // A Calendly booking of ada's (matched by host email) at 10:00 takes that slot.
            let booking = builder.invitee(index: 1, seed: "availability", start: Timestamp(rfc3339: Self.at(Self.monday, 10))!)
            let position = try await daemon.sender.send(booking).json?["position"] as? Int ?? 0
            let busy = try await slots(daemon, day + "&min_position=\(position)")
            let remaining = (busy.json["slots"] as? [[String: Any]] ?? []).compactMap { $0["start_time"] as? String }
            #expect(remaining == [9, 11].map { "\(Self.monday)T\($0 < 10 ? "0" : "")\($0):00:00.000000Z" })
        }
    }

    @Test func calendlyAvailabilityWithoutATokenIsA502() async throws {
        try await withDaemon { daemon in
            try await daemon.createFixtureExperts()
            let answer = try await slots(daemon, day)
            #expect(answer.status == .badGateway)
            #expect(answer.problem?.code == "upstream_unavailable")
        }
    }

    @Test func badRangesAreRefused() async throws {
        try await withDaemon { daemon in
            try await daemon.createFixtureExperts(connecting: false)
            let cases: [(String, String)] = [
                ("start_time=2020-01-01T00:00:00Z&end_time=2020-01-02T00:00:00Z", "invalid_range"),
                ("start_time=\(Self.at(Self.monday, 0))&end_time=\(Self.at(Self.monday.adding(days: 32), 0))", "invalid_range"),
                ("start_time=\(Self.at(Self.monday, 10))&end_time=\(Self.at(Self.monday, 9))", "invalid_range"),
                ("end_time=\(Self.at(Self.monday, 9))", "invalid_parameter"),
                ("start_time=monday&end_time=\(Self.at(Self.monday, 9))", "invalid_parameter"),
            ]
            for (query, code) in cases {
                let answer = try await slots(daemon, query)
                #expect(answer.status == .badRequest, "\(query)")
                #expect(answer.problem?.code == code, "\(query)")
            }
            let nobody = try await daemon.client.execute(uri: "/experts/nobody/availability?\(day)", method: .get)
            #expect(nobody.status == .notFound)
        }
    }
}
