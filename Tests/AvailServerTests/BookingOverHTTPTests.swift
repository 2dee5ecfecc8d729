import AsyncHTTPClient
import AvailClient
import AvailCore
import AvailServer
import AvailStore
import AvailTesting
import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import NIOHTTP1
import Testing

/// Booking, rescheduling and canceling on a native schedule.
@Suite struct BookingOverHTTPTests {
    static var monday: LocalDate { AvailabilityOverHTTPTests.monday }
    static func at(_ hour: Int) -> String { "\(monday)T\(hour < 10 ? "0" : "")\(hour):00:00Z" }
    static func utc(_ hour: Int) -> String { "\(monday)T\(hour < 10 ? "0" : "")\(hour):00:00.000000Z" }

    static func booking(_ hour: Int, name: String = "Nia Osei") -> String {
        #"{"start_time":"\#(at(hour))","invitee":{"name":"\#(name)","email":"nia@example.com","timezone":"Africa/Accra"}}"#
    }

    func nativeAda(_ daemon: Daemon) async throws {
        try await daemon.createFixtureExperts(connecting: false)
        let answer = try await daemon.call(.put, "/experts/ada/integration", json: #"{"type":"native","schedule":\#(AvailabilityOverHTTPTests.schedule)}"#)
        #expect(answer.status == .ok)
    }

    func freeSlots(_ daemon: Daemon) async throws -> [String] {
        let range = "start_time=\(Self.at(0))&end_time=\(Self.monday.adding(days: 1))T00:00:00Z"
        let answer = try await daemon.call(.get, "/experts/ada/availability?\(range)")
        return (answer.json["slots"] as? [[String: Any]] ?? []).compactMap { $0["start_time"] as? String }
    }

    @Test func aBookingTakesItsSlot() async throws {
        try await withDaemon { daemon in
            try await nativeAda(daemon)
            let booked = try await daemon.call(.post, "/experts/ada/appointments", json: Self.booking(10))
            #expect(booked.status == .created)
            #expect(booked.json["calendar_type"] as? String == "native")
            #expect(booked.json["status"] as? String == "scheduled")
            #expect(booked.json["expert_id"] as? String == "ada")
            #expect(booked.json["start_time"] as? String == Self.utc(10))
            #expect(booked.json["end_time"] as? String == Self.utc(11))
            #expect((booked.json["invitee"] as? [String: Any])?["email"] as? String == "nia@example.com")
            #expect(booked.json["external_invitee_uri"] is NSNull)
            #expect(try await freeSlots(daemon) == [Self.utc(9), Self.utc(11)])
            let listed = try await daemon.call(.get, "/experts/ada/appointments")
            #expect((listed.json["appointments"] as? [[String: Any]])?.count == 1)
        }
    }

    @Test func fiftyRacingBookingsOfOneSlotGiveOneAppointment() async throws {
        try await withDaemon { daemon in
            try await nativeAda(daemon)
            // The test client has one connection; racing needs many: AsyncHTTPClient opens one
            // per request in flight.
            let statuses = try await withThrowingTaskGroup(of: (UInt, String?).self) { group in
                for index in 0..<50 {
                    group.addTask {
                        var request = HTTPClientRequest(url: "\(daemon.baseURL)/experts/ada/appointments")
                        request.method = .POST
                        request.headers.add(name: "Authorization", value: "Bearer \(daemon.configuration.adminToken)")
                        request.headers.add(name: "Content-Type", value: "application/json")
                        request.body = .bytes(ByteBuffer(string: Self.booking(9, name: "Racer \(index)")))
                        let response = try await HTTPClient.shared.execute(request, timeout: .seconds(30))
                        let body = try await response.body.collect(upTo: 1 << 20)
                        let problem = try? JSONDecoder().decode(ProblemDocument.self, from: Data(body.readableBytesView))
                        return (response.status.code, problem?.code)
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            #expect(statuses.filter { $0.0 == 201 }.count == 1)
            #expect(statuses.filter { $0.0 == 409 && $0.1 == "slot_unavailable" }.count == 49)
            let listed = try await daemon.call(.get, "/experts/ada/appointments")
            #expect((listed.json["appointments"] as? [[String: Any]])?.count == 1)
        }
    }

    @Test func aNativeAppointmentStaysWithItsExpertWhateverTheProfileSays() async throws {
        // Calendly appointments are matched to experts by event type and email; a native one
        // belongs to the expert it was booked with, through any profile change.
        try await withDaemon { daemon in
            try await nativeAda(daemon)
            let booked = try await daemon.call(.post, "/experts/ada/appointments", json: Self.booking(10))
            let id = try #require(booked.json["id"] as? String)
            let renamed = try await daemon.call(.put, "/experts/ada", json: #"{"name":"Ada","email":"someone.else@experts.example","timezone":"UTC"}"#)
            #expect(renamed.status == .ok)
            #expect(try await daemon.call(.get, "/appointments/\(id)").json["expert_id"] as? String == "ada")
        }
    }

    @Test func slotsOutsideTheScheduleOrOffTheGridAreRefused() async throws {
        try await withDaemon { daemon in
            try await nativeAda(daemon)
            for start in [Self.at(8), Self.at(12), "\(Self.monday)T09:30:00Z", "\(Self.monday.adding(days: 1))T09:00:00Z"] {
                let answer = try await daemon.call(.post, "/experts/ada/appointments", json: #"{"start_time":"\#(start)","invitee":{"name":"N","email":"n@example.com"}}"#)
                #expect(answer.status == .conflict, "\(start)")
                #expect(answer.problem?.code == "slot_unavailable")
            }
        }
    }

    @Test func anExpertWithoutIntegrationRefusesBookings() async throws {
        try await withDaemon { daemon in
            try await daemon.createFixtureExperts(connecting: false)
            let answer = try await daemon.call(.post, "/experts/ada/appointments", json: Self.booking(10))
            #expect(answer.status == .conflict)
            #expect(answer.problem?.code == "no_integration")
        }
    }

    @Test func rescheduleAndCancelFreeTheOldSlot() async throws {
        let folder = try TemporaryDirectory()
        defer { folder.remove() }
        let database = folder.path("booking.sqlite")
        try await withDaemon(.testing(databasePath: database)) { daemon in
            try await nativeAda(daemon)
            let booked = try await daemon.call(.post, "/experts/ada/appointments", json: Self.booking(9))
            let first = try #require(booked.json["id"] as? String)
            let moved = try await daemon.call(.patch, "/appointments/\(first)", json: #"{"start_time":"\#(Self.at(11))"}"#)
            #expect(moved.status == .ok)
            let second = try #require(moved.json["id"] as? String)
            #expect(moved.json["rescheduled_from"] as? String == first)
            #expect(moved.json["start_time"] as? String == Self.utc(11))
            let old = try await daemon.call(.get, "/appointments/\(first)")
            #expect(old.json["status"] as? String == "rescheduled")
            #expect(old.json["rescheduled_to"] as? String == second)
            #expect(try await freeSlots(daemon) == [Self.utc(9), Self.utc(10)])

            let again = try await daemon.call(.patch, "/appointments/\(first)", json: #"{"start_time":"\#(Self.at(10))"}"#)
            #expect(again.problem?.code == "not_scheduled")

            let canceled = try await daemon.call(.post, "/appointments/\(second)/cancel", json: #"{"reason":"Unwell"}"#)
            #expect(canceled.status == .ok)
            #expect(canceled.json["status"] as? String == "canceled")
            #expect((canceled.json["cancellation"] as? [String: Any])?["reason"] as? String == "Unwell")
            #expect(try await freeSlots(daemon) == [Self.utc(9), Self.utc(10), Self.utc(11)])
            let twice = try await daemon.call(.post, "/appointments/\(second)/cancel", json: "{}")
            #expect(twice.status == .conflict)
        }
        // Every decision is in the log: a rebuild gives the same read models.
        let comparison = try await ReadModels(database: try LogDatabase.open(path: database)).compareWithRebuild()
        #expect(comparison.stored == comparison.rebuilt)
    }

    @Test(arguments: [
        (#"{"invitee":{"name":"N","email":"n@example.com"}}"#, "start_time"),
        (#"{"start_time":"tomorrow","invitee":{"name":"N","email":"n@example.com"}}"#, "start_time"),
        (#"{"start_time":"2027-01-04T09:00:00Z","invitee":{"name":"","email":"n@example.com"}}"#, "invitee.name"),
        (#"{"start_time":"2027-01-04T09:00:00Z","invitee":{"name":"N","email":"nope"}}"#, "invitee.email"),
        (#"{"start_time":"2027-01-04T09:00:00Z","invitee":{"name":"N","email":"n@example.com","timezone":"Nowhere/Else"}}"#, "invitee.timezone"),
    ])
    func aBadBookingIsA400NamingTheField(body: String, field: String) async throws {
        try await withDaemon { daemon in
            try await nativeAda(daemon)
            let answer = try await daemon.call(.post, "/experts/ada/appointments", json: body)
            #expect(answer.status == .badRequest)
            #expect(answer.problem?.code == "invalid_field")
            #expect(answer.problem?.detail.hasPrefix(field + ":") == true, "\(answer.problem?.detail ?? "")")
        }
    }
}
