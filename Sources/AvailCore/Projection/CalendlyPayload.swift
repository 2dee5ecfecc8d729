import Foundation

/// The parts of Calendly's Invitee resource the fold reads. Every field is optional: Calendly's
/// own examples leave out `scheduled_event`, `cancellation.created_at` and more (CALENDLY.md).
struct InviteePayload: Decodable, Sendable {
    var uri: String?
    var email: String?
    var name: String?
    var timezone: String?
    var event: String?
    var createdAt: String?
    var updatedAt: String?
    var rescheduled: Bool?
    var oldInvitee: String?
    var newInvitee: String?
    var cancellation: CancellationPayload?
    var noShow: NoShowPayload?
    var scheduledEvent: ScheduledEventPayload?
    /// The bare no-show form's `invitee`.
    var invitee: String?

    enum CodingKeys: String, CodingKey {
        case uri, email, name, timezone, event, rescheduled, cancellation, invitee
        case createdAt = "created_at", updatedAt = "updated_at"
        case oldInvitee = "old_invitee", newInvitee = "new_invitee"
        case noShow = "no_show", scheduledEvent = "scheduled_event"
    }
}

struct CancellationPayload: Decodable, Sendable {
    var canceledBy: String?
    var reason: String?
    var cancelerType: String?
    var createdAt: String?

    enum CodingKeys: String, CodingKey {
        case reason
        case canceledBy = "canceled_by", cancelerType = "canceler_type", createdAt = "created_at"
    }
}

struct NoShowPayload: Decodable, Sendable {
    var uri: String?
    var createdAt: String?

    enum CodingKeys: String, CodingKey {
        case uri
        case createdAt = "created_at"
    }
}

struct ScheduledEventPayload: Decodable, Sendable {
    var uri: String?
    var startTime: String?
    var endTime: String?
    var eventType: String?
    var eventMemberships: [Membership]?

    struct Membership: Decodable, Sendable {
        var userEmail: String?
        enum CodingKeys: String, CodingKey { case userEmail = "user_email" }
    }

    enum CodingKeys: String, CodingKey {
        case uri
        case startTime = "start_time", endTime = "end_time", eventType = "event_type"
        case eventMemberships = "event_memberships"
    }
}

/// A delivery's envelope with the invitee payload.
struct InviteeDelivery: Decodable, Sendable {
    var event: String
    var createdAt: String?
    var payload: InviteePayload

    enum CodingKeys: String, CodingKey {
        case event, payload
        case createdAt = "created_at"
    }
}
