import ArgumentParser
import AvailCore
import AvailServer
import Foundation
import Hummingbird
import Logging

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "Run the daemon.")

    @OptionGroup var database: DatabaseOptions

    @Option(help: "Address to listen on [AVAILD_HOST, default 127.0.0.1].")
    var host: String?

    @Option(help: "Port to listen on; 0 picks a free one [AVAILD_PORT, default 8080].")
    var port: Int?

    @Option(name: .customLong("signing-key"), help: "A webhook signing key; repeat to accept several (rotation) [AVAILD_SIGNING_KEYS, comma-separated, or the credential signing-keys].")
    var signingKeys: [String] = []

    @Option(name: .customLong("signature-tolerance"), help: "Seconds a signature's t may be from now [AVAILD_SIGNATURE_TOLERANCE, default 180].")
    var signatureTolerance: Int64?

    @Option(name: .customLong("max-body-bytes"), help: "Largest webhook body accepted [AVAILD_MAX_BODY_BYTES, default 1048576].")
    var maxBodyBytes: Int?

    @Option(name: .customLong("admin-token"), help: "Bearer token for admin endpoints [AVAILD_ADMIN_TOKEN, or the credential admin-token].")
    var adminToken: String?

    @OptionGroup var calendly: CalendlyOptions

    @Option(name: .customLong("public-url"), help: "This daemon's URL as browsers and Calendly reach it: the base of the OAuth redirect URI [AVAILD_PUBLIC_URL, default http://HOST:PORT].")
    var publicURL: String?

    @Option(name: .customLong("calendly-cache-ttl"), help: "Seconds Calendly availability is served from cache; 0 asks every time [AVAILD_CALENDLY_CACHE_TTL, default 30].")
    var calendlyCacheTTL: Double?

    @Option(name: .customLong("subscription-check-interval"), help: "Seconds between checks of every webhook subscription availd knows: connected accounts' and the organization token's [AVAILD_SUBSCRIPTION_CHECK_INTERVAL, default 900].")
    var subscriptionCheckInterval: Double?

    @Option(name: .customLong("reconcile-interval"), help: "Seconds over which every connected expert is reconciled once with Calendly's API; 0: never in the background [AVAILD_RECONCILE_INTERVAL, default 3600].")
    var reconcileInterval: Double?

    @Option(name: .customLong("token-refresh-margin"), help: "Seconds before a Calendly access token expires that it is refreshed [AVAILD_TOKEN_REFRESH_MARGIN, default 300].")
    var tokenRefreshMargin: Double?

    @Option(
        name: .customLong("calendly-window-days"),
        help: "Longest range one Calendly availability call asks for: 31, or 7 for older accounts [AVAILD_CALENDLY_WINDOW_DAYS, default 31].")
    var calendlyWindowDays: Int?

    @Option(name: .customLong("max-connections"), help: "Open connections at once; past it 503 [AVAILD_MAX_CONNECTIONS, default 1024].")
    var maxConnections: Int?

    @Option(name: .customLong("max-in-flight"), help: "Requests answered at once; past it 503 [AVAILD_MAX_IN_FLIGHT, default 256].")
    var maxInFlight: Int?

    @Option(name: .customLong("max-header-bytes"), help: "Largest request line and headers; past it 431 [AVAILD_MAX_HEADER_BYTES, default 16384].")
    var maxHeaderBytes: Int?

    @Option(name: .customLong("idle-timeout"), help: "Seconds a connection may sit between requests [AVAILD_IDLE_TIMEOUT, default 60].")
    var idleTimeout: Double?

    @Option(name: .customLong("request-timeout"), help: "Seconds from a request's first byte to its last; past it 408 [AVAILD_REQUEST_TIMEOUT, default 30].")
    var requestTimeout: Double?

    @Option(name: .customLong("write-timeout"), help: "Seconds an answer may make no progress (the client reads nothing); past it the connection closes [AVAILD_WRITE_TIMEOUT, default 30].")
    var writeTimeout: Double?

    @Option(name: .customLong("max-streams-per-expert"), help: "Event streams one expert may hold open; past it 429 [AVAILD_MAX_STREAMS_PER_EXPERT, default 8].")
    var maxStreamsPerExpert: Int?

    func run() async throws {
        // A file-size limit (ulimit -f) must fail the write, which answers 503, not kill the
        // daemon with SIGXFSZ mid-request.
        signal(SIGXFSZ, SIG_IGN)
        let postgres = database.isPostgres
        let databasePath = postgres ? database.path : try database.preparedPath()
        let databasePassword = postgres ? try database.postgresPassword() : nil

        var keys = signingKeys.isEmpty ? try Environment.signingKeys() : signingKeys
        keys.removeAll(where: \.isEmpty)
        var token = try adminToken ?? Environment.secret("AVAILD_ADMIN_TOKEN", credential: "admin-token")
        var sealingKey = try calendly.givenSecretKey
        if postgres {
            // Every daemon on the database must verify the same signatures and open the same
            // sealed tokens: nothing is generated for one of them alone.
            guard !keys.isEmpty, token != nil, sealingKey != nil else {
                throw ValidationError(
                    "on PostgreSQL every daemon needs the same --signing-key, --admin-token and --secret-key (or AVAILD_SIGNING_KEYS, AVAILD_ADMIN_TOKEN, AVAILD_SECRET_KEY, or their credentials): none is generated")
            }
        }
        if keys.isEmpty {
            keys = [try firstRunSecret(databasePath: databasePath, suffix: "signing-key", name: "signing key")]
        }
        if token == nil {
            token = try firstRunSecret(databasePath: databasePath, suffix: "admin-token", name: "admin token")
        }

        let calendlyToken = try calendly.organizationToken
        if sealingKey == nil {
            sealingKey = try firstRunSecret(databasePath: databasePath, suffix: "secret-key", name: "secret key", printed: false)
        }
        let clientSecret = try calendly.givenClientSecret
        let logger = Log.bootstrap(secrets: keys + [token, calendlyToken, sealingKey, clientSecret, databasePassword].compactMap { $0 })

        var configuration = AvailServer.Configuration(
            host: host ?? Environment.value("AVAILD_HOST") ?? "127.0.0.1",
            port: try port ?? Environment.parse("AVAILD_PORT", as: Int.self, Int.init) ?? 8080,
            databasePath: databasePath,
            signingKeys: keys,
            signatureTolerance: try signatureTolerance ?? Environment.parse("AVAILD_SIGNATURE_TOLERANCE", as: Int64.self, Int64.init) ?? 180,
            maxBodyBytes: try maxBodyBytes ?? Environment.parse("AVAILD_MAX_BODY_BYTES", as: Int.self, Int.init) ?? 1_048_576,
            adminToken: token ?? "",
            calendlyAPI: calendly.apiURL,
            calendlyToken: calendlyToken
        )
        configuration.databasePassword = databasePassword
        configuration.calendlyWindowDays =
            try calendlyWindowDays ?? Environment.parse("AVAILD_CALENDLY_WINDOW_DAYS", as: Int.self, Int.init) ?? 31
        configuration.limits = try limits()
        configuration.secretKey = sealingKey ?? ""
        if let seconds = try calendlyCacheTTL ?? Environment.parse("AVAILD_CALENDLY_CACHE_TTL", as: Double.self, Double.init) {
            configuration.calendlyCacheTTL = .milliseconds(Int64(seconds * 1000))
        }
        if let seconds = try subscriptionCheckInterval ?? Environment.parse("AVAILD_SUBSCRIPTION_CHECK_INTERVAL", as: Double.self, Double.init) {
            configuration.subscriptionCheckInterval = .milliseconds(Int64(seconds * 1000))
        }
        if let seconds = try reconcileInterval ?? Environment.parse("AVAILD_RECONCILE_INTERVAL", as: Double.self, Double.init) {
            guard seconds >= 0 else { throw ValidationError("--reconcile-interval must be 0 or more seconds") }
            configuration.reconcileInterval = seconds == 0 ? nil : .milliseconds(Int64(seconds * 1000))
        }
        if let seconds = try tokenRefreshMargin ?? Environment.parse("AVAILD_TOKEN_REFRESH_MARGIN", as: Double.self, Double.init) {
            configuration.tokenRefreshMargin = .milliseconds(Int64(seconds * 1000))
        }
        configuration.calendlyAuth = calendly.authURL
        configuration.publicURL = publicURL ?? Environment.value("AVAILD_PUBLIC_URL")
        configuration.calendlyOAuth = try calendly.oauthApp()
        if configuration.calendlyOAuth == nil {
            say("availd: no Calendly OAuth app (--calendly-client-id, --calendly-client-secret): experts cannot connect their own Calendly accounts")
        }
        let app = try await buildApplication(configuration: configuration, logger: logger) { host, port in
            say("availd listening on http://\(host):\(port)")
        }
        try await app.runService()
        logger.info("availd stopped")
    }

    private func limits() throws -> ServerLimits {
        var limits = ServerLimits()
        limits.maxConnections = try maxConnections ?? Environment.parse("AVAILD_MAX_CONNECTIONS", as: Int.self, Int.init) ?? limits.maxConnections
        limits.maxInFlightRequests = try maxInFlight ?? Environment.parse("AVAILD_MAX_IN_FLIGHT", as: Int.self, Int.init) ?? limits.maxInFlightRequests
        limits.maxHeaderBytes = try maxHeaderBytes ?? Environment.parse("AVAILD_MAX_HEADER_BYTES", as: Int.self, Int.init) ?? limits.maxHeaderBytes
        if let seconds = try idleTimeout ?? Environment.parse("AVAILD_IDLE_TIMEOUT", as: Double.self, Double.init) {
            limits.idleTimeout = .milliseconds(Int64(seconds * 1000))
        }
        if let seconds = try requestTimeout ?? Environment.parse("AVAILD_REQUEST_TIMEOUT", as: Double.self, Double.init) {
            limits.requestTimeout = .milliseconds(Int64(seconds * 1000))
        }
        if let seconds = try writeTimeout ?? Environment.parse("AVAILD_WRITE_TIMEOUT", as: Double.self, Double.init) {
            limits.writeTimeout = .milliseconds(Int64(seconds * 1000))
        }
        limits.maxStreamsPerExpert = try maxStreamsPerExpert
            ?? Environment.parse("AVAILD_MAX_STREAMS_PER_EXPERT", as: Int.self, Int.init) ?? limits.maxStreamsPerExpert
        return limits
    }

    /// A generated secret kept beside the database (with `:memory:` there is nowhere to keep
    /// it). Printed as `availd NAME: SECRET` only when created by this run; a restart says
    /// where it is kept, not what it is.
    /// A secret only availd itself uses (`printed: false`) is never printed, only where it is.
    private func firstRunSecret(databasePath: String, suffix: String, name: String, printed: Bool = true) throws -> String {
        guard databasePath != ":memory:" else {
            let secret = Secret.generate()
            if printed { say("availd \(name): \(secret)") }
            return secret
        }
        let file = SecretFile(database: databasePath, suffix: suffix)
        let (secret, created) = try file.loadOrCreate()
        say(created && printed ? "availd \(name): \(secret)" : "availd \(name) \(created ? "created in" : "kept in") \(file.path)")
        return secret
    }
}
