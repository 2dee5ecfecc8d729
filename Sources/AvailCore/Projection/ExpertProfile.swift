/// An expert as the projector keeps it (`expert_profiles`).
public struct ExpertProfile: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    public var email: String
    public var timezone: String
    public var integrationType: IntegrationType
    public var calendlyConfig: CalendlyConfig?
    public var nativeSchedule: NativeSchedule?
    /// Every event type this expert ever connected, so its appointments stay its own after a
    /// disconnect (CONTRACT.md: "appointments stay").
    public var pastEventTypeURIs: [String]
    public var createdAt: Timestamp
    public var updatedAt: Timestamp

    public init(
        id: String, name: String, email: String, timezone: String, integrationType: IntegrationType = .none,
        calendlyConfig: CalendlyConfig? = nil, nativeSchedule: NativeSchedule? = nil, pastEventTypeURIs: [String] = [],
        createdAt: Timestamp,
        updatedAt: Timestamp
    ) {
        self.id = id
        self.name = name
        self.email = email
        self.timezone = timezone
        self.integrationType = integrationType
        self.calendlyConfig = calendlyConfig
        self.nativeSchedule = nativeSchedule
        self.pastEventTypeURIs = pastEventTypeURIs
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// What an appointment is matched against (see `ExpertDirectory`).
    public var matchKeys: MatchKeys {
        var keys = MatchKeys()
        keys.eventTypeURIs.formUnion(pastEventTypeURIs)
        if let uri = calendlyConfig?.eventTypeURI { keys.eventTypeURIs.insert(uri) }
        keys.emails.insert(EmailAddress.normalize(email))
        return keys
    }

    enum CodingKeys: String, CodingKey {
        case id, name, email, timezone
        case integrationType = "integration_type", calendlyConfig = "calendly_config"
        case nativeSchedule = "native_schedule"
        case pastEventTypeURIs = "past_event_type_uris", createdAt = "created_at", updatedAt = "updated_at"
    }

    public func encode(to encoder: any Encoder) throws {
        // Nulls are written, not left out: the HTTP shape and the digest both want every key.
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(name, forKey: .name)
        try container.encode(email, forKey: .email)
        try container.encode(timezone, forKey: .timezone)
        try container.encode(integrationType, forKey: .integrationType)
        try container.encode(calendlyConfig, forKey: .calendlyConfig)
        try container.encode(nativeSchedule, forKey: .nativeSchedule)
        try container.encode(pastEventTypeURIs, forKey: .pastEventTypeURIs)
        try container.encode(createdAt, forKey: .createdAt)
        try container.encode(updatedAt, forKey: .updatedAt)
    }
}

public enum IntegrationType: String, Codable, Sendable, CaseIterable {
    case none, native, calendly
}

public struct CalendlyConfig: Codable, Sendable, Equatable {
    public var eventLink: String
    public var eventTypeURI: String?
    public var userURI: String?
    public var eventTypeName: String?
    public var durationMinutes: Int?
    public var connectedAt: Timestamp

    public init(
        eventLink: String, eventTypeURI: String?, userURI: String?, eventTypeName: String?, durationMinutes: Int?,
        connectedAt: Timestamp
    ) {
        self.eventLink = eventLink
        self.eventTypeURI = eventTypeURI
        self.userURI = userURI
        self.eventTypeName = eventTypeName
        self.durationMinutes = durationMinutes
        self.connectedAt = connectedAt
    }

    enum CodingKeys: String, CodingKey {
        case eventLink = "event_link", eventTypeURI = "event_type_uri", userURI = "user_uri"
        case eventTypeName = "event_type_name", durationMinutes = "duration_minutes", connectedAt = "connected_at"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(eventLink, forKey: .eventLink)
        try container.encode(eventTypeURI, forKey: .eventTypeURI)
        try container.encode(userURI, forKey: .userURI)
        try container.encode(eventTypeName, forKey: .eventTypeName)
        try container.encode(durationMinutes, forKey: .durationMinutes)
        try container.encode(connectedAt, forKey: .connectedAt)
    }
}

extension CalendlyConfig {
    /// The event type durations (minutes) availd offers slots of; others are refused on connect.
    public static let durations = 1...1440

    /// `minutes` within `durations` (30 when unknown): slot arithmetic cannot overflow, even
    /// for a duration logged before the bound.
    public static func slotMinutes(_ minutes: Int?) -> Int {
        min(max(minutes ?? 30, durations.lowerBound), durations.upperBound)
    }
}

/// The values an appointment can be matched to an expert by.
public struct MatchKeys: Sendable, Equatable {
    public var eventTypeURIs: Set<String> = []
    public var emails: Set<String> = []

    public init() {}

    public mutating func formUnion(_ other: MatchKeys) {
        eventTypeURIs.formUnion(other.eventTypeURIs)
        emails.formUnion(other.emails)
    }

    public var isEmpty: Bool { eventTypeURIs.isEmpty && emails.isEmpty }
}
