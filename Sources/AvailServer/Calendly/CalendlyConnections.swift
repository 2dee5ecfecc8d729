import AvailClient
import AvailCore
import AvailStore
import Foundation
import HTTPTypes
import Logging
import Synchronization

/// Which Calendly token speaks for an expert, kept fresh.
///
/// An expert who connected their own account (OAuth) is asked about with that account's token
/// and nothing else; any other expert with the organization token (`--calendly-token`), if one
/// is configured.
///
/// Access tokens live two hours. One that expires within `refreshMargin` is still used while a
/// refresh runs in the background; one already expired waits for it. Refreshes run **one at a
/// time per expert** (single flight: every caller during a refresh shares it; with several
/// daemons on one database, `sharedLock` holds the others' back too), and Calendly's
/// rotated pair is stored (durably, compare-and-swap on the stored version) before the new
/// access token is handed to anyone. `invalid_grant` marks the connection `needs_reconnect`,
/// unless the stored tokens changed meanwhile (another process refreshed first): then those
/// are used, and the connection is not lost.
final class CalendlyConnections: Sendable {
    let apiBase: String
    let organizationToken: String?
    let app: CalendlyOAuthApp?
    let authURL: String
    let publicURL: PublicURL
    let credentials: any CalendlyCredentialStore
    let commands: Commands
    let refreshMargin: Duration
    /// One refresh per expert across every daemon on the database; nil where this is the only one.
    let sharedLock: (any DatabaseLock)?
    let logger: Logger
    let metrics: AvailMetrics?
    private let refreshes = Mutex<[String: Task<CalendlyTokens, any Error>]>([:])

    init(
        apiBase: String, organizationToken: String?, app: CalendlyOAuthApp?, authURL: String, publicURL: PublicURL,
        credentials: any CalendlyCredentialStore, commands: Commands, refreshMargin: Duration, logger: Logger,
        metrics: AvailMetrics? = nil, sharedLock: (any DatabaseLock)? = nil
    ) {
        self.metrics = metrics
        self.sharedLock = sharedLock
        self.apiBase = apiBase
        self.organizationToken = organizationToken
        self.app = app
        self.authURL = authURL
        self.publicURL = publicURL
        self.credentials = credentials
        self.commands = commands
        self.refreshMargin = refreshMargin
        self.logger = logger
    }

    /// The OAuth app's client, redirecting to this daemon's callback; nil without an app.
    var oauth: CalendlyOAuthClient? {
        guard let app else { return nil }
        var client = CalendlyOAuthClient(
            authURL: authURL, clientID: app.clientID, clientSecret: app.clientSecret,
            redirectURI: publicURL.value + "/oauth/calendly/callback")
        client.observe = observer
        return client
    }

    /// Whether anything can ask Calendly for `expert`.
    func canAsk(for expert: ExpertProfile) -> Bool {
        expert.calendlyAccount != nil || organizationToken != nil
    }

    /// Runs `call` with the client that speaks for `expert`. A 401 on an account's token makes
    /// one refresh and one more try (the token may have been revoked early).
    func perform<T: Sendable>(for expert: ExpertProfile?, _ call: (CalendlyClient) async throws(CalendlyError) -> T) async throws -> T {
        guard let expert, let account = expert.calendlyAccount else {
            guard let organizationToken else { throw CalendlyFailure.noToken }
            return try await call(client(organizationToken))
        }
        if account.status == .needsReconnect { throw Self.reconnectNeeded(expert.id) }
        let tokens = try await current(expert.id, userURI: account.userURI)
        do {
            return try await call(client(tokens.accessToken))
        } catch .unauthorized {
            let fresh = try await refreshed(expert.id, userURI: account.userURI, replacing: tokens.accessToken)
            return try await call(client(fresh.accessToken))
        }
    }

    /// What the expert's Calendly account offers (`GET /event_types?user=`): with their own
    /// account's token, or with the organization token for the user of their connection.
    func eventTypes(of expert: ExpertProfile) async throws -> [CalendlyEventType] {
        guard let user = expert.calendlyAccount?.userURI ?? (organizationToken != nil ? expert.calendlyConfig?.userURI : nil) else {
            throw CalendlyFailure.notConnected(expert: expert.id, what: "which event types it offers")
        }
        do {
            return try await perform(for: expert) { client throws(CalendlyError) in try await client.eventTypes(user: user) }
        } catch let error as CalendlyError {
            throw CalendlyFailure.unavailable("\(error)")
        }
    }

    /// The tokens to use now: the stored ones, refreshed first if they expired, or in the
    /// background if they soon will.
    private func current(_ expertID: String, userURI: String) async throws -> CalendlyTokens {
        guard let stored = try await load(expertID), stored.userURI == userURI else {
            throw Self.reconnectNeeded(expertID)
        }
        if stored.needsReconnect { throw Self.reconnectNeeded(expertID) }
        let now = Timestamp.now()
        let remaining = Duration.microseconds(stored.tokens.expiresAt.microseconds - now.microseconds)
        if remaining > refreshMargin { return stored.tokens }
        let refresh = refreshTask(expertID, userURI: userURI)
        // Still good for a while: answer with it, and let the refresh land on its own.
        if remaining > Self.stillUsable { return stored.tokens }
        return try await refresh.value
    }

    /// A refresh that replaces `accessToken` (after Calendly refused it), shared with any
    /// refresh already running.
    private func refreshed(_ expertID: String, userURI: String, replacing accessToken: String) async throws -> CalendlyTokens {
        if let stored = try await credentials.load(expertID: expertID), stored.tokens.accessToken != accessToken, !stored.needsReconnect {
            return stored.tokens
        }
        return try await refreshTask(expertID, userURI: userURI, rejected: accessToken).value
    }

    /// The refresh under way for `expertID`, or a new one. Unstructured, so a caller that is
    /// cancelled does not cancel it for the others; it ends within the OAuth client's time-out.
    private func refreshTask(_ expertID: String, userURI: String, rejected: String? = nil) -> Task<CalendlyTokens, any Error> {
        refreshes.withLock { running in
            if let task = running[expertID] { return task }
            let task = Task { [self] in
                defer { _ = refreshes.withLock { $0.removeValue(forKey: expertID) } }
                guard let sharedLock else { return try await refresh(expertID, userURI: userURI, rejected: rejected) }
                // Another daemon's refresh may land while this one waits: `refresh` reads the
                // stored pair again once it holds the lock, and uses theirs.
                return try await sharedLock.withLock("calendly refresh of \(expertID)") {
                    try await self.refresh(expertID, userURI: userURI, rejected: rejected)
                }
            }
            running[expertID] = task
            return task
        }
    }

    /// Refreshes the stored pair, unless it already changed: it is fresh enough, or (after a
    /// 401) it is no longer the `rejected` token.
    private func refresh(_ expertID: String, userURI: String, rejected: String?) async throws -> CalendlyTokens {
        guard let oauth else {
            throw CalendlyFailure.reconnectNeeded(expert: expertID, why: .noOAuthApp)
        }
        guard let stored = try await load(expertID), stored.userURI == userURI, !stored.needsReconnect else {
            throw Self.reconnectNeeded(expertID)
        }
        // Someone refreshed while this one was queued.
        if let rejected {
            if stored.tokens.accessToken != rejected { return stored.tokens }
        } else if Duration.microseconds(stored.tokens.expiresAt.microseconds - Timestamp.now().microseconds) > refreshMargin {
            return stored.tokens
        }
        let grant: CalendlyTokenGrant
        do {
            grant = try await oauth.refresh(stored.tokens.refreshToken)
        } catch .invalidGrant(let why) {
            // Another process may have rotated it first: its tokens are the connection now.
            if let now = try await credentials.load(expertID: expertID), now.version != stored.version, !now.needsReconnect {
                return now.tokens
            }
            try await markNeedsReconnect(expertID, userURI: userURI, version: stored.version, reason: why)
            throw Self.reconnectNeeded(expertID)
        } catch {
            logger.warning("calendly token refresh failed", metadata: ["expert": "\(expertID)", "error": "\(error)"])
            // Calendly is down: the old token serves until it expires (unless Calendly refused it).
            if rejected == nil, stored.tokens.expiresAt.microseconds > Timestamp.now().microseconds + 1_000_000 { return stored.tokens }
            throw CalendlyFailure.unavailable("expert \(expertID)'s Calendly token could not be refreshed: \(error)")
        }
        guard grant.owner == userURI else {
            throw CalendlyFailure.unavailable("Calendly refreshed a token of another user")
        }
        let tokens = Self.tokens(grant)
        // Durable before use: the spent refresh token is worthless, the new one is the connection.
        if try await credentials.rotate(expertID: expertID, userURI: userURI, from: stored.version, to: tokens, at: .now()) {
            logger.info("calendly token refreshed", metadata: ["expert": "\(expertID)"])
            return tokens
        }
        // A reconnect (or another process) stored newer tokens meanwhile: those win.
        guard let now = try await credentials.load(expertID: expertID), !now.needsReconnect else { throw Self.reconnectNeeded(expertID) }
        return now.tokens
    }

    /// The stored credentials; tokens sealed with another secret key are as good as none.
    private func load(_ expertID: String) async throws -> StoredCalendlyCredentials? {
        do {
            return try await credentials.load(expertID: expertID)
        } catch let error as SealingError {
            logger.error("calendly tokens cannot be opened", metadata: ["expert": "\(expertID)", "error": "\(error)"])
            throw CalendlyFailure.reconnectNeeded(expert: expertID, why: .sealedWithAnotherKey)
        }
    }

    private func markNeedsReconnect(_ expertID: String, userURI: String, version: Int64, reason: String) async throws {
        guard try await credentials.markNeedsReconnect(expertID: expertID, version: version, at: .now()) else { return }
        logger.warning("calendly connection needs reconnecting", metadata: ["expert": "\(expertID)", "reason": "\(reason)"])
        try await commands.record(.reconnectNeeded(CalendlyReconnectNeeded(expertID: expertID, userURI: userURI, reason: reason, at: .now())))
    }

    /// What `grant` gives, with its expiry in absolute time.
    static func tokens(_ grant: CalendlyTokenGrant, now: Timestamp = .now()) -> CalendlyTokens {
        // `created_at` is Calendly's clock; this one's is what matters for "refresh before".
        CalendlyTokens(
            accessToken: grant.accessToken, refreshToken: grant.refreshToken,
            expiresAt: Timestamp(microseconds: now.microseconds + Int64(grant.expiresIn) * 1_000_000))
    }

    /// A token with less than this left is not handed out: the request waits for the refresh.
    static let stillUsable: Duration = .seconds(5)

    func client(_ token: String) -> CalendlyClient {
        var client = CalendlyClient(baseURL: apiBase, token: token)
        client.observe = observer
        return client
    }

    /// Counts each Calendly answer in the daemon's metrics.
    private var observer: (@Sendable (String, Int?) -> Void)? {
        guard let metrics else { return nil }
        return { endpoint, status in metrics.calendlyRequest(endpoint: endpoint, status: status) }
    }

    static func reconnectNeeded(_ expertID: String) -> CalendlyFailure {
        .reconnectNeeded(expert: expertID, why: .refused)
    }
}

/// This daemon's base URL as browsers and Calendly reach it: `--public-url`, or once the
/// server listens, `http://HOST:PORT` of its socket.
final class PublicURL: Sendable {
    private let state: Mutex<String>

    init(_ value: String) {
        state = Mutex(value)
    }

    var value: String { state.withLock { $0 } }

    func set(_ value: String) {
        state.withLock { $0 = value }
    }
}
