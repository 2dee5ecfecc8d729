/// An expert as the projector keeps it (`expert_profiles`).
public struct ExpertProfile: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    /// As last set, by the admin or the expert: shown, never used to match appointments.
    public var email: String
    /// The email the admin last set, normalised: the only typed email that finds appointments.
    public var adminEmail: String?
    public var timezone: String
    public var integrationType: IntegrationType
    public var calendlyConfig: CalendlyConfig?
    /// The expert's own Calendly account, connected by OAuth (its tokens are kept elsewhere).
    public var calendlyAccount: CalendlyAccount?
    public var nativeSchedule: NativeSchedule?
    /// Every event type this expert ever connected, so its appointments stay its own after a
    /// disconnect (the README, "The read models").
    public var pastEventTypeURIs: [String]
    public var createdAt: Timestamp
    public var updatedAt: Timestamp

    public init(
        id: String, name: String, email: String, adminEmail: String? = nil, timezone: String,
        integrationType: IntegrationType = .none,
        calendlyConfig: CalendlyConfig? = nil, calendlyAccount: CalendlyAccount? = nil, nativeSchedule: NativeSchedule? = nil,
        pastEventTypeURIs: [String] = [],
        createdAt: Timestamp,
        updatedAt: Timestamp
    ) {
        self.id = id
        self.name = name
        self.email = email
        self.adminEmail = adminEmail
        self.timezone = timezone
        self.integrationType = integrationType
        self.calendlyConfig = calendlyConfig
        self.calendlyAccount = calendlyAccount
        self.nativeSchedule = nativeSchedule
        self.pastEventTypeURIs = pastEventTypeURIs
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// What an appointment is matched against (see `ExpertDirectory`).
    public var matchKeys: MatchKeys {
        var keys = MatchKeys()
        keys.eventTypeURIs.formUnion(pastEventTypeURIs)
        keys.eventTypeURIs.formUnion(calendlyConfig?.eventTypeURIs ?? [])
        keys.hostKeys.formUnion(trustedHostUsers)
        keys.hostKeys.formUnion(trustedHostEmails)
        return keys
    }

    /// The Calendly users of the connection: the one Calendly said owns the connected event
    /// type, and the owner of the expert's OAuth token.
    public var trustedHostUsers: [String] {
        var users: [String] = []
        if let uri = calendlyConfig?.userURI?.nfc { users.append(uri) }
        if let uri = calendlyAccount?.userURI.nfc, !users.contains(uri) { users.append(uri) }
        return users
    }

    /// Emails that vouch for this expert as a host: the one the admin set, and the connected
    /// user's as Calendly reported it. Never one the expert typed.
    public var trustedHostEmails: [String] {
        var emails: [String] = []
        if let adminEmail { emails.append(adminEmail) }
        for reported in [calendlyConfig?.userEmail, calendlyAccount?.email].compactMap({ $0.map(EmailAddress.normalize) })
        where !emails.contains(reported) {
            emails.append(reported)
        }
        return emails
    }

    enum CodingKeys: String, CodingKey {
        case id, name, email, timezone
        case adminEmail = "admin_email"
        case integrationType = "integration_type", calendlyConfig = "calendly_config"
        case calendlyAccount = "calendly_account", nativeSchedule = "native_schedule"
        case pastEventTypeURIs = "past_event_type_uris", createdAt = "created_at", updatedAt = "updated_at"
    }

    public func encode(to encoder: any Encoder) throws {
        // Nulls are written, not left out: the HTTP shape and the digest both want every key.
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(id, forKey: .id)
        try container.encode(name, forKey: .name)
        try container.encode(email, forKey: .email)
        try container.encode(adminEmail, forKey: .adminEmail)
        try container.encode(timezone, forKey: .timezone)
        try container.encode(integrationType, forKey: .integrationType)
        try container.encode(calendlyConfig, forKey: .calendlyConfig)
        try container.encode(calendlyAccount, forKey: .calendlyAccount)
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
    /// The user's email as Calendly reported it: a matching key, not part of the HTTP shape.
    public var userEmail: String?
    public var eventTypeName: String?
    public var durationMinutes: Int?
    /// Every event type the expert offers; the first is the one above, and the default.
    public var eventTypes: [ChosenEventType]
    public var connectedAt: Timestamp

    public init(
        eventLink: String, eventTypeURI: String?, userURI: String?, userEmail: String? = nil, eventTypeName: String?,
        durationMinutes: Int?, eventTypes: [ChosenEventType]? = nil, connectedAt: Timestamp
    ) {
        self.eventLink = eventLink
        self.eventTypeURI = eventTypeURI
        self.userURI = userURI
        self.userEmail = userEmail
        self.eventTypeName = eventTypeName
        self.durationMinutes = durationMinutes
        self.eventTypes = eventTypes ?? [
            ChosenEventType(uri: eventTypeURI, link: eventLink, name: eventTypeName, durationMinutes: durationMinutes)
        ]
        self.connectedAt = connectedAt
    }

    /// The URIs of the event types offered, resolved ones only.
    public var eventTypeURIs: [String] { eventTypes.compactMap(\.uri) }

    /// The offered event type `uri`; without one, the first (the default).
    public func eventType(_ uri: String?) -> ChosenEventType? {
        guard let uri else { return eventTypes.first }
        return eventTypes.first { $0.uri == uri.nfc }
    }

    enum CodingKeys: String, CodingKey {
        case eventLink = "event_link", eventTypeURI = "event_type_uri", userURI = "user_uri", userEmail = "user_email"
        case eventTypeName = "event_type_name", durationMinutes = "duration_minutes", eventTypes = "event_types"
        case connectedAt = "connected_at"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        self.init(
            eventLink: try container.decode(String.self, forKey: .eventLink),
            eventTypeURI: try container.decodeIfPresent(String.self, forKey: .eventTypeURI),
            userURI: try container.decodeIfPresent(String.self, forKey: .userURI),
            userEmail: try container.decodeIfPresent(String.self, forKey: .userEmail),
            eventTypeName: try container.decodeIfPresent(String.self, forKey: .eventTypeName),
            durationMinutes: try container.decodeIfPresent(Int.self, forKey: .durationMinutes),
            eventTypes: try container.decodeIfPresent([ChosenEventType].self, forKey: .eventTypes),
            connectedAt: try container.decode(Timestamp.self, forKey: .connectedAt))
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(eventLink, forKey: .eventLink)
        try container.encode(eventTypeURI, forKey: .eventTypeURI)
        try container.encode(userURI, forKey: .userURI)
        try container.encode(userEmail, forKey: .userEmail)
        try container.encode(eventTypeName, forKey: .eventTypeName)
        try container.encode(durationMinutes, forKey: .durationMinutes)
        try container.encode(eventTypes, forKey: .eventTypes)
        try container.encode(connectedAt, forKey: .connectedAt)
    }
}

/// An expert's own Calendly account, connected by OAuth: who Calendly says it is.
public struct CalendlyAccount: Codable, Sendable, Equatable {
    public enum Status: String, Codable, Sendable {
        case connected
        /// Calendly refused the refresh token: the expert must connect again.
        case needsReconnect = "needs_reconnect"
    }

    public var userURI: String
    public var organizationURI: String?
    /// As Calendly reported it for the token's owner: a matching key like `CalendlyConfig.userEmail`.
    public var email: String?
    public var name: String?
    public var status: Status
    public var connectedAt: Timestamp
    /// The webhook subscription delivering this account's events, once availd has one.
    public var subscription: Subscription?

    public struct Subscription: Codable, Sendable, Equatable {
        public var uri: String
        public var callbackURL: String
        public var state: String
        public var since: Timestamp

        public init(uri: String, callbackURL: String, state: String, since: Timestamp) {
            self.uri = uri
            self.callbackURL = callbackURL
            self.state = state
            self.since = since
        }

        enum CodingKeys: String, CodingKey {
            case uri, state, since
            case callbackURL = "callback_url"
        }
    }

    public init(
        userURI: String, organizationURI: String?, email: String?, name: String?, status: Status, connectedAt: Timestamp,
        subscription: Subscription? = nil
    ) {
        self.userURI = userURI
        self.organizationURI = organizationURI
        self.email = email
        self.name = name
        self.status = status
        self.connectedAt = connectedAt
        self.subscription = subscription
    }

    enum CodingKeys: String, CodingKey {
        case email, name, status, subscription
        case userURI = "user_uri", organizationURI = "organization_uri", connectedAt = "connected_at"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(userURI, forKey: .userURI)
        try container.encode(organizationURI, forKey: .organizationURI)
        try container.encode(email, forKey: .email)
        try container.encode(name, forKey: .name)
        try container.encode(status, forKey: .status)
        try container.encode(connectedAt, forKey: .connectedAt)
        try container.encode(subscription, forKey: .subscription)
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
    /// Hosts' Calendly user URIs and emails (see `InviteeSnapshot.hostKeys`).
    public var hostKeys: Set<String> = []

    public init() {}

    public mutating func formUnion(_ other: MatchKeys) {
        eventTypeURIs.formUnion(other.eventTypeURIs)
        hostKeys.formUnion(other.hostKeys)
    }

    public var isEmpty: Bool { eventTypeURIs.isEmpty && hostKeys.isEmpty }
}

extension ExpertProfile {
    /// Whether this expert's current connection is the event type `connection` names (by its
    /// URI, or by its link when neither was resolved).
    public func holds(_ connection: CalendlyConnected) -> Bool {
        !held(of: connection).isEmpty
    }

    /// The event types of `connection` this expert's current connection offers (by URI, or
    /// by link when either was not resolved).
    public func held(of connection: CalendlyConnected) -> [ChosenEventType] {
        guard integrationType == .calendly, let config = calendlyConfig else { return [] }
        return connection.chosen.filter { asked in
            config.eventTypes.contains { held in
                if let uri = asked.uri, let heldURI = held.uri { return uri.nfc == heldURI }
                guard let heldLink = try? EventLink(parsing: held.link), let askedLink = try? EventLink(parsing: asked.link)
                else { return false }
                return heldLink == askedLink
            }
        }
    }
}

