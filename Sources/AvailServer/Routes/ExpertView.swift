import AvailCore
import AvailClient
import AvailStore

/// `GET /experts/{id}`'s shape: every key present, nulls included.
struct ExpertView: Encodable {
    var expert: ExpertProfile
    /// The expert's reconciliation with Calendly, if one ever started.
    var reconciliation: ReconcileProgress?

    enum CodingKeys: String, CodingKey {
        case id, name, email, timezone
        case integrationType = "integration_type", calendlyConfig = "calendly_config", calendly
        case nativeSchedule = "native_schedule", createdAt = "created_at", updatedAt = "updated_at"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(expert.id, forKey: .id)
        try container.encode(expert.name, forKey: .name)
        try container.encode(expert.email, forKey: .email)
        try container.encode(expert.timezone, forKey: .timezone)
        try container.encode(expert.integrationType, forKey: .integrationType)
        try container.encode(expert.calendlyConfig.map(CalendlyConfigView.init), forKey: .calendlyConfig)
        try container.encode(expert.calendlyAccount.map { CalendlyAccountView(account: $0, expert: expert, reconciliation: reconciliation) }, forKey: .calendly)
        try container.encode(expert.nativeSchedule, forKey: .nativeSchedule)
        try container.encode(expert.createdAt, forKey: .createdAt)
        try container.encode(expert.updatedAt, forKey: .updatedAt)
    }
}

/// `calendly`: the expert's own Calendly account (OAuth), and what it offers.
struct CalendlyAccountView: Encodable {
    var account: CalendlyAccount
    var expert: ExpertProfile
    var reconciliation: ReconcileProgress?

    /// `reconciliation`: how far availd has compared the log with Calendly's API.
    struct ReconciliationView: Encodable {
        var progress: ReconcileProgress?

        enum CodingKeys: String, CodingKey {
            case lastCompletePass = "last_complete_pass", underWay = "under_way", lastError = "last_error"
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(progress?.completedAt, forKey: .lastCompletePass)
            try container.encode(progress?.isUnderWay ?? false, forKey: .underWay)
            try container.encode(progress?.lastError, forKey: .lastError)
        }
    }

    enum CodingKeys: String, CodingKey {
        case status, subscription, reconciliation
        case userURI = "user_uri", organizationURI = "organization_uri", eventTypes = "event_types", connectedAt = "connected_at"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(account.status, forKey: .status)
        try container.encode(account.userURI, forKey: .userURI)
        try container.encode(account.organizationURI, forKey: .organizationURI)
        let offered = expert.integrationType == .calendly ? expert.calendlyConfig?.eventTypes ?? [] : []
        try container.encode(offered, forKey: .eventTypes)
        try container.encode(account.subscription, forKey: .subscription)
        // About this account, not one connected before it.
        let progress = reconciliation.flatMap { $0.userURI == account.userURI ? $0 : nil }
        try container.encode(ReconciliationView(progress: progress), forKey: .reconciliation)
        try container.encode(account.connectedAt, forKey: .connectedAt)
    }
}

/// `GET /experts/{id}/calendly/event-types`.
struct EventTypeList: Encodable {
    struct Item: Encodable {
        var uri: String
        var name: String
        var durationMinutes: Int
        var schedulingURL: String
        var active: Bool
        var chosen: Bool

        init(_ eventType: CalendlyEventType, chosen: Bool) {
            uri = eventType.uri
            name = eventType.name
            durationMinutes = eventType.duration
            schedulingURL = eventType.schedulingURL
            active = eventType.active ?? true
            self.chosen = chosen
        }

        enum CodingKeys: String, CodingKey {
            case uri, name, active, chosen
            case durationMinutes = "duration_minutes", schedulingURL = "scheduling_url"
        }
    }

    var expertID: String
    var eventTypes: [Item]

    enum CodingKeys: String, CodingKey {
        case expertID = "expert_id", eventTypes = "event_types"
    }
}

/// `calendly_config` as the API shows it: the matching keys availd keeps beside it (the
/// user's email as Calendly reported it) are not part of it.
struct CalendlyConfigView: Encodable {
    var config: CalendlyConfig

    enum CodingKeys: String, CodingKey {
        case eventLink = "event_link", eventTypeURI = "event_type_uri", userURI = "user_uri"
        case eventTypeName = "event_type_name", durationMinutes = "duration_minutes", connectedAt = "connected_at"
        case eventTypes = "event_types"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(config.eventTypes, forKey: .eventTypes)
        try container.encode(config.eventLink, forKey: .eventLink)
        try container.encode(config.eventTypeURI, forKey: .eventTypeURI)
        try container.encode(config.userURI, forKey: .userURI)
        try container.encode(config.eventTypeName, forKey: .eventTypeName)
        try container.encode(config.durationMinutes, forKey: .durationMinutes)
        try container.encode(config.connectedAt, forKey: .connectedAt)
    }
}

/// `GET /experts/{id}/appointments`'s shape, written with the appointments' canonical JSON
/// (the same bytes `JSONEncoder` gives, in a fraction of the time).
struct AppointmentList {
    var appointments: [Appointment]
    var nextCursor: String?

    func json() -> [UInt8] {
        var bytes = Array(#"{"appointments":["#.utf8)
        bytes.reserveCapacity(appointments.count * 900)
        for (offset, appointment) in appointments.enumerated() {
            if offset > 0 { bytes.append(UInt8(ascii: ",")) }
            bytes.append(contentsOf: appointment.canonicalJSON())
        }
        bytes.append(contentsOf: Array(#"],"next_cursor":"#.utf8))
        // The cursor is base64url: nothing in it needs escaping.
        bytes.append(contentsOf: Array((nextCursor.map { "\"\($0)\"" } ?? "null").utf8))
        bytes.append(UInt8(ascii: "}"))
        return bytes
    }
}

/// `GET /parked`'s shape.
struct ParkedList: Encodable {
    struct Item: Encodable {
        var position: Int64
        var type: String
        var reason: String
        var recordedAt: Timestamp

        enum CodingKeys: String, CodingKey {
            case position, type, reason
            case recordedAt = "recorded_at"
        }
    }

    var parked: [Item]
    var nextAfter: Int64

    enum CodingKeys: String, CodingKey {
        case parked
        case nextAfter = "next_after"
    }
}
