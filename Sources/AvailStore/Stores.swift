import AvailCore
import Foundation

// The stores beside the log, as the server and the commands use them: one protocol each, kept
// in SQLite by this module (`DeadLetters`, `ExpertTokens`, …) and in PostgreSQL by
// AvailPostgres (`PostgresDeadLetters`, …). Both keep the same promises, which the contract
// tests ask of each (Tests/AvailPostgresTests). What they hold is access and operational
// state, never domain state: nothing here is in the log, `export` or the read models.

/// Signed bodies that could not be logged, kept with their raw bytes so nothing is lost.
public protocol DeadLetterStore: Sendable {
    /// Keeps one; its id, increasing.
    @discardableResult
    func add(receivedAt: Timestamp, code: String, reason: String, body: Data, signature: String?) async throws -> Int64

    /// Up to `limit` dead letters after `id`, oldest first.
    func list(after id: Int64, limit: Int) async throws -> [DeadLetter]
}

/// Expert tokens, kept by the SHA-256 of their secrets; every write durable.
public protocol ExpertTokenStore: Sendable {
    /// Issues a token for `expertID`; the returned token's secret is never seen again.
    func issue(expertID: String, label: String?, at time: Timestamp) async throws -> (ExpertTokenRecord, ExpertToken)
    /// The expert a presented token belongs to, or `nil` when it is unknown, revoked, or wrong.
    func expert(for token: ExpertToken) async throws -> String?
    /// The expert's tokens that are still valid, oldest first.
    func active(expertID: String) async throws -> [ExpertTokenRecord]
    /// Revokes one of the expert's tokens; `false` when it has no such valid token.
    func revoke(expertID: String, tokenID: String, at time: Timestamp) async throws -> Bool
}

/// Calendar feeds, kept like expert tokens.
public protocol CalendarFeedStore: Sendable {
    /// Creates a feed for `expertID`; the returned token's secret is never seen again.
    func create(expertID: String, at time: Timestamp) async throws -> (CalendarFeedRecord, CalendarFeedToken)
    /// The expert whose feed `token` opens, or `nil` when it is unknown, revoked, or wrong.
    func expert(for token: CalendarFeedToken) async throws -> String?
    /// The expert's feeds that still open, oldest first.
    func active(expertID: String) async throws -> [CalendarFeedRecord]
    /// Revokes one of the expert's feeds; `false` when it has no such open feed.
    func revoke(expertID: String, feedID: String, at time: Timestamp) async throws -> Bool
}

/// Each expert's Calendly tokens, sealed (`TokenSealer`), every write durable: a refresh token
/// Calendly rotated is stored before the new access token is used.
public protocol CalendlyCredentialStore: Sendable {
    /// Stores a new connection's tokens (a first connection, or a reconnect), replacing any.
    func store(expertID: String, userURI: String, tokens: CalendlyTokens, at time: Timestamp) async throws
    /// The expert's credentials, opened; nil when there are none.
    func load(expertID: String) async throws -> StoredCalendlyCredentials?
    /// Replaces the tokens of version `version` with their rotation. False, and nothing
    /// written, when the stored version is another (someone else rotated or reconnected).
    func rotate(expertID: String, userURI: String, from version: Int64, to tokens: CalendlyTokens, at time: Timestamp) async throws -> Bool
    /// Marks version `version` as refused by Calendly; false when it is no longer stored.
    func markNeedsReconnect(expertID: String, version: Int64, at time: Timestamp) async throws -> Bool
    /// Erases the expert's tokens (a disconnect).
    func erase(expertID: String) async throws
    /// The expert whose stored connection is `userURI`'s, if any.
    func expert(holding userURI: String) async throws -> String?
}

/// The `state` of each OAuth authorization under way, kept by its SHA-256, the verifier sealed.
public protocol OAuthStateStore: Sendable {
    /// Keeps `pending` under `state` (and drops the expired ones).
    func create(state: String, _ pending: PendingAuthorization) async throws
    /// The pending authorization of `state`, removed in the same step: a state works once.
    func take(state: String) async throws -> PendingAuthorization?
}

/// Where each expert's reconciliation stands.
public protocol ReconcileProgressStore: Sendable {
    func load(expertID: String) async throws -> ReconcileProgress?
    /// Every expert's, by expert id.
    func all() async throws -> [ReconcileProgress]
    /// Starts a pass over `expertID`'s events from `windowStart` (replacing any under way).
    func begin(expertID: String, userURI: String, windowStart: Timestamp, at time: Timestamp) async throws
    /// The pages before `pageToken` are done.
    func advance(expertID: String, pageToken: String, at time: Timestamp) async throws
    /// The pass under way is complete: the next one starts from its start.
    func complete(expertID: String, appended: Int, at time: Timestamp) async throws
    /// The pass under way stopped on `error`; it stays under way, to go on from its page.
    func failed(expertID: String, error: String, at time: Timestamp) async throws
}

/// The organization token's subscriptions and the last check of every subscription.
public protocol SubscriptionStore: Sendable {
    /// Every organization-token subscription, oldest first.
    func organizationSubscriptions() async throws -> [OrganizationSubscription]
    /// Records `subscription` (created or adopted); one already known keeps its row.
    func add(_ subscription: OrganizationSubscription) async throws
    /// Puts `new` in the place of `old`, in one transaction: the old one's row and last check
    /// go, the new one's check says what Calendly answered when creating it.
    func replace(_ old: String, with new: OrganizationSubscription, state: String, at time: Timestamp) async throws
    /// Records what a check found, replacing the subscription's previous check.
    func record(_ check: SubscriptionCheck) async throws
    /// The last check of every subscription, by its URI.
    func checks() async throws -> [String: SubscriptionCheck]
}

extension TokenSealer {
    /// An expert's Calendly tokens, sealed to that expert and that Calendly user: they open for
    /// no other row.
    public func seal(_ tokens: CalendlyTokens, expertID: String, userURI: String) throws -> Data {
        try seal(try JSONEncoder().encode(tokens), context: Self.tokensContext(expertID: expertID, userURI: userURI))
    }

    public func openTokens(_ sealed: Data, expertID: String, userURI: String) throws -> CalendlyTokens {
        try JSONDecoder().decode(CalendlyTokens.self, from: open(sealed, context: Self.tokensContext(expertID: expertID, userURI: userURI)))
    }

    /// A PKCE verifier, sealed to the SHA-256 of its authorization's `state`.
    public func sealVerifier(_ verifier: String, stateHash: [UInt8]) throws -> Data {
        try seal(Data(verifier.utf8), context: Self.verifierContext(stateHash))
    }

    public func openVerifier(_ sealed: Data, stateHash: [UInt8]) throws -> String {
        String(decoding: try open(sealed, context: Self.verifierContext(stateHash)), as: UTF8.self)
    }

    static func tokensContext(expertID: String, userURI: String) -> String {
        "availd calendly tokens v1\u{0}\(expertID)\u{0}\(userURI)"
    }

    static func verifierContext(_ stateHash: [UInt8]) -> String {
        "availd oauth verifier v1\u{0}" + Hex.encode(stateHash)
    }
}

/// Every store of one database, as the daemon and the commands take them: SQLite's
/// (`AvailDatabase.stores(sealer:)`) or PostgreSQL's (`AvailPostgresDatabase.stores(sealer:)`).
public struct Stores: Sendable {
    public var log: any EventStore
    public var deadLetters: any DeadLetterStore
    public var expertTokens: any ExpertTokenStore
    public var calendarFeeds: any CalendarFeedStore
    public var calendlyCredentials: any CalendlyCredentialStore
    public var oauthStates: any OAuthStateStore
    public var reconcileProgress: any ReconcileProgressStore
    public var subscriptions: any SubscriptionStore

    public init(
        log: any EventStore, deadLetters: any DeadLetterStore, expertTokens: any ExpertTokenStore,
        calendarFeeds: any CalendarFeedStore, calendlyCredentials: any CalendlyCredentialStore, oauthStates: any OAuthStateStore,
        reconcileProgress: any ReconcileProgressStore, subscriptions: any SubscriptionStore
    ) {
        self.log = log
        self.deadLetters = deadLetters
        self.expertTokens = expertTokens
        self.calendarFeeds = calendarFeeds
        self.calendlyCredentials = calendlyCredentials
        self.oauthStates = oauthStates
        self.reconcileProgress = reconcileProgress
        self.subscriptions = subscriptions
    }
}

extension AvailDatabase {
    /// This database's stores; `sealer` seals the Calendly tokens and OAuth verifiers.
    public func stores(sealer: TokenSealer) -> Stores {
        Stores(
            log: log, deadLetters: DeadLetters(database: self), expertTokens: ExpertTokens(database: self),
            calendarFeeds: CalendarFeeds(database: self), calendlyCredentials: CalendlyCredentials(database: self, sealer: sealer),
            oauthStates: OAuthStates(database: self, sealer: sealer), reconcileProgress: ReconcileProgressRecords(database: self),
            subscriptions: SubscriptionRecords(database: self))
    }
}
