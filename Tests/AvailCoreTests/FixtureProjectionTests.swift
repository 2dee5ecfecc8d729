import AvailCore
import AvailTesting
import AvailWorkload
import Foundation
import Testing

/// The fold over the fixture corpus gives exactly the appointments `fixtures/README.md` lists
/// (`python3 fixtures/check.py --appointments` prints the same table).
@Suite struct FixtureProjectionTests {
    struct Row: Sendable, CustomStringConvertible {
        var invitee: String
        var expert: String
        var start: String
        var status: AppointmentStatus
        var rescheduledFrom: String?
        var rescheduledTo: String?
        var noShow: Bool

        init(_ invitee: String, _ expert: String, _ start: String, _ status: AppointmentStatus, _ from: String?, _ to: String?, _ noShow: Bool) {
            self.invitee = invitee
            self.expert = expert
            self.start = start
            self.status = status
            self.rescheduledFrom = from
            self.rescheduledTo = to
            self.noShow = noShow
        }

        var description: String { invitee }
    }

    static let expected: [Row] = [
        Row("00fceb1f", "ada", "2026-12-01T10:00Z", .scheduled, nil, nil, false),
        Row("dc15de90", "ada", "2026-12-02T14:00Z", .scheduled, nil, nil, true),
        Row("fd117713", "ada", "2026-12-02T15:30Z", .scheduled, nil, nil, false),
        Row("5bb5851a", "alan", "2026-12-03T11:00Z", .scheduled, nil, nil, false),
        Row("2b6dda9e", "grace", "2026-12-03T15:00Z", .scheduled, nil, nil, false),
        Row("bf468256", "ada", "2026-12-04T14:00Z", .canceled, nil, nil, false),
        Row("11ccf0e3", "grace", "2026-12-04T18:00Z", .scheduled, nil, nil, false),
        Row("79c8cfe0", "ada", "2026-12-07T10:00Z", .rescheduled, nil, "99580b36", false),
        Row("ed1c8eed", "grace", "2026-12-07T19:00Z", .scheduled, nil, nil, false),
        Row("ea82186a", "alan", "2026-12-08T09:00Z", .scheduled, nil, nil, false),
        Row("99580b36", "ada", "2026-12-09T10:30Z", .scheduled, "79c8cfe0", nil, false),
        Row("c14ba7e0", "grace", "2026-12-09T20:00Z", .canceled, nil, nil, false),
        Row("56b4fcbc", "alan", "2026-12-10T13:30Z", .scheduled, nil, nil, false),
        Row("73e830cc", "grace", "2026-12-10T15:00Z", .rescheduled, nil, "f2913d5c", false),
        Row("6e33ba69", "alan", "2026-12-11T08:30Z", .scheduled, nil, nil, false),
        Row("6032b3c0", "ada", "2026-12-11T13:00Z", .scheduled, nil, nil, false),
        Row("f2913d5c", "grace", "2026-12-11T17:00Z", .scheduled, "73e830cc", nil, false),
        Row("4e736249", "alan", "2026-12-14T14:00Z", .canceled, nil, nil, false),
        Row("514ab0e3", "grace", "2026-12-14T16:00Z", .scheduled, nil, nil, false),
        Row("a16f6ea1", "alan", "2026-12-15T09:00Z", .rescheduled, nil, "a07f6810", false),
        Row("c4876f2c", "ada", "2026-12-16T09:30Z", .canceled, nil, nil, false),
        Row("f2d34055", "alan", "2026-12-16T12:00Z", .scheduled, nil, nil, false),
        Row("a07f6810", "alan", "2026-12-17T10:00Z", .rescheduled, "a16f6ea1", "37c23847", false),
        Row("43a5885e", "ada", "2026-12-17T10:00Z", .scheduled, nil, nil, false),
        Row("d2656eb4", "grace", "2026-12-18T15:00Z", .scheduled, nil, nil, false),
        Row("2b3209df", "alan", "2026-12-21T10:15Z", .scheduled, nil, nil, false),
        Row("87187a96", "ada", "2026-12-22T16:00Z", .canceled, nil, nil, false),
        Row("fc1aed47", "grace", "2026-12-23T21:00Z", .scheduled, nil, nil, false),
        Row("41135207", "ada", "2027-01-05T11:00Z", .scheduled, nil, nil, false),
        Row("a3a4745a", "grace", "2027-01-06T16:00Z", .scheduled, nil, nil, false),
        Row("870e4709", "grace", "2027-01-08T15:00Z", .canceled, nil, nil, false),
        Row("0a362815", "alan", "2027-01-11T10:00Z", .scheduled, nil, nil, false),
        Row("37c23847", "alan", "2027-01-12T11:00Z", .scheduled, "a07f6810", nil, false),
        Row("f9d77f36", "grace", "2027-01-13T16:00Z", .scheduled, nil, nil, false),
        Row("d7388bd0", "grace", "2027-01-13T16:00Z", .canceled, nil, nil, false),
        Row("b9a0621c", "grace", "2027-01-13T16:00Z", .scheduled, nil, nil, false),
        Row("55fc5f69", "grace", "2027-01-13T16:00Z", .scheduled, nil, nil, false),
        Row("ed164f10", "alan", "2027-01-14T14:00Z", .scheduled, nil, nil, false),
    ]

    /// The experts first (connected to their event types), then every fixture delivery.
    static func projection(connecting: Bool = true) throws -> Projection {
        var projection = Projection()
        var position: Int64 = 0
        for expert in Corpus.experts {
            for event in Corpus.setUp(expert, connectingEventType: connecting) {
                position += 1
                projection.apply(Corpus.event(event, position: position))
            }
        }
        for event in try Corpus.events(try Corpus.fixtureBodies(), startingAt: position + 1) {
            projection.apply(event)
        }
        return projection
    }

    static func inviteeUUID(_ appointment: Appointment) -> String {
        String(appointment.externalInviteeURI!.split(separator: "/").last!)
    }

    @Test(arguments: expected)
    func projectsTheExpectedAppointment(row: Row) throws {
        let appointments = try Self.projection().appointments
        let byInvitee = Dictionary(uniqueKeysWithValues: appointments.map { (Self.inviteeUUID($0), $0) })
        let appointment = try #require(byInvitee.first { $0.key.hasPrefix(row.invitee) }?.value)
        #expect(appointment.expertID == row.expert)
        #expect(appointment.startTime.map { "\($0)".replacingOccurrences(of: ":00.000000Z", with: "Z") } == row.start)
        #expect(appointment.status == row.status)
        #expect(appointment.noShow == row.noShow)
        func prefix(_ id: String?) -> String? {
            id.flatMap { id in byInvitee.first { $0.value.id == id }.map { String($0.key.prefix(8)) } }
        }
        #expect(prefix(appointment.rescheduledFrom) == row.rescheduledFrom)
        #expect(prefix(appointment.rescheduledTo) == row.rescheduledTo)
    }

    @Test func projectsNothingElse() throws {
        let projection = try Self.projection()
        #expect(projection.appointments.count == Self.expected.count)
        #expect(projection.parked.isEmpty)
    }

    @Test func reschedulesLinkBothWays() throws {
        let appointments = try Self.projection().appointments
        let byID = Dictionary(uniqueKeysWithValues: appointments.map { ($0.id, $0) })
        for appointment in appointments {
            if let next = appointment.rescheduledTo { #expect(byID[next]?.rescheduledFrom == appointment.id) }
            if let previous = appointment.rescheduledFrom { #expect(byID[previous]?.rescheduledTo == appointment.id) }
        }
    }

    @Test func withoutEventTypesExpertsAreMatchedByEmail() throws {
        // Before part 3 resolves links, `event_type_uri` is null: the host email decides.
        let appointments = try Self.projection(connecting: false).appointments
        let expected = Dictionary(uniqueKeysWithValues: Self.expected.map { ($0.invitee, $0.expert) })
        for appointment in appointments {
            let prefix = String(Self.inviteeUUID(appointment).prefix(8))
            #expect(appointment.expertID == expected[prefix], "\(prefix)")
        }
    }
}
