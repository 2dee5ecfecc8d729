import Foundation

/// The parts of Calendly's Invitee resource the fold reads. Every field is optional: Calendly's
/// own examples leave out `scheduled_event`, `cancellation.created_at` and more.
struct InviteePayload: Decodable, Sendable, Equatable {
    var uri: String? = nil
    var email: String? = nil
    var name: String? = nil
    var timezone: String? = nil
    /// `active` | `canceled`: read by observations (a delivery's event name says it).
    var status: String? = nil
    var event: String? = nil
    var createdAt: String? = nil
    var updatedAt: String? = nil
    var rescheduled: Bool? = nil
    var oldInvitee: String? = nil
    var newInvitee: String? = nil
    var cancellation: CancellationPayload? = nil
    var noShow: NoShowPayload? = nil
    var scheduledEvent: ScheduledEventPayload? = nil
    /// The bare no-show form's `invitee`.
    var invitee: String? = nil

    enum CodingKeys: String, CodingKey {
        case uri, email, name, timezone, status, event, rescheduled, cancellation, invitee
        case createdAt = "created_at", updatedAt = "updated_at"
        case oldInvitee = "old_invitee", newInvitee = "new_invitee"
        case noShow = "no_show", scheduledEvent = "scheduled_event"
    }
}

struct CancellationPayload: Decodable, Sendable, Equatable {
    var canceledBy: String? = nil
    var reason: String? = nil
    var cancelerType: String? = nil
    var createdAt: String? = nil

    enum CodingKeys: String, CodingKey {
        case reason
        case canceledBy = "canceled_by", cancelerType = "canceler_type", createdAt = "created_at"
    }
}

struct NoShowPayload: Decodable, Sendable, Equatable {
    var uri: String? = nil
    var createdAt: String? = nil

    enum CodingKeys: String, CodingKey {
        case uri
        case createdAt = "created_at"
    }
}

struct ScheduledEventPayload: Decodable, Sendable, Equatable {
    var uri: String? = nil
    var startTime: String? = nil
    var endTime: String? = nil
    var eventType: String? = nil
    var eventMemberships: [Membership]? = nil

    struct Membership: Decodable, Sendable, Equatable {
        var user: String? = nil
        var userEmail: String? = nil
        enum CodingKeys: String, CodingKey {
            case user
            case userEmail = "user_email"
        }
    }

    enum CodingKeys: String, CodingKey {
        case uri
        case startTime = "start_time", endTime = "end_time", eventType = "event_type"
        case eventMemberships = "event_memberships"
    }
}

/// A delivery's envelope with the invitee payload. `package` for the fuzzer's check that
/// `scan` reads what `JSONDecoder` reads.
package struct InviteeDelivery: Decodable, Sendable, Equatable {
    package var event: String
    var createdAt: String? = nil
    var payload: InviteePayload

    enum CodingKeys: String, CodingKey {
        case event, payload
        case createdAt = "created_at"
    }
}
