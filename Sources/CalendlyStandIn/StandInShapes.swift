import AvailClient
import AvailCore
import Foundation

/// Calendly's resources exactly as Calendly's API reference gives them: every documented key, nulls
/// included, and no key more (`StandInShapeTests` compares them with
/// `fixtures/calendly-api/shapes.json`). A stand-in that embeds a convenient field hides the
/// bug real Calendly shows.
enum StandInShapes {
    typealias Object = [String: Any]

    static func user(_ user: CalendlyUser) -> Object {
        [
            "uri": user.uri, "name": user.name, "slug": nullable(user.slug), "email": nullable(user.email),
            "scheduling_url": nullable(user.schedulingURL), "timezone": nullable(user.timezone),
            "current_organization": nullable(user.currentOrganization),
        ]
    }

    static func eventType(_ eventType: CalendlyEventType, owner: CalendlyUser?) -> Object {
        [
            "uri": eventType.uri, "name": eventType.name, "slug": nullable(eventType.slug),
            "scheduling_url": eventType.schedulingURL, "duration": eventType.duration, "active": eventType.active ?? true,
            "kind": eventType.kind ?? "solo", "pooling_type": NSNull(), "type": "StandardEventType",
            "profile": [
                "type": "User", "name": nullable(owner?.name), "owner": nullable(eventType.profile?.owner),
            ] as Object,
        ]
    }

    /// `{collection, pagination}`; `next` is the offset of the next page, if any.
    static func page(_ items: [Object], path: String, next: String?, previous: String?) -> Object {
        let link = { (token: String) in "https://api.calendly.com\(path)\(path.contains("?") ? "&" : "?")page_token=\(token)" }
        return [
            "collection": items,
            "pagination": [
                "count": items.count,
                "next_page": nullable(next.map(link)),
                "next_page_token": nullable(next),
                "previous_page": nullable(previous.map(link)),
                "previous_page_token": nullable(previous),
            ] as Object,
        ]
    }

    /// A webhook subscription; `user` and `group` are null unless it has that scope. The
    /// signing key is never answered.
    static func webhookSubscription(_ subscription: StandInSubscription) -> Object {
        [
            "uri": subscription.uri, "callback_url": subscription.callbackURL, "created_at": subscription.createdAt,
            "updated_at": subscription.updatedAt, "retry_started_at": nullable(subscription.retryStartedAt),
            "state": subscription.state, "events": subscription.events, "scope": subscription.scope,
            "organization": subscription.organization, "user": nullable(subscription.user), "group": nullable(subscription.group),
            "creator": subscription.creator,
        ]
    }

    static func availableTime(start: Timestamp, schedulingURL: String) -> Object {
        ["status": "available", "invitees_remaining": 1, "start_time": "\(start)", "scheduling_url": schedulingURL]
    }

    /// The Invitee resource as the API answers it: `event` is the scheduled event's URI, and
    /// the event itself is not embedded.
    static func invitee(_ booking: StandInBooking) -> Object {
        let invitee = booking.invitee
        // `first_name` and `last_name` are null unless the booking page asks for them apart.
        var object: Object = [
            "uri": invitee.uri, "email": invitee.email, "name": invitee.name,
            "first_name": NSNull(), "last_name": NSNull(),
            "timezone": nullable(invitee.timezone), "status": invitee.status, "event": booking.eventURI,
            "created_at": invitee.createdAt, "updated_at": invitee.updatedAt,
            "rescheduled": invitee.rescheduled, "old_invitee": nullable(invitee.oldInvitee), "new_invitee": nullable(invitee.newInvitee),
            "cancel_url": invitee.cancelURL, "reschedule_url": invitee.rescheduleURL,
            "questions_and_answers": [Any](),
            "tracking": [
                "utm_campaign": NSNull(), "utm_source": NSNull(), "utm_medium": NSNull(), "utm_content": NSNull(),
                "utm_term": NSNull(), "salesforce_uuid": NSNull(),
            ] as Object,
            "text_reminder_number": NSNull(), "payment": NSNull(), "no_show": NSNull(), "reconfirmation": NSNull(),
            "routing_form_submission": NSNull(), "scheduling_method": NSNull(),
        ]
        if let cancellation = booking.cancellation { object["cancellation"] = self.cancellation(cancellation) }
        return object
    }

    /// `GET /scheduled_events/{uuid}`'s resource; a webhook payload embeds the same object.
    static func scheduledEvent(_ booking: StandInBooking) -> Object {
        var object: Object = [
            "uri": booking.eventURI, "name": booking.eventName, "status": booking.isActive ? "active" : "canceled",
            "start_time": "\(booking.start)", "end_time": "\(booking.end)", "event_type": booking.eventType,
            "location": ["type": "physical", "location": "Calendly stand-in"] as Object,
            "invitees_counter": ["total": 1, "active": booking.isActive ? 1 : 0, "limit": 1] as Object,
            "event_memberships": [
                ["user": booking.host.uri, "user_email": nullable(booking.host.email), "user_name": booking.host.name] as Object
            ],
            "event_guests": [Any](),
            "created_at": booking.eventCreatedAt, "updated_at": booking.eventUpdatedAt,
        ]
        if let cancellation = booking.cancellation { object["cancellation"] = self.cancellation(cancellation) }
        return object
    }

    /// A webhook payload: the Invitee resource with its scheduled event embedded.
    static func webhookPayload(_ booking: StandInBooking) -> Object {
        var payload = invitee(booking)
        payload["scheduled_event"] = scheduledEvent(booking)
        return payload
    }

    static func cancellation(_ cancellation: StandInBooking.Cancellation) -> Object {
        [
            "canceled_by": cancellation.canceledBy, "reason": nullable(cancellation.reason),
            "canceler_type": cancellation.cancelerType, "created_at": cancellation.createdAt,
        ]
    }

    static func error(title: String, message: String) -> Object {
        ["title": title, "message": message]
    }

    static func data(_ object: Object) throws -> Data {
        try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
    }

    private static func nullable(_ value: (some Any)?) -> Any {
        value.map { $0 as Any } ?? NSNull()
    }
}
