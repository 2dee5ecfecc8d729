import Crypto
import Foundation

/// What reconciliation saw at Calendly (source `reconcile`, type `calendly.invitee_observed`):
/// an Invitee resource and its scheduled event, each as the API answered it, in one body
/// `{"invitee": …, "scheduled_event": …}`.
///
/// The fold reads an observation as the delivery of the same facts: an active invitee as its
/// `invitee.created`, a canceled one as its `invitee.canceled` (with the reschedule links
/// either side names), a `no_show` as its `invitee_no_show.*`. So a log that missed a webhook
/// and then observed its state projects what the log with the webhook projects.
///
/// Its version sorts below a delivery of the same moment (`FactVersion.observed`): where the log already
/// holds Calendly's own word, that stands.
public enum InviteeObservation {
    public static let type = "calendly.invitee_observed"

    /// The event to append for `invitee` (an Invitee resource, JSON) seen on `scheduledEvent`
    /// (its Scheduled Event resource, JSON). Its dedupe key names the state observed (the
    /// invitee, its status, `updated_at`, no-show and times), so observing one state twice,
    /// from any process, appends it once.
    public static func event(invitee: Data, scheduledEvent: Data, at: Timestamp) throws(ParkReason) -> NewEvent {
        var body = Data("{\"observed_at\":\"\(at)\",\"invitee\":".utf8)
        body.append(invitee)
        body.append(contentsOf: Array(",\"scheduled_event\":".utf8))
        body.append(scheduledEvent)
        body.append(UInt8(ascii: "}"))
        let observed = try scan(body)
        guard let uri = observed.invitee.uri, !uri.isEmpty else { throw ParkReason("invitee.uri is missing") }
        let key = dedupeKey(observed)
        return NewEvent(
            stream: StreamName(inviteeURI: uri.nfc) ?? StreamName(category: "invitee", id: String(key.rawValue.suffix(32))),
            type: type, source: .reconcile, recordedAt: at, dedupeKey: key, body: body)
    }

    /// An observation's body, read.
    struct Observed {
        var observedAt: String?
        var invitee: InviteePayload
    }

    static func scan(_ body: Data) throws(ParkReason) -> Observed {
        do {
            return try body.withUnsafeBytes { raw in
                var scanner = JSONScanner(raw.bindMemory(to: UInt8.self))
                var invitee: InviteePayload?
                var observedAt: String?
                var event: ScheduledEventPayload?
                try scanner.object { scanner, key in
                    switch key {
                    case "observed_at": observedAt = try scanner.optionalString()
                    case "invitee": invitee = try InviteePayload.scan(&scanner)
                    case "scheduled_event":
                        var scanned = ScheduledEventPayload()
                        try scanner.object { scanner, key in try scanned.scanField(key, &scanner) }
                        event = scanned
                    default: try scanner.skipValue()
                    }
                }
                try scanner.end()
                guard var invitee else { throw JSONScanner.Failure(description: "invitee is missing") }
                guard let event else { throw JSONScanner.Failure(description: "scheduled_event is missing") }
                invitee.scheduledEvent = event
                return Observed(observedAt: observedAt, invitee: invitee)
            }
        } catch let reason as ParkReason {
            throw reason
        } catch {
            throw ParkReason("observation does not decode: \(error)")
        }
    }

    private static func dedupeKey(_ observed: Observed) -> DedupeKey {
        let invitee = observed.invitee
        var hasher = SHA256()
        let parts = [
            invitee.uri, invitee.status, invitee.updatedAt, invitee.noShow?.createdAt, invitee.scheduledEvent?.startTime,
            invitee.scheduledEvent?.endTime, invitee.newInvitee, invitee.oldInvitee,
        ]
        for part in parts {
            hasher.update(data: Array((part ?? "\u{0}null").utf8))
            hasher.update(data: [0])
        }
        return DedupeKey(rawValue: "obs:" + Hex.encode(hasher.finalize()))
    }
}

extension ProjectionInput {
    /// `body` of a `calendly.invitee_observed` event, in the fold's terms.
    static func observation(_ body: Data, dedupeKey: DedupeKey) throws(ParkReason) -> ProjectionInput {
        let observed = try InviteeObservation.scan(body)
        let payload = observed.invitee
        let uri = try required(payload.uri, "invitee.uri")
        let snapshot = try InviteeSnapshot(payload)
        func version(_ at: String?, _ field: String) throws(ParkReason) -> FactVersion {
            let time = try ProjectionInput.time(at, field)
            return FactVersion(at: time?.description ?? "", rank: FactVersion.observed, key: dedupeKey.rawValue)
        }
        let updated = try version(payload.updatedAt, "invitee.updated_at")
        var inputs: [ProjectionInput] = []
        let newInvitee = nonEmpty(payload.newInvitee), oldInvitee = nonEmpty(payload.oldInvitee)
        switch payload.status {
        case "active":
            inputs.append(.inviteeCreated(inviteeURI: uri, snapshot: snapshot, oldInvitee: oldInvitee, version: updated))
        case "canceled":
            let cancellation = Cancellation(
                snapshot: snapshot,
                rescheduled: payload.rescheduled ?? false,
                canceledBy: payload.cancellation?.canceledBy,
                reason: payload.cancellation?.reason,
                cancelerType: payload.cancellation?.cancelerType,
                canceledAt: try time(payload.cancellation?.createdAt, "invitee.cancellation.created_at"))
            inputs.append(.inviteeCanceled(inviteeURI: uri, cancellation: cancellation, newInvitee: newInvitee, version: updated))
            // A canceled invitee that was itself a reschedule still names the one it replaced.
            if let oldInvitee, oldInvitee != uri { inputs.append(.rescheduleLink(from: oldInvitee, to: uri)) }
        default:
            throw ParkReason("invitee.status is \(payload.status.map { "'\($0)'" } ?? "missing"), not active or canceled")
        }
        if let noShow = payload.noShow {
            let at = noShow.createdAt == nil ? updated : try version(noShow.createdAt, "invitee.no_show.created_at")
            inputs.append(.noShow(inviteeURI: uri, isNoShow: true, snapshot: nil, version: at))
        } else {
            // None at the moment of looking: a deletion the log may have missed. A no-show made
            // before that moment would have been seen, so one delivered with a later
            // `created_at` still wins.
            inputs.append(.noShowObservedAbsent(inviteeURI: uri, version: try version(observed.observedAt, "observed_at")))
        }
        return .observed(inputs)
    }

    /// Whether applying this input to `facts` (the stored facts of `inviteeURIs`) would change
    /// what they say, versions aside: reconciliation appends an observation only then.
    public func wouldChange(_ facts: [String: AppointmentFacts]) -> Bool {
        var state = ProjectionState(facts: facts)
        var changes = ProjectionChanges()
        // Invitee inputs are never refused by the fold.
        do { try state.apply(self, changes: &changes) } catch { return true }
        return changes.invitees.contains { uri in
            !(state.facts[uri] ?? AppointmentFacts(inviteeURI: uri)).saysTheSame(as: facts[uri] ?? AppointmentFacts(inviteeURI: uri))
        }
    }

    /// Reads the body of an observation (for reconciliation's check before it appends).
    public init(observation event: NewEvent) throws(ParkReason) {
        self = try Self.observation(event.body, dedupeKey: event.dedupeKey)
    }
}

extension AppointmentFacts {
    /// Whether the read models would show the same: the same appointment (times and all), and
    /// for an invitee not described yet, the same links.
    func saysTheSame(as other: AppointmentFacts) -> Bool {
        Appointment(facts: self, expertID: nil) == Appointment(facts: other, expertID: nil)
            && rescheduledTo == other.rescheduledTo && rescheduledFrom == other.rescheduledFrom
    }
}
