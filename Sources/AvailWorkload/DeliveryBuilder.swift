import AvailCore
import Crypto
import Foundation

/// Builds realistic Calendly delivery bodies (about 2 KB, the shape of Calendly's invitee
/// payload) for tests and the load generator. Deterministic: the same arguments give the same bytes.
public struct DeliveryBuilder: Sendable {
    public var hostEmail: String
    public var hostName: String
    public var eventTypeUUID: String
    public var userUUID: String

    public init(
        hostEmail: String = "ada.lovelace@experts.example",
        hostName: String = "Ada Lovelace",
        eventTypeUUID: String = "3f2a8c10-6b1e-4c55-9d7a-0a1b2c3d4e01",
        userUUID: String = "8c6f1e2d-4b3a-4f5e-9a8b-7c6d5e4f3a01"
    ) {
        self.hostEmail = hostEmail
        self.hostName = hostName
        self.eventTypeUUID = eventTypeUUID
        self.userUUID = userUUID
    }

    /// A UUID-shaped identifier derived from `seed` and `index`, so generated corpora are
    /// reproducible.
    public static func uuid(_ seed: String, _ index: Int) -> String {
        let digits = Array(Hex.encode(SHA256.hash(data: Data("\(seed)/\(index)".utf8))))
        return String(digits[0..<8]) + "-" + String(digits[8..<12]) + "-4" + String(digits[13..<16]) + "-a"
            + String(digits[17..<20]) + "-" + String(digits[20..<32])
    }

    public static func inviteeURI(event: String, invitee: String) -> String {
        "https://api.calendly.com/scheduled_events/\(event)/invitees/\(invitee)"
    }

    /// `invitee.created` (or `invitee.canceled` with `canceled: true`) for invitee number `index`.
    public func invitee(
        _ name: String = "invitee.created",
        index: Int,
        seed: String = "load",
        createdAt: Timestamp = Timestamp(microseconds: 1_795_000_000_000_000),
        start: Timestamp = Timestamp(microseconds: 1_796_000_000_000_000)
    ) -> Data {
        invitee(
            name, eventUUID: Self.uuid(seed + "-event", index), inviteeUUID: Self.uuid(seed + "-invitee", index),
            index: index, createdAt: createdAt, start: start)
    }

    /// Any invitee delivery: `invitee.created`, `invitee.canceled` (a reschedule when
    /// `newInvitee` is set), or `invitee_no_show.created|deleted` in the Invitee form.
    public func invitee(
        _ name: String,
        eventUUID: String,
        inviteeUUID: String,
        index: Int,
        createdAt: Timestamp,
        start: Timestamp,
        oldInvitee: String? = nil,
        newInvitee: String? = nil
    ) -> Data {
        let canceled = name == "invitee.canceled"
        let uri = Self.inviteeURI(event: eventUUID, invitee: inviteeUUID)
        let eventURI = "https://api.calendly.com/scheduled_events/\(eventUUID)"
        let end = Timestamp(microseconds: start.microseconds + 30 * 60 * 1_000_000)
        let cancellation = canceled
            ? #"{"canceled_by":"Invitee \#(index)","reason":"Conflict","canceler_type":"invitee","created_at":"\#(createdAt)"}"#
            : "null"
        let noShow = name == "invitee_no_show.created"
            ? #"{"uri":"https://api.calendly.com/invitee_no_shows/\#(Self.uuid(inviteeUUID, Int(createdAt.microseconds % 1_000_000)))","created_at":"\#(createdAt)"}"#
            : "null"
        func quoted(_ text: String?) -> String { text.map { "\"\($0)\"" } ?? "null" }
        let payload = """
            {"cancel_url":"https://calendly.com/cancellations/\(inviteeUUID)","created_at":"\(createdAt)",\
            "email":"invitee\(index)@example.com","event":"\(eventURI)","first_name":null,"last_name":null,\
            "name":"Invitee \(index)","new_invitee":\(quoted(newInvitee)),"old_invitee":\(quoted(oldInvitee)),"payment":null,\
            "questions_and_answers":[{"answer":"I would like to talk about the roadmap for next quarter.","position":0,"question":"What should we discuss?"}],\
            "reconfirmation":null,"reschedule_url":"https://calendly.com/reschedulings/\(inviteeUUID)",\
            "rescheduled":\(newInvitee != nil),"routing_form_submission":null,"scheduling_method":null,\
            "status":"\(canceled ? "canceled" : "active")","text_reminder_number":null,"timezone":"Europe/Berlin",\
            "tracking":{"utm_campaign":null,"utm_source":null,"utm_medium":null,"utm_content":null,"utm_term":null,"salesforce_uuid":null},\
            "updated_at":"\(createdAt)","uri":"\(uri)","no_show":\(noShow),"cancellation":\(cancellation),\
            "scheduled_event":{"uri":"\(eventURI)","name":"30 Minute Meeting","status":"\(canceled ? "canceled" : "active")",\
            "start_time":"\(start)","end_time":"\(end)",\
            "event_type":"https://api.calendly.com/event_types/\(eventTypeUUID)",\
            "location":{"type":"zoom","location":null,"join_url":"https://calendly.zoom.us/j/\(index)","status":"pushed"},\
            "invitees_counter":{"total":1,"active":\(canceled ? 0 : 1),"limit":1},\
            "created_at":"\(createdAt)","updated_at":"\(createdAt)",\
            "event_memberships":[{"user":"https://api.calendly.com/users/\(userUUID)","user_email":"\(hostEmail)","user_name":"\(hostName)"}],\
            "event_guests":[]}}
            """
        let envelope = """
            {"event":"\(name)","created_at":"\(createdAt)","created_by":"https://api.calendly.com/users/\(userUUID)","payload":\(payload)}
            """
        return Data(envelope.utf8)
    }
}
