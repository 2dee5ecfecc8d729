import AvailClient
import AvailCore
import Foundation
import Synchronization

/// Invitees booked through the stand-in, in the shape Calendly's Invitee resource has.
struct StandInInvitee: Codable, Sendable {
    var uri: String
    var email: String
    var name: String
    var timezone: String?
    var status: String
    var event: String
    var createdAt: String
    var updatedAt: String
    var rescheduled: Bool
    var oldInvitee: String?
    var newInvitee: String?
    var cancelURL: String
    var rescheduleURL: String
    var cancellation: Cancellation?
    var noShow: String?
    var scheduledEvent: ScheduledEvent

    struct Cancellation: Codable, Sendable {
        var canceledBy: String
        var reason: String?
        var cancelerType: String
        var createdAt: String

        enum CodingKeys: String, CodingKey {
            case reason
            case canceledBy = "canceled_by", cancelerType = "canceler_type", createdAt = "created_at"
        }
    }

    struct ScheduledEvent: Codable, Sendable {
        var uri: String
        var name: String
        var status: String
        var startTime: String
        var endTime: String
        var eventType: String
        var eventMemberships: [Membership]
        var createdAt: String
        var updatedAt: String

        struct Membership: Codable, Sendable {
            var user: String
            var userEmail: String?
            var userName: String

            enum CodingKeys: String, CodingKey {
                case user
                case userEmail = "user_email", userName = "user_name"
            }
        }

        enum CodingKeys: String, CodingKey {
            case uri, name, status
            case startTime = "start_time", endTime = "end_time", eventType = "event_type"
            case eventMemberships = "event_memberships", createdAt = "created_at", updatedAt = "updated_at"
        }
    }

    enum CodingKeys: String, CodingKey {
        case uri, email, name, timezone, status, event, rescheduled, cancellation
        case createdAt = "created_at", updatedAt = "updated_at", oldInvitee = "old_invitee", newInvitee = "new_invitee"
        case cancelURL = "cancel_url", rescheduleURL = "reschedule_url", noShow = "no_show", scheduledEvent = "scheduled_event"
    }

    func encode(to encoder: any Encoder) throws {
        // Calendly writes null fields; so does the stand-in.
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(uri, forKey: .uri)
        try container.encode(email, forKey: .email)
        try container.encode(name, forKey: .name)
        try container.encode(timezone, forKey: .timezone)
        try container.encode(status, forKey: .status)
        try container.encode(event, forKey: .event)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(updatedAt, forKey: .updatedAt)
        try container.encode(rescheduled, forKey: .rescheduled)
        try container.encode(oldInvitee, forKey: .oldInvitee)
        try container.encode(newInvitee, forKey: .newInvitee)
        try container.encode(cancelURL, forKey: .cancelURL)
        try container.encode(rescheduleURL, forKey: .rescheduleURL)
        try container.encode(cancellation, forKey: .cancellation)
        try container.encode(noShow, forKey: .noShow)
        try container.encode(scheduledEvent, forKey: .scheduledEvent)
    }
}

final class StandInBookings: Sendable {
    /// By scheduled-event UUID.
    private let invitees = Mutex<[String: StandInInvitee]>([:])

    /// A new scheduled event of `eventType` with one invitee, as `POST /invitees` makes it.
    func book(_ eventType: CalendlyEventType, owner: CalendlyUser, start: Timestamp, name: String, email: String, timezone: String?)
        -> StandInInvitee
    {
        let now = Timestamp.now()
        let eventUUID = UUID().uuidString.lowercased(), inviteeUUID = UUID().uuidString.lowercased()
        let eventURI = "https://api.calendly.com/scheduled_events/\(eventUUID)"
        let end = Timestamp(microseconds: start.microseconds + Int64(CalendlyConfig.slotMinutes(eventType.duration)) * 60_000_000)
        let invitee = StandInInvitee(
            uri: "\(eventURI)/invitees/\(inviteeUUID)", email: email, name: name, timezone: timezone, status: "active",
            event: eventURI, createdAt: "\(now)", updatedAt: "\(now)", rescheduled: false, oldInvitee: nil, newInvitee: nil,
            cancelURL: "https://calendly.com/cancellations/\(inviteeUUID)", rescheduleURL: "https://calendly.com/reschedulings/\(inviteeUUID)",
            cancellation: nil, noShow: nil,
            scheduledEvent: .init(
                uri: eventURI, name: eventType.name, status: "active", startTime: "\(start)", endTime: "\(end)",
                eventType: eventType.uri, eventMemberships: [.init(user: owner.uri, userEmail: owner.email, userName: owner.name)],
                createdAt: "\(now)", updatedAt: "\(now)"))
        invitees.withLock { $0[eventUUID] = invitee }
        return invitee
    }

    func invitee(eventUUID: String) -> StandInInvitee? {
        invitees.withLock { $0[eventUUID] }
    }

    /// Marks the event's invitee canceled; nil when there is none or it is canceled already.
    func cancel(eventUUID: String, reason: String?, by host: String, at: Timestamp) -> StandInInvitee? {
        invitees.withLock { invitees in
            guard var invitee = invitees[eventUUID], invitee.status == "active" else { return nil }
            invitee.status = "canceled"
            invitee.updatedAt = "\(at)"
            invitee.cancellation = .init(canceledBy: host, reason: reason, cancelerType: "host", createdAt: "\(at)")
            invitee.scheduledEvent.status = "canceled"
            invitee.scheduledEvent.updatedAt = "\(at)"
            invitees[eventUUID] = invitee
            return invitee
        }
    }

    /// Start times already taken for an event type.
    func busy(eventType: String) -> [TimeRange] {
        invitees.withLock { invitees in
            invitees.values.filter { $0.scheduledEvent.eventType == eventType && $0.status == "active" }.compactMap {
                guard let start = Timestamp(rfc3339: $0.scheduledEvent.startTime), let end = Timestamp(rfc3339: $0.scheduledEvent.endTime)
                else { return nil }
                return TimeRange(start: start, end: end)
            }
        }
    }
}
