import AvailCore
import AvailServer
import AvailTesting
import Foundation
import HTTPTypes
import Testing

/// Whose event type, whose appointment (the README, "Access"), with the organization token: the two
/// take-overs that worked before, tried with an expert's own token, end with the attacker
/// seeing nothing of the victim's.
@Suite struct WhoseAppointmentTests {
    static let graceLink = "https://calendly.com/grace-hopper/60min"
    static let workshopLink = "https://calendly.com/grace-hopper/compiler-workshop"

    /// Ids of the expert's appointments, as the admin sees them once `position` is projected.
    func appointments(of expert: String, _ daemon: Daemon, after position: Int64 = 0) async throws -> Set<String> {
        let answer = try await daemon.call(.get, "/experts/\(expert)/appointments?limit=1000&min_position=\(position)")
        #expect(answer.status == .ok)
        return Set((answer.json["appointments"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String })
    }

    /// The fixture experts (emails set by the admin) and every fixture delivery; Ada's token.
    func setUp(_ daemon: Daemon, connectGrace: Bool) async throws -> (adaToken: String, head: Int64) {
        try await daemon.createFixtureExperts(connecting: false)
        if connectGrace {
            #expect(try await daemon.call(.put, "/experts/grace/integration", json: #"{"type":"calendly","event_link":"\#(Self.graceLink)"}"#).status == .ok)
        }
        let head = try await daemon.sendFixtures()
        return (try await daemon.issueToken(for: "ada", label: "attacker").token, head)
    }

    func connect(_ expert: String, _ link: String, token: String, _ daemon: Daemon) async throws -> Daemon.JSONAnswer {
        try await daemon.call(
            .init(method: .put, path: "/experts/\(expert)/integration", json: #"{"type":"calendly","event_link":"\#(link)"}"#),
            authorization: "Bearer \(token)")
    }

    @Test func anExpertCannotConnectAnotherExpertsEventType() async throws {
        try await withCalendly { baseURL, _ in
            try await withDaemon(CalendlyConnectTests().configuration(baseURL)) { daemon in
                let (ada, head) = try await setUp(daemon, connectGrace: true)
                let grace = try await appointments(of: "grace", daemon, after: head)
                let before = try await appointments(of: "ada", daemon)
                #expect(grace.count == 15 && before.count == 11)
                let logged = try await daemon.allEvents().count

                // Grace's connected event type, and one of hers nobody connected.
                for link in [Self.graceLink, Self.workshopLink] {
                    let answer = try await connect("ada", link, token: ada, daemon)
                    #expect(answer.status == .forbidden, "\(link)")
                    #expect(answer.problem?.code == "not_your_event_type")
                    #expect(answer.problem?.detail.contains("grace.hopper") == false)
                }
                #expect(try await daemon.allEvents().count == logged)
                let after = try await appointments(of: "ada", daemon)
                #expect(after == before)
                #expect(after.isDisjoint(with: grace))
                #expect(try await appointments(of: "grace", daemon) == grace)
                // What Ada reads through her own token holds nothing of Grace's invitees.
                let own = try await daemon.call(.init(method: .get, path: "/experts/ada/appointments?limit=1000", json: nil), authorization: "Bearer \(ada)")
                #expect(!String(decoding: own.body, as: UTF8.self).contains("grace.hopper@experts.example"))

                // Her own event type she may connect.
                #expect(try await connect("ada", "https://calendly.com/ada-lovelace/15min-intro", token: ada, daemon).status == .ok)
            }
        }
    }

    @Test func anEmailAnExpertTypedFindsNoAppointments() async throws {
        try await withCalendly { baseURL, _ in
            try await withDaemon(CalendlyConnectTests().configuration(baseURL)) { daemon in
                // Grace is not connected: her appointments are hers by the email the admin set.
                let (ada, head) = try await setUp(daemon, connectGrace: false)
                let grace = try await appointments(of: "grace", daemon, after: head)
                let before = try await appointments(of: "ada", daemon)
                #expect(grace.count == 15)

                let profile = #"{"name":"Ada Lovelace","email":"grace.hopper@experts.example","timezone":"Europe/London"}"#
                let changed = try await daemon.call(.init(method: .put, path: "/experts/ada", json: profile), authorization: "Bearer \(ada)")
                #expect(changed.status == .ok)
                #expect(changed.json["email"] as? String == "grace.hopper@experts.example")
                let position = try #require(changed.logPosition)
                let after = try await appointments(of: "ada", daemon, after: position)
                #expect(after == before)
                #expect(after.isDisjoint(with: grace))
                #expect(try await appointments(of: "grace", daemon) == grace)
                // The typed email does not make Grace's event types hers either.
                #expect(try await connect("ada", Self.workshopLink, token: ada, daemon).problem?.code == "not_your_event_type")
            }
        }
    }

    @Test func theAdminMayConnectAnyEventTypeButNotATakenOne() async throws {
        try await withCalendly { baseURL, _ in
            try await withDaemon(CalendlyConnectTests().configuration(baseURL)) { daemon in
                let (_, head) = try await setUp(daemon, connectGrace: true)
                let grace = try await appointments(of: "grace", daemon, after: head)
                let taken = try await daemon.call(.put, "/experts/alan/integration", json: #"{"type":"calendly","event_link":"\#(Self.graceLink)"}"#)
                #expect(taken.status == .conflict)
                #expect(taken.problem?.code == "event_type_taken")
                #expect(try await appointments(of: "grace", daemon) == grace)
                // An organization that manages its experts' accounts: the admin connects any.
                let workshop = try await daemon.call(.put, "/experts/alan/integration", json: #"{"type":"calendly","event_link":"\#(Self.workshopLink)"}"#)
                #expect(workshop.status == .ok)
                // Connecting the expert that holds it again is no conflict.
                #expect(try await daemon.call(.put, "/experts/grace/integration", json: #"{"type":"calendly","event_link":"\#(Self.graceLink)"}"#).status == .ok)
            }
        }
    }

    /// A host is found by the Calendly user URI of a connected expert, whatever email the
    /// admin set: Grace's Compiler Workshop (not the event type she connected) is hers.
    @Test func aConnectedUserClaimsTheEventsSheHosts() async throws {
        try await withCalendly { baseURL, _ in
            try await withDaemon(CalendlyConnectTests().configuration(baseURL)) { daemon in
                #expect(try await daemon.call(.put, "/experts/grace", json: #"{"name":"Grace Hopper","email":"grace@elsewhere.example","timezone":"America/New_York"}"#).status == .ok)
                let head = try await daemon.sendFixtures()
                #expect(try await appointments(of: "grace", daemon, after: head).isEmpty)
                let connected = try await daemon.call(.put, "/experts/grace/integration", json: #"{"type":"calendly","event_link":"\#(Self.graceLink)"}"#)
                #expect(connected.status == .ok)
                let mine = try await appointments(of: "grace", daemon, after: try #require(connected.logPosition))
                #expect(mine.count == 15)  // her 60-minute ones by event type, the workshop's four by her user
            }
        }
    }
}
