import AvailCore
import Foundation

/// The fixture corpus as log events, and the experts of `fixtures/README.md` (the files
/// themselves are read by AvailTesting's `Corpus.fixtureBodies()`).
public enum Corpus {
    /// A fixture booking made new and upcoming: a fresh event and invitee, delivered now, starting
    /// `daysAhead` days from now on the hour (the length kept). The fixtures' own times are fixed
    /// and pass, while a page shows what is upcoming.
    public static func upcoming(_ body: Data, daysAhead: Int = 2) throws -> Data {
        guard var delivery = try JSONSerialization.jsonObject(with: body) as? [String: Any],
              var payload = delivery["payload"] as? [String: Any],
              var event = payload["scheduled_event"] as? [String: Any],
              let start = (event["start_time"] as? String).flatMap(Timestamp.init(rfc3339:)),
              let end = (event["end_time"] as? String).flatMap(Timestamp.init(rfc3339:))
        else { throw CocoaError(.coderReadCorrupt) }
        let now = Timestamp.now().microseconds
        let newStart = now - now % 3_600_000_000 + Int64(daysAhead) * 86_400_000_000
        event["start_time"] = Timestamp(microseconds: newStart).description
        event["end_time"] = Timestamp(microseconds: newStart + end.microseconds - start.microseconds).description
        let eventURI = "https://api.calendly.com/scheduled_events/\(UUID().uuidString.lowercased())"
        event["uri"] = eventURI
        payload["event"] = eventURI
        payload["uri"] = "\(eventURI)/invitees/\(UUID().uuidString.lowercased())"
        payload["scheduled_event"] = event
        delivery["payload"] = payload
        delivery["created_at"] = Timestamp(microseconds: now).description
        return try JSONSerialization.data(withJSONObject: delivery)
    }

    /// `bodies` as the log would hold them: positions from 1, one event per body (duplicates
    /// are kept, so the fold's own idempotence is what is tested).
    public static func events(_ bodies: [Data], startingAt first: Int64 = 1) throws -> [LogEvent] {
        try bodies.enumerated().map { offset, body in
            let delivery = try Delivery(body: body)
            return LogEvent(
                position: first + Int64(offset), streamVersion: 1,
                event: NewEvent(delivery: delivery, signature: nil, receivedAt: Timestamp(microseconds: 1_795_000_000_000_000)),
                hash: [])
        }
    }

    /// An `api` event as the daemon would log it.
    public static func event(_ expertEvent: ExpertEvent, position: Int64) -> LogEvent {
        LogEvent(
            position: position, streamVersion: 1,
            event: NewEvent(
                stream: StreamName(category: "expert", id: expertEvent.expertID), type: expertEvent.type, source: .api,
                recordedAt: Timestamp(microseconds: 1_795_000_000_000_000),
                dedupeKey: DedupeKey(rawValue: "cmd:\(position)"), body: expertEvent.encoded()),
            hash: [])
    }

    public struct Expert: Sendable {
        public var id: String
        public var name: String
        public var email: String
        public var timezone: String
        public var eventLink: String
        public var eventTypeURI: String
        public var userURI: String
    }

    /// The three experts every fixture booking belongs to (fixtures/README.md, "Experts").
    public static let experts = [
        Expert(
            id: "ada", name: "Ada Lovelace", email: "ada.lovelace@experts.example", timezone: "Europe/London",
            eventLink: "https://calendly.com/ada-lovelace/30min",
            eventTypeURI: "https://api.calendly.com/event_types/839a144c-94df-45bf-9708-62a6c496b3a5",
            userURI: "https://api.calendly.com/users/fa34b458-2602-4848-90f7-32756ce929ac"),
        Expert(
            id: "grace", name: "Grace Hopper", email: "grace.hopper@experts.example", timezone: "America/New_York",
            eventLink: "https://calendly.com/grace-hopper/60min",
            eventTypeURI: "https://api.calendly.com/event_types/1d943767-b7f0-40f8-9907-8f434e9e2aae",
            userURI: "https://api.calendly.com/users/c44fbb8a-28b8-40b4-b9aa-e9d16159c8c1"),
        Expert(
            id: "alan", name: "Alan Turing", email: "alan.turing@experts.example", timezone: "Europe/Berlin",
            eventLink: "https://calendly.com/alan-turing/45min",
            eventTypeURI: "https://api.calendly.com/event_types/5d4ed380-efef-4018-8c1a-30056a95a9d5",
            userURI: "https://api.calendly.com/users/e6a00efb-6c34-46ba-a458-3eda03109d5f"),
    ]

    /// Creates `expert` and connects its event type, as the API would log it.
    public static func setUp(_ expert: Expert, connectingEventType: Bool = true) -> [ExpertEvent] {
        let at = Timestamp(microseconds: 1_795_000_000_000_000)
        var events: [ExpertEvent] = [
            .updated(ExpertUpdated(expertID: expert.id, name: expert.name, email: expert.email, timezone: expert.timezone, setBy: .admin, at: at))
        ]
        if connectingEventType {
            events.append(.calendlyConnected(CalendlyConnected(
                expertID: expert.id, eventLink: expert.eventLink, eventTypeURI: expert.eventTypeURI, userURI: expert.userURI,
                eventTypeName: nil, durationMinutes: nil, at: at)))
        }
        return events
    }
}
