import Foundation

/// availd's record of a booking or a cancellation it made through Calendly's API (source
/// `api`): a delivery-shaped body, `{event, created_at, payload}`, whose payload is the Invitee
/// resource Calendly answered with the scheduled event Calendly answered embedded as
/// `scheduled_event` (the API's Invitee carries only the event's URI; a webhook payload embeds
/// the event), and the reschedule links availd adds. The fold reads it like the webhook that
/// follows, so both land on the same appointment.
public enum CalendlyBooking {
    public static let bookedType = "calendly.invitee_booked"
    public static let canceledType = "calendly.invitee_canceled"

    /// The body to log. `invitee` is the Invitee resource and `scheduledEvent` the Scheduled
    /// Event resource (JSON objects).
    public static func body(
        event: String, invitee: Data, scheduledEvent: Data, at: Timestamp, oldInvitee: String? = nil,
        newInvitee: String? = nil
    ) throws -> Data {
        guard var payload = try JSONSerialization.jsonObject(with: invitee) as? [String: Any],
            let scheduled = try JSONSerialization.jsonObject(with: scheduledEvent) as? [String: Any]
        else {
            throw CocoaError(.coderReadCorrupt)
        }
        payload["scheduled_event"] = scheduled
        if let oldInvitee { payload["old_invitee"] = oldInvitee }
        if let newInvitee {
            payload["new_invitee"] = newInvitee
            payload["rescheduled"] = true
        }
        let envelope: [String: Any] = ["event": event, "created_at": at.description, "payload": payload]
        return try JSONSerialization.data(withJSONObject: envelope, options: [.sortedKeys, .withoutEscapingSlashes])
    }

    /// The invitee URI inside a resource.
    public static func inviteeURI(_ invitee: Data) -> String? {
        string("uri", in: invitee)
    }

    /// The scheduled event's URI inside an Invitee resource (`event`).
    public static func scheduledEventURI(_ invitee: Data) -> String? {
        string("event", in: invitee)
    }

    private static func string(_ key: String, in resource: Data) -> String? {
        (try? JSONSerialization.jsonObject(with: resource) as? [String: Any])?[key] as? String
    }
}
