import Foundation

/// The bodies of availd's own events (source `api`) about experts. Their JSON is the log's
/// format: add fields as optionals, never rename.
public enum ExpertEvent: Sendable, Equatable {
    case updated(ExpertUpdated)
    case calendlyConnected(CalendlyConnected)
    case nativeScheduleSet(NativeScheduleSet)
    case disconnected(IntegrationDisconnected)
    case accountConnected(CalendlyAccountConnected)
    case reconnectNeeded(CalendlyReconnectNeeded)
    case subscriptionSet(CalendlySubscriptionSet)

    public var expertID: String {
        switch self {
        case .updated(let event): event.expertID
        case .calendlyConnected(let event): event.expertID
        case .nativeScheduleSet(let event): event.expertID
        case .disconnected(let event): event.expertID
        case .accountConnected(let event): event.expertID
        case .reconnectNeeded(let event): event.expertID
        case .subscriptionSet(let event): event.expertID
        }
    }

    /// The log's `type` for this event.
    public var type: String {
        switch self {
        case .updated: ExpertUpdated.type
        case .calendlyConnected: CalendlyConnected.type
        case .nativeScheduleSet: NativeScheduleSet.type
        case .disconnected: IntegrationDisconnected.type
        case .accountConnected: CalendlyAccountConnected.type
        case .reconnectNeeded: CalendlyReconnectNeeded.type
        case .subscriptionSet: CalendlySubscriptionSet.type
        }
    }

    /// The body as stored.
    public func encoded() -> Data {
        let encoder = JSONEncoder.canonical()
        // Encoding plain strings and numbers cannot fail.
        switch self {
        case .updated(let event): return try! encoder.encode(event)
        case .calendlyConnected(let event): return try! encoder.encode(event)
        case .nativeScheduleSet(let event): return try! encoder.encode(event)
        case .disconnected(let event): return try! encoder.encode(event)
        case .accountConnected(let event): return try! encoder.encode(event)
        case .reconnectNeeded(let event): return try! encoder.encode(event)
        case .subscriptionSet(let event): return try! encoder.encode(event)
        }
    }

    /// Reads an `api` event of `type`; nil when the type is not an expert event.
    static func decode(type: String, body: Data) throws -> ExpertEvent? {
        let decoder = JSONDecoder()
        switch type {
        case ExpertUpdated.type: return .updated(try decoder.decode(ExpertUpdated.self, from: body))
        case CalendlyConnected.type: return .calendlyConnected(try decoder.decode(CalendlyConnected.self, from: body))
        case NativeScheduleSet.type: return .nativeScheduleSet(try decoder.decode(NativeScheduleSet.self, from: body))
        case IntegrationDisconnected.type:
            return .disconnected(try decoder.decode(IntegrationDisconnected.self, from: body))
        case CalendlyAccountConnected.type:
            return .accountConnected(try decoder.decode(CalendlyAccountConnected.self, from: body))
        case CalendlyReconnectNeeded.type:
            return .reconnectNeeded(try decoder.decode(CalendlyReconnectNeeded.self, from: body))
        case CalendlySubscriptionSet.type:
            return .subscriptionSet(try decoder.decode(CalendlySubscriptionSet.self, from: body))
        default: return nil
        }
    }
}

/// `PUT /experts/{id}`: creates the expert or changes its name, email or time zone.
public struct ExpertUpdated: Codable, Sendable, Equatable {
    public static let type = "expert.updated"
    public var expertID: String
    public var name: String
    public var email: String
    public var timezone: String
    /// Who made the change. Only an email the admin set finds the expert's appointments; one an
    /// expert typed is shown, never trusted. Events logged before this was recorded have none,
    /// and their email is not trusted either: the admin sets it again.
    public var setBy: Author?
    public var at: Timestamp

    public init(expertID: String, name: String, email: String, timezone: String, setBy: Author, at: Timestamp) {
        self.expertID = expertID
        self.name = name
        self.email = email
        self.timezone = timezone
        self.setBy = setBy
        self.at = at
    }

    enum CodingKeys: String, CodingKey {
        case name, email, timezone, at
        case expertID = "expert_id", setBy = "set_by"
    }
}

/// Who made a change availd recorded: the admin token, or the expert's own.
public enum Author: String, Codable, Sendable {
    case admin, expert
}

/// `PUT /experts/{id}/integration` with `type: calendly`.
public struct CalendlyConnected: Codable, Sendable, Equatable {
    public static let type = "expert.calendly_connected"
    public var expertID: String
    public var eventLink: String
    /// Resolved through Calendly's API when a token is configured; otherwise nil.
    public var eventTypeURI: String?
    /// The event type's owner, as Calendly reported it.
    public var userURI: String?
    /// That user's email, as Calendly reported it (not as anyone typed it).
    public var userEmail: String?
    public var eventTypeName: String?
    public var durationMinutes: Int?
    /// Every event type chosen, the first being the one above (`event_link`, `event_type_uri`,
    /// ...). Events logged before several could be chosen have none: then the one above alone.
    public var eventTypes: [ChosenEventType]?
    public var at: Timestamp

    public init(
        expertID: String, eventLink: String, eventTypeURI: String? = nil, userURI: String? = nil, userEmail: String? = nil,
        eventTypeName: String? = nil, durationMinutes: Int? = nil, eventTypes: [ChosenEventType]? = nil, at: Timestamp
    ) {
        self.expertID = expertID
        self.eventLink = eventLink
        self.eventTypeURI = eventTypeURI
        self.userURI = userURI
        self.userEmail = userEmail
        self.eventTypeName = eventTypeName
        self.durationMinutes = durationMinutes
        self.eventTypes = eventTypes
        self.at = at
    }

    /// The event types of this connection: `eventTypes`, or the one an older event names.
    public var chosen: [ChosenEventType] {
        if let eventTypes, !eventTypes.isEmpty { return eventTypes }
        return [ChosenEventType(uri: eventTypeURI, link: eventLink, name: eventTypeName, durationMinutes: durationMinutes)]
    }

    enum CodingKeys: String, CodingKey {
        case at
        case expertID = "expert_id", eventLink = "event_link", eventTypeURI = "event_type_uri"
        case userURI = "user_uri", userEmail = "user_email", eventTypeName = "event_type_name"
        case durationMinutes = "duration_minutes", eventTypes = "event_types"
    }
}

/// One Calendly event type an expert offers.
public struct ChosenEventType: Codable, Sendable, Equatable, Hashable {
    /// Nil only for a link connected without a Calendly token to resolve it.
    public var uri: String?
    /// The public scheduling link (`https://calendly.com/<user>/<event>`).
    public var link: String
    public var name: String?
    public var durationMinutes: Int?

    public init(uri: String?, link: String, name: String?, durationMinutes: Int?) {
        self.uri = uri
        self.link = link
        self.name = name
        self.durationMinutes = durationMinutes
    }

    enum CodingKeys: String, CodingKey {
        case uri, link, name
        case durationMinutes = "duration_minutes"
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(uri, forKey: .uri)
        try container.encode(link, forKey: .link)
        try container.encode(name, forKey: .name)
        try container.encode(durationMinutes, forKey: .durationMinutes)
    }
}

/// The expert connected their own Calendly account by OAuth: who Calendly says the token's
/// owner is. Never the tokens: those are kept encrypted outside the log.
public struct CalendlyAccountConnected: Codable, Sendable, Equatable {
    public static let type = "expert.calendly_account_connected"
    public var expertID: String
    /// The token's `owner`, as Calendly's token endpoint answered it.
    public var userURI: String
    public var organizationURI: String?
    /// The user's email and name as `GET /users/me` answered with that token.
    public var userEmail: String?
    public var userName: String?
    public var at: Timestamp

    public init(expertID: String, userURI: String, organizationURI: String?, userEmail: String?, userName: String?, at: Timestamp) {
        self.expertID = expertID
        self.userURI = userURI
        self.organizationURI = organizationURI
        self.userEmail = userEmail
        self.userName = userName
        self.at = at
    }

    enum CodingKeys: String, CodingKey {
        case at
        case expertID = "expert_id", userURI = "user_uri", organizationURI = "organization_uri"
        case userEmail = "user_email", userName = "user_name"
    }
}

/// The webhook subscription that delivers the expert's Calendly account's events to availd:
/// created (or an existing one adopted) on connection, and (part 8) recreated when Calendly
/// disabled or lost it.
public struct CalendlySubscriptionSet: Codable, Sendable, Equatable {
    public static let type = "expert.calendly_subscription_set"
    public var expertID: String
    /// The account it belongs to: an event about another account than the current one is moot.
    public var userURI: String
    public var subscriptionURI: String
    public var callbackURL: String
    public var state: String
    /// Found already there (Calendly's 409 "Already Exists"), not created.
    public var adopted: Bool
    /// A recreation: the subscription this one replaces, and why (`disabled`, `missing`).
    public var replaces: String?
    public var reason: String?
    /// When Calendly began retrying the replaced one (a disabled subscription's
    /// `retry_started_at`): what was missed since then is to be reconciled.
    public var retryStartedAt: Timestamp?
    public var at: Timestamp

    public init(
        expertID: String, userURI: String, subscriptionURI: String, callbackURL: String, state: String, adopted: Bool,
        replaces: String? = nil, reason: String? = nil, retryStartedAt: Timestamp? = nil, at: Timestamp
    ) {
        self.expertID = expertID
        self.userURI = userURI
        self.subscriptionURI = subscriptionURI
        self.callbackURL = callbackURL
        self.state = state
        self.adopted = adopted
        self.replaces = replaces
        self.reason = reason
        self.retryStartedAt = retryStartedAt
        self.at = at
    }

    enum CodingKeys: String, CodingKey {
        case state, adopted, replaces, reason, at
        case expertID = "expert_id", userURI = "user_uri", subscriptionURI = "subscription_uri", callbackURL = "callback_url"
        case retryStartedAt = "retry_started_at"
    }
}

/// Calendly refused the connection's refresh token (`invalid_grant`): the expert must connect
/// again before availd can ask Calendly anything for them.
public struct CalendlyReconnectNeeded: Codable, Sendable, Equatable {
    public static let type = "expert.calendly_reconnect_needed"
    public var expertID: String
    public var userURI: String
    public var reason: String
    public var at: Timestamp

    public init(expertID: String, userURI: String, reason: String, at: Timestamp) {
        self.expertID = expertID
        self.userURI = userURI
        self.reason = reason
        self.at = at
    }

    enum CodingKeys: String, CodingKey {
        case reason, at
        case expertID = "expert_id", userURI = "user_uri"
    }
}

/// `PUT /experts/{id}/integration` with `type: native`: the expert's own weekly hours.
public struct NativeScheduleSet: Codable, Sendable, Equatable {
    public static let type = "expert.native_schedule_set"
    public var expertID: String
    public var schedule: NativeSchedule
    public var at: Timestamp

    public init(expertID: String, schedule: NativeSchedule, at: Timestamp) {
        self.expertID = expertID
        self.schedule = schedule
        self.at = at
    }

    enum CodingKeys: String, CodingKey {
        case schedule, at
        case expertID = "expert_id"
    }
}

/// `DELETE /experts/{id}/integration`.
public struct IntegrationDisconnected: Codable, Sendable, Equatable {
    public static let type = "expert.integration_disconnected"
    public var expertID: String
    public var at: Timestamp

    public init(expertID: String, at: Timestamp) {
        self.expertID = expertID
        self.at = at
    }

    enum CodingKeys: String, CodingKey {
        case at
        case expertID = "expert_id"
    }
}

extension Timestamp: Codable {
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let text = try container.decode(String.self)
        guard let value = Timestamp(rfc3339: text) else {
            throw DecodingError.dataCorruptedError(in: container, debugDescription: "not an RFC 3339 time: \(text)")
        }
        self = value
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}
