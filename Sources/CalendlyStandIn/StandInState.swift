import AvailClient
import AvailCore
import Foundation
import Synchronization

/// What the stand-in knows: users with their tokens, and event types, seeded from
/// `fixtures/calendly-api/state.json`; plus failures queued by tests.
public struct StandInSeed: Codable, Sendable {
    public struct Account: Codable, Sendable {
        public var token: String
        public var user: CalendlyUser
        /// The account's role in its organization; the seed's, never in the user Calendly answers.
        /// Missing means `user`.
        public var role: Role?
        /// Its organization's URI; missing means the seed's `organization`.
        public var organization: String?
    }

    /// An owner or admin may read and act on everything in their organization; a user only on
    /// their own things.
    public enum Role: String, Codable, Sendable {
        case owner, admin, user
    }

    /// An OAuth app registered with the stand-in: its credentials and the redirect URIs it may
    /// use, each matched as an exact string.
    public struct OAuthApp: Codable, Sendable {
        public var clientID: String
        public var clientSecret: String
        public var redirectURIs: [String]
        /// The key Calendly generates per app: deliveries to subscriptions created with one of
        /// the app's access tokens (and no `signing_key`) are signed with it.
        public var webhookSigningKey: String?

        public init(clientID: String, clientSecret: String, redirectURIs: [String], webhookSigningKey: String? = nil) {
            self.clientID = clientID
            self.clientSecret = clientSecret
            self.redirectURIs = redirectURIs
            self.webhookSigningKey = webhookSigningKey
        }

        enum CodingKeys: String, CodingKey {
            case clientID = "client_id", clientSecret = "client_secret", redirectURIs = "redirect_uris"
            case webhookSigningKey = "webhook_signing_key"
        }
    }

    /// The marketplace's organization: every account's unless the account names another.
    public var organization: String
    public var users: [Account]
    public var eventTypes: [CalendlyEventType]
    /// The longest range `event_type_available_times` accepts (31 days; 7 on older accounts).
    public var availableTimesMaxDays: Int
    /// Every owner's working hours, wall-clock in the owner's time zone, Monday to Friday.
    public var workingHours: WallIntervalText
    /// Bookings that exist before anything happens (no webhooks are sent for them).
    public var bookings: [ExistingBooking]?
    /// The OAuth apps `/oauth/*` knows from the start; tests add more with `POST /_sim/oauth/apps`.
    public var oauthApps: [OAuthApp]?
    /// Organization URI → the key deliveries to its subscriptions are signed with when they were
    /// created with a seeded token and no `signing_key`; an organization missing here gets
    /// `standin-webhook-key-<organization uuid>`.
    public var webhookSigningKeys: [String: String]?
    /// API requests per user per minute (500, Calendly's paid plans).
    public var rateLimitPerMinute: Int?
    /// `POST /invitees` per user per minute (10).
    public var inviteesPerMinute: Int?
    /// `POST /oauth/token` per user per minute (8).
    public var tokenPerMinute: Int?

    public struct ExistingBooking: Codable, Sendable {
        public var eventType: String
        /// RFC 3339, or `+Nd HH:MM` (N days from today, UTC) so a seed never goes stale.
        public var startTime: String
        public var name: String
        public var email: String

        enum CodingKeys: String, CodingKey {
            case name, email
            case eventType = "event_type", startTime = "start_time"
        }
    }

    public struct WallIntervalText: Codable, Sendable {
        public var from: String
        public var to: String
    }

    enum CodingKeys: String, CodingKey {
        case organization, users
        case eventTypes = "event_types", availableTimesMaxDays = "available_times_max_days"
        case workingHours = "working_hours", bookings, oauthApps = "oauth_apps"
        case webhookSigningKeys = "webhook_signing_keys", rateLimitPerMinute = "rate_limit_per_minute"
        case inviteesPerMinute = "invitees_per_minute", tokenPerMinute = "token_per_minute"
    }

    public static func load(_ url: URL) throws -> StandInSeed {
        try JSONDecoder().decode(StandInSeed.self, from: Data(contentsOf: url))
    }
}

/// A failure the stand-in answers instead of the real thing, for the next `times` requests
/// whose path starts with `path`.
public struct InjectedFailure: Codable, Sendable {
    public var path: String
    public var status: Int
    public var times: Int
    /// Sent as `X-RateLimit-Reset` with a 429, as given: seconds (`1`), or any text (`"inf"`,
    /// `"1e300"`) to see how a client copes with a value Calendly should never send.
    public var rateLimitReset: String?
    /// Answer only after this many milliseconds (a time-out, for a client with a short one;
    /// with status 200, the real answer, late).
    public var delayMilliseconds: Int?

    public init(path: String, status: Int, times: Int, rateLimitReset: String? = nil, delayMilliseconds: Int? = nil) {
        self.path = path
        self.status = status
        self.times = times
        self.rateLimitReset = rateLimitReset
        self.delayMilliseconds = delayMilliseconds
    }

    enum CodingKeys: String, CodingKey {
        case path, status, times
        case rateLimitReset = "rate_limit_reset", delayMilliseconds = "delay_ms"
    }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        path = try container.decode(String.self, forKey: .path)
        status = try container.decode(Int.self, forKey: .status)
        times = try container.decode(Int.self, forKey: .times)
        delayMilliseconds = try container.decodeIfPresent(Int.self, forKey: .delayMilliseconds)
        if let seconds = try? container.decodeIfPresent(Int.self, forKey: .rateLimitReset) {
            rateLimitReset = String(seconds)
        } else {
            rateLimitReset = try container.decodeIfPresent(String.self, forKey: .rateLimitReset)
        }
    }
}

/// A seeded account as the API sees it: its user (whose `current_organization` is the
/// account's organization), organization and role.
struct StandInMember: Sendable {
    var token: String
    var user: CalendlyUser
    var organization: String
    var role: StandInSeed.Role

    var isAdmin: Bool { role != .user }
}

final class StandInState: Sendable {
    let seed: StandInSeed
    let members: [StandInMember]
    private let failures = Mutex<[InjectedFailure]>([])
    private let requests = Mutex<[String: Int]>([:])
    private let oauth: Mutex<StandInOAuth>
    let rateLimits: StandInRateLimits

    init(seed: StandInSeed, accessTokenLifetime: Int = StandInOAuth.defaultAccessTokenLifetime) {
        self.seed = seed
        members = seed.users.map { account in
            let organization = account.organization ?? seed.organization
            var user = account.user
            user.currentOrganization = organization
            return StandInMember(token: account.token, user: user, organization: organization, role: account.role ?? .user)
        }
        oauth = Mutex(StandInOAuth(apps: seed.oauthApps ?? [], accessTokenLifetime: accessTokenLifetime))
        rateLimits = StandInRateLimits(.init(
            perMinute: seed.rateLimitPerMinute ?? 500, inviteesPerMinute: seed.inviteesPerMinute ?? 10, tokenPerMinute: seed.tokenPerMinute ?? 8))
    }

    func member(uri: String?) -> StandInMember? {
        members.first { $0.user.uri == uri }
    }

    func member(slug: String) -> StandInMember? {
        members.first { $0.user.slug == slug }
    }

    enum Authentication {
        case member(StandInMember)
        case expired
        case invalid
    }

    /// A seeded static token, or an OAuth access token neither expired nor revoked.
    func authenticate(token: String, now: Date = Date()) -> Authentication {
        if let member = members.first(where: { $0.token == token }) { return .member(member) }
        switch oauth.withLock({ $0.accessTokenUser(token, now: now) }) {
        case .live(let uri): return member(uri: uri).map { .member($0) } ?? .invalid
        case .expired: return .expired
        case .invalid: return .invalid
        }
    }

    /// The OAuth app whose live access token this is; nil for a seeded token or anything else.
    func oauthApp(token: String) -> StandInSeed.OAuthApp? {
        oauth.withLock { oauth in oauth.accessTokenClient(token).flatMap { oauth.apps[$0] } }
    }

    /// The key an organization's subscriptions made with a seeded token are signed with.
    func webhookSigningKey(organization: String) -> String {
        seed.webhookSigningKeys?[organization] ?? "standin-webhook-key-\(organization.split(separator: "/").last ?? "")"
    }

    /// Whether `member` may read and act on what the user `owner` owns: their own things, or
    /// anything in the organization they own or administer.
    func permits(_ member: StandInMember, on owner: String?) -> Bool {
        guard let owner else { return false }
        if owner == member.user.uri { return true }
        return member.isAdmin && self.member(uri: owner)?.organization == member.organization
    }

    /// The OAuth codes, grants and tokens, under their lock.
    func withOAuth<Result: Sendable>(_ body: (inout StandInOAuth) -> Result) -> Result {
        oauth.withLock { body(&$0) }
    }

    func inject(_ new: [InjectedFailure]) {
        failures.withLock { $0 += new }
    }

    /// Counts the request and takes the first failure queued for its path, if any.
    func nextFailure(for path: String) -> InjectedFailure? {
        requests.withLock { $0[path, default: 0] += 1 }
        return failures.withLock { queue in
            guard let index = queue.firstIndex(where: { path.hasPrefix($0.path) }) else { return nil }
            let failure = queue[index]
            queue[index].times -= 1
            if queue[index].times <= 0 { queue.remove(at: index) }
            return failure
        }
    }

    /// Requests for `path`; with none, every request but the `/_sim` ones.
    func requestCount(_ path: String?) -> Int {
        requests.withLock { requests in path.map { requests[$0] ?? 0 } ?? requests.values.reduce(0, +) }
    }
}
