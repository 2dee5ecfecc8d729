/// The parts of Calendly API v2 resources availd reads.
public struct CalendlyUser: Codable, Sendable, Equatable {
    public var uri: String
    public var name: String
    public var slug: String?
    public var email: String?
    public var schedulingURL: String?
    public var timezone: String?
    public var currentOrganization: String?

    public init(uri: String, name: String, slug: String?, email: String?, schedulingURL: String?, timezone: String?, currentOrganization: String?) {
        self.uri = uri
        self.name = name
        self.slug = slug
        self.email = email
        self.schedulingURL = schedulingURL
        self.timezone = timezone
        self.currentOrganization = currentOrganization
    }

    enum CodingKeys: String, CodingKey {
        case uri, name, slug, email, timezone
        case schedulingURL = "scheduling_url", currentOrganization = "current_organization"
    }
}

public struct CalendlyEventType: Codable, Sendable, Equatable {
    public var uri: String
    public var name: String
    public var slug: String?
    public var schedulingURL: String
    /// Minutes.
    public var duration: Int
    public var active: Bool?
    public var kind: String?
    public var profile: Profile?

    /// `{type: "User"|"Team", name, owner}`: the owner is the user that can change it.
    public struct Profile: Codable, Sendable, Equatable {
        public var type: String?
        public var name: String?
        public var owner: String?
        public init(type: String? = nil, name: String? = nil, owner: String?) {
            self.type = type
            self.name = name
            self.owner = owner
        }
    }

    public init(uri: String, name: String, slug: String?, schedulingURL: String, duration: Int, active: Bool?, kind: String?, owner: String?) {
        self.uri = uri
        self.name = name
        self.slug = slug
        self.schedulingURL = schedulingURL
        self.duration = duration
        self.active = active
        self.kind = kind
        self.profile = Profile(owner: owner)
    }

    enum CodingKeys: String, CodingKey {
        case uri, name, slug, duration, active, kind, profile
        case schedulingURL = "scheduling_url"
    }
}

/// `{resource: …}`
struct CalendlyResource<Value: Codable & Sendable>: Codable, Sendable {
    var resource: Value
}

/// `{collection: […], pagination: {next_page_token, …}}`
public struct CalendlyPage<Item: Codable & Sendable>: Codable, Sendable {
    public var collection: [Item]
    public var pagination: Pagination?

    public struct Pagination: Codable, Sendable {
        public var count: Int?
        public var nextPage: String?
        public var nextPageToken: String?

        public init(count: Int?, nextPage: String?, nextPageToken: String?) {
            self.count = count
            self.nextPage = nextPage
            self.nextPageToken = nextPageToken
        }

        enum CodingKeys: String, CodingKey {
            case count
            case nextPage = "next_page", nextPageToken = "next_page_token"
        }
    }

    public init(collection: [Item], pagination: Pagination?) {
        self.collection = collection
        self.pagination = pagination
    }
}

/// Calendly's error body: `{title, message, details?}`.
public struct CalendlyErrorBody: Codable, Sendable {
    public var title: String
    public var message: String

    public init(title: String, message: String) {
        self.title = title
        self.message = message
    }
}

/// One item of `GET /event_type_available_times`.
public struct CalendlyAvailableTime: Codable, Sendable, Equatable {
    public var status: String
    public var inviteesRemaining: Int?
    public var startTime: String
    public var schedulingURL: String?

    public init(status: String, inviteesRemaining: Int?, startTime: String, schedulingURL: String?) {
        self.status = status
        self.inviteesRemaining = inviteesRemaining
        self.startTime = startTime
        self.schedulingURL = schedulingURL
    }

    enum CodingKeys: String, CodingKey {
        case status
        case inviteesRemaining = "invitees_remaining", startTime = "start_time", schedulingURL = "scheduling_url"
    }
}
