import Foundation

/// availd's record of a booking or a cancellation it made through Calendly's API (source
/// `api`): a delivery-shaped body, `{event, created_at, payload}`, whose payload is the Invitee
/// resource Calendly answered (with the reschedule links availd adds). The fold reads it like
/// the webhook that follows, so both land on the same appointment.
public enum CalendlyBooking {
    public static let bookedType = "calendly.invitee_booked"
    public static let canceledType = "calendly.invitee_canceled"

    /// The body to log. `invitee` is the Invitee resource (JSON object); `links` are set on it.
    public static func body(
        event: String, invitee: Data, at: Timestamp, oldInvitee: String? = nil, newInvitee: String? = nil
    ) throws -> Data {
        guard var payload = try JSONSerialization.jsonObject(with: invitee) as? [String: Any] else {
            throw CocoaError(.coderReadCorrupt)
        }
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
        (try? JSONSerialization.jsonObject(with: invitee) as? [String: Any])?["uri"] as? String
    }
}
