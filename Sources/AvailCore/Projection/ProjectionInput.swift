import Foundation

/// A log event read for the fold: what it says, in the fold's terms.
public enum ProjectionInput: Sendable {
    case inviteeCreated(inviteeURI: String, snapshot: InviteeSnapshot, oldInvitee: String?, version: FactVersion)
    case inviteeCanceled(inviteeURI: String, cancellation: Cancellation, newInvitee: String?, version: FactVersion)
    case noShow(inviteeURI: String, isNoShow: Bool, snapshot: InviteeSnapshot?, version: FactVersion)
    case expert(ExpertEvent)
    case appointment(AppointmentEvent)
    /// Reconciliation saw the invitee without a no-show (at `version`).
    case noShowObservedAbsent(inviteeURI: String, version: FactVersion)
    /// Links a reschedule's two invitees (what either half of the pair says).
    case rescheduleLink(from: String, to: String)
    /// Several inputs from one event: an observation of an invitee (`InviteeObservation`).
    indirect case observed([ProjectionInput])
    /// Kept in the log, not projected: unknown names and resources availd does not model.
    case skipped

    /// Invitee URIs whose facts applying this input reads or changes.
    public var inviteeURIs: [String] {
        switch self {
        case .inviteeCreated(let uri, _, let other, _), .inviteeCanceled(let uri, _, let other, _):
            [uri] + (other.map { [$0] } ?? [])
        case .noShow(let uri, _, _, _), .noShowObservedAbsent(let uri, _): [uri]
        case .rescheduleLink(let from, let to): [from, to]
        case .observed(let inputs): inputs.flatMap(\.inviteeURIs)
        case .expert, .appointment, .skipped: []
        }
    }

    /// Ids of the appointments availd booked itself that applying this input reads or changes.
    public var appointmentIDs: [String] {
        switch self {
        case .appointment(.rescheduled(let event)): [event.appointmentID, event.newAppointmentID]
        case .appointment(let event): [event.appointmentID]
        default: []
        }
    }

    /// Reads `event`; throws `ParkReason` when it is meant for the fold but cannot be applied.
    public init(_ event: LogEvent) throws(ParkReason) {
        switch (event.event.source, event.event.type) {
        case (.calendly, "invitee.created"), (.calendly, "invitee.canceled"),
            (.calendly, "invitee_no_show.created"), (.calendly, "invitee_no_show.deleted"):
            self = try Self.invitee(event)
        case (.api, CalendlyBooking.bookedType), (.api, CalendlyBooking.canceledType):
            // What availd did through Calendly's API, recorded with the Invitee resource
            // Calendly answered: the same facts its webhook will bring, under the same URI.
            self = try Self.invitee(event)
        case (.reconcile, InviteeObservation.type):
            self = try Self.observation(event.event.body, dedupeKey: event.event.dedupeKey)
        case (.api, _):
            do {
                if let expert = try ExpertEvent.decode(type: event.event.type, body: event.event.body) {
                    self = .expert(expert)
                } else {
                    self = try AppointmentEvent.decode(type: event.event.type, body: event.event.body).map(Self.appointment) ?? .skipped
                }
            } catch {
                throw ParkReason("\(event.event.type) body does not decode: \(Self.describe(error))")
            }
        default:
            self = .skipped
        }
    }

    private static func invitee(_ event: LogEvent) throws(ParkReason) -> ProjectionInput {
        let delivery: InviteeDelivery
        do {
            delivery = try InviteeDelivery.scan(event.event.body)
        } catch {
            throw ParkReason("payload does not decode: \(error)")
        }
        let payload = delivery.payload
        // Calendly's own delivery wins over availd's record of the same moment.
        let rank = event.event.source == .api ? -1 : (delivery.event == "invitee_no_show.deleted" ? 1 : 0)
        let version = FactVersion(
            at: delivery.createdAt.map { Timestamp(rfc3339: $0)?.description ?? $0 } ?? "",
            rank: rank,
            key: event.event.dedupeKey.rawValue)
        switch delivery.event {
        case "invitee.created":
            let uri = try required(payload.uri, "payload.uri")
            return .inviteeCreated(
                inviteeURI: uri, snapshot: try InviteeSnapshot(payload), oldInvitee: nonEmpty(payload.oldInvitee),
                version: version)
        case "invitee.canceled":
            let uri = try required(payload.uri, "payload.uri")
            let cancellation = Cancellation(
                snapshot: try InviteeSnapshot(payload),
                rescheduled: payload.rescheduled ?? false,
                canceledBy: payload.cancellation?.canceledBy,
                reason: payload.cancellation?.reason,
                cancelerType: payload.cancellation?.cancelerType,
                canceledAt: try time(payload.cancellation?.createdAt, "payload.cancellation.created_at"))
            return .inviteeCanceled(
                inviteeURI: uri, cancellation: cancellation, newInvitee: nonEmpty(payload.newInvitee), version: version)
        default:
            // Two documented forms: the Invitee itself (`uri` is the invitee), or a bare
            // no-show `{uri, invitee, created_at}` (`uri` is the no-show).
            let bare = payload.invitee != nil
            let uri = try required(payload.invitee ?? payload.uri, bare ? "payload.invitee" : "payload.uri")
            return .noShow(
                inviteeURI: uri,
                isNoShow: delivery.event == "invitee_no_show.created",
                snapshot: bare ? nil : try InviteeSnapshot(payload),
                version: version)
        }
    }

    /// An invitee URI the delivery must name. URIs key the fold's facts and the read models'
    /// rows, so they are taken in NFC (see `String.nfc`).
    static func required(_ value: String?, _ field: String) throws(ParkReason) -> String {
        guard let value = nonEmpty(value) else { throw ParkReason("\(field) is missing") }
        return value
    }

    /// An invitee URI the delivery may name, in NFC.
    static func nonEmpty(_ value: String?) -> String? {
        value.flatMap { $0.isEmpty ? nil : $0.nfc }
    }

    static func time(_ text: String?, _ field: String) throws(ParkReason) -> Timestamp? {
        guard let text else { return nil }
        guard let time = Timestamp(rfc3339: text) else { throw ParkReason("\(field) is not an RFC 3339 time: \(text)") }
        return time
    }

    private static func describe(_ error: any Error) -> String {
        guard let error = error as? DecodingError else { return "not valid JSON" }
        switch error {
        case .keyNotFound(let key, let context):
            return "\((context.codingPath + [key]).map(\.stringValue).joined(separator: ".")) is missing"
        case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
            let path = context.codingPath.map(\.stringValue).joined(separator: ".")
            return path.isEmpty ? context.debugDescription : "\(path): \(context.debugDescription)"
        @unknown default:
            return "not decodable"
        }
    }
}

/// Why an event meant for the fold could not be applied. The event stays in the log; the
/// projector parks it with this reason and carries on.
public struct ParkReason: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}

extension InviteeSnapshot {
    init(_ payload: InviteePayload) throws(ParkReason) {
        let event = payload.scheduledEvent
        var emails = Set<String>(), users = Set<String>()
        for membership in event?.eventMemberships ?? [] {
            if let email = membership.userEmail.map(EmailAddress.normalize), !email.isEmpty { emails.insert(email) }
            if let user = membership.user, !user.isEmpty { users.insert(user.nfc) }
        }
        self.init(
            name: payload.name,
            email: payload.email,
            timezone: payload.timezone,
            scheduledEventURI: event?.uri ?? payload.event,
            eventTypeURI: event?.eventType?.nfc,
            startTime: try ProjectionInput.time(event?.startTime, "payload.scheduled_event.start_time"),
            endTime: try ProjectionInput.time(event?.endTime, "payload.scheduled_event.end_time"),
            hostEmails: emails.sorted(),
            hostUsers: users.sorted(),
            createdAt: try ProjectionInput.time(payload.createdAt, "payload.created_at"),
            updatedAt: try ProjectionInput.time(payload.updatedAt, "payload.updated_at"))
    }
}

public enum EmailAddress {
    /// How emails are compared when matching an expert: trimmed, lower-cased, in NFC (so the
    /// host index's bytes agree with Swift's `==`).
    public static func normalize(_ email: String) -> String {
        asciiNormalized(email) ?? email.trimmingCharacters(in: .whitespacesAndNewlines).lowercased().nfc
    }

    /// The same for ASCII, as every host email of a delivery is, without Foundation (which was
    /// a seventh of a delivery's decode in a rebuild): ASCII's white space and newlines are
    /// U+0009 to U+000D and the space, its case is A to Z, and it is NFC already. Nil for text
    /// that is not ASCII.
    static func asciiNormalized(_ email: String) -> String? {
        var email = email
        return email.withUTF8 { utf8 -> String? in
            guard utf8.allSatisfy({ $0 < 0x80 }) else { return nil }
            func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || (0x09...0x0D).contains(byte) }
            guard let first = utf8.firstIndex(where: { !isSpace($0) }), let last = utf8.lastIndex(where: { !isSpace($0) }) else {
                return ""
            }
            let trimmed = UnsafeBufferPointer(rebasing: utf8[first...last])
            return String(unsafeUninitializedCapacity: trimmed.count) { out in
                for (index, byte) in trimmed.enumerated() {
                    out[index] = (0x41...0x5A).contains(byte) ? byte | 0x20 : byte
                }
                return trimmed.count
            }
        }
    }
}

extension ProjectionInput {
    /// Reads `events` on every core at once; the results are in the events' order.
    public static func decodeConcurrently(_ events: [LogEvent]) -> [Result<ProjectionInput, ParkReason>] {
        events.concurrentMap { event in Result { () throws(ParkReason) in try ProjectionInput(event) } }
    }
}
