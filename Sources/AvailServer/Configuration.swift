import AvailCore

/// Everything `availd serve` needs, built at the edge (flags, environment) or by tests.
public struct Configuration: Sendable {
    public var host: String
    public var port: Int
    /// An SQLite file, `:memory:`, or a PostgreSQL URL (`postgres://USER@HOST:PORT/DATABASE`).
    public var databasePath: String
    /// The password for a PostgreSQL URL that has none.
    public var databasePassword: String?
    /// Every key is accepted, so a key can be rotated by running with old and new for a while.
    public var signingKeys: [String]
    /// How far `t` may be from now, in seconds, in either direction.
    public var signatureTolerance: Int64
    /// Bodies larger than this are refused while reading, never buffered whole.
    public var maxBodyBytes: Int
    public var adminToken: String
    public var calendlyAPI: String
    public var calendlyToken: String?
    /// The Calendly OAuth app experts connect their own accounts through; without one the
    /// settings page says so and offers no button.
    public var calendlyOAuth: CalendlyOAuthApp?
    /// Calendly's OAuth server (`--calendly-auth`).
    public var calendlyAuth = "https://auth.calendly.com"
    /// The base of the OAuth redirect URI (and, with part 8, of the webhook URL) as Calendly
    /// and browsers reach this daemon; nil: `http://HOST:PORT` of the listening socket.
    public var publicURL: String?
    /// Seals Calendly tokens at rest (`TokenSealer`): at least 32 characters. The daemon keeps
    /// one beside the database unless `--secret-key` gives it; tests get a random one.
    public var secretKey: String = Secret.generate()
    /// A token that expires within this is refreshed (in the background while it still works).
    public var tokenRefreshMargin: Duration = .seconds(300)
    /// How often every webhook subscription availd knows (connected accounts', the organization
    /// token's) is checked, and replaced when Calendly disabled or lost it.
    public var subscriptionCheckInterval: Duration = .seconds(900)
    /// How long an OAuth `state` (an authorization under way) stays good.
    /// How often each connected expert is reconciled with Calendly's API (spread over it);
    /// nil: never in the background (`availd calendly reconcile` still does it).
    public var reconcileInterval: Duration? = .seconds(3600)
    /// How far before the last complete pass a reconciliation window starts (and the first
    /// one before now): covers no-shows marked after a meeting.
    public var reconcileLookback: Duration = .seconds(86_400)
    public var oauthStateLifetime: Duration = .seconds(600)
    /// The most appends one transaction (one fsync) commits.
    public var maxBatchSize: Int
    /// How long a command or a `min_position` read waits for the projector.
    public var projectionWaitTimeout: Duration
    /// The longest range one `event_type_available_times` call asks for: 31 days, or 7 for
    /// older Calendly accounts.
    public var calendlyWindowDays: Int = 31
    /// How long Calendly availability is served from cache (a delivery for the expert drops it).
    public var calendlyCacheTTL: Duration = .seconds(30)
    /// The most windows of Calendly availability cached at once; past it the oldest goes.
    public var calendlyCacheEntries = 1024
    /// On graceful shutdown, how long the projector may take to fold what the log holds before
    /// the daemon exits anyway (with a warning).
    public var projectionDrainTimeout: Duration = .seconds(10)
    /// How often an open event stream checks that its token was not revoked by another process
    /// (a revocation over HTTP ends it at once).
    public var streamTokenRecheck: Duration = .seconds(5)
    /// Connections, requests in flight, header size, time-outs.
    public var limits = ServerLimits()

    public init(
        host: String = "127.0.0.1",
        port: Int = 8080,
        databasePath: String = "./var/availd.sqlite",
        signingKeys: [String],
        signatureTolerance: Int64 = 180,
        maxBodyBytes: Int = 1_048_576,
        adminToken: String,
        calendlyAPI: String = "https://api.calendly.com",
        calendlyToken: String? = nil,
        maxBatchSize: Int = 1024,
        projectionWaitTimeout: Duration = .seconds(5)
    ) {
        self.host = host
        self.port = port
        self.databasePath = databasePath
        self.signingKeys = signingKeys
        self.signatureTolerance = signatureTolerance
        self.maxBodyBytes = maxBodyBytes
        self.adminToken = adminToken
        self.calendlyAPI = calendlyAPI
        self.calendlyToken = calendlyToken
        self.maxBatchSize = maxBatchSize
        self.projectionWaitTimeout = projectionWaitTimeout
    }

    /// An in-memory daemon on a free port with known secrets.
    public static func testing(
        databasePath: String = ":memory:",
        signingKeys: [String] = ["test-signing-key"],
        adminToken: String = "test-admin-token",
        maxBodyBytes: Int = 1_048_576
    ) -> Configuration {
        var configuration = Configuration(
            port: 0,
            databasePath: databasePath,
            signingKeys: signingKeys,
            maxBodyBytes: maxBodyBytes,
            adminToken: adminToken
        )
        // Tests of everything else see no background reconciliation; its own turn it on.
        configuration.reconcileInterval = nil
        return configuration
    }

    /// Refuses a configuration the daemon cannot honour.
    public func validate() throws(ConfigurationError) {
        if signingKeys.isEmpty || signingKeys.contains(where: \.isEmpty) {
            throw .invalid("at least one non-empty signing key is required")
        }
        if adminToken.isEmpty { throw .invalid("the admin token must not be empty") }
        if limits.maxConnections < 1 || limits.maxInFlightRequests < 1 { throw .invalid("connection and request bounds must be at least 1") }
        if limits.maxHeaderBytes < 1024 { throw .invalid("the header limit must be at least 1024 bytes") }
        if limits.idleTimeout <= .zero || limits.requestTimeout <= .zero || limits.writeTimeout <= .zero {
            throw .invalid("time-outs must be positive")
        }
        if limits.maxStreamsPerExpert < 1 { throw .invalid("the bound on event streams per expert must be at least 1") }
        if calendlyCacheEntries < 1 { throw .invalid("the Calendly cache must hold at least 1 window") }
        if !(0...65535).contains(port) { throw .invalid("port \(port) is out of range") }
        if signatureTolerance < 0 { throw .invalid("the signature tolerance must not be negative") }
        if maxBodyBytes < 1 { throw .invalid("the body limit must be at least 1 byte") }
        if maxBatchSize < 1 { throw .invalid("the batch size must be at least 1") }
        if !(1...31).contains(calendlyWindowDays) { throw .invalid("the Calendly window must be 1 to 31 days") }
        if secretKey.utf8.count < TokenSealer.minimumSecretLength {
            throw .invalid("the secret key must be at least \(TokenSealer.minimumSecretLength) characters")
        }
        if let app = calendlyOAuth, app.clientID.isEmpty || app.clientSecret.isEmpty {
            throw .invalid("the Calendly OAuth app needs both a client id and a client secret")
        }
        if let publicURL, !(publicURL.hasPrefix("http://") || publicURL.hasPrefix("https://")) || publicURL.hasSuffix("/") {
            throw .invalid("the public URL must be http(s)://HOST[:PORT][/PATH] without a trailing slash")
        }
        if !(calendlyAuth.hasPrefix("http://") || calendlyAuth.hasPrefix("https://")) {
            throw .invalid("the Calendly auth URL must be http(s)")
        }
        if tokenRefreshMargin < .zero || oauthStateLifetime <= .zero { throw .invalid("OAuth durations must be positive") }
        if subscriptionCheckInterval <= .zero { throw .invalid("the subscription check interval must be positive") }
        if calendlyCacheTTL < .zero { throw .invalid("the Calendly cache TTL must not be negative") }
    }
}
