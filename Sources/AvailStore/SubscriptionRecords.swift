import AvailCore
import Foundation
import GRDB

/// A webhook subscription made with the organization token (`availd calendly subscribe`), as
/// availd keeps it to watch it. Never its signing key.
public struct OrganizationSubscription: Sendable, Equatable {
    public enum Scope: String, Sendable, CaseIterable {
        /// Every event type of the organization.
        case organization
        /// The token's own user's.
        case user
    }

    public var uri: String
    public var callbackURL: String
    public var scope: Scope
    public var organization: String
    /// The subscribed user, for `scope` `user` only.
    public var user: String?
    public var events: [String]
    /// When Calendly says it was created (else when availd recorded it).
    public var createdAt: Timestamp

    public init(
        uri: String, callbackURL: String, scope: Scope, organization: String, user: String?, events: [String], createdAt: Timestamp
    ) {
        self.uri = uri
        self.callbackURL = callbackURL
        self.scope = scope
        self.organization = organization
        self.user = user
        self.events = events
        self.createdAt = createdAt
    }
}

/// What the last check of a subscription that got an answer from Calendly found.
public struct SubscriptionCheck: Sendable, Equatable {
    public var subscriptionURI: String
    /// The expert whose own account's subscription it is; nil for the organization token's.
    public var expertID: String?
    /// `active`, `disabled`, `missing` (Calendly lists it no more).
    public var state: String
    public var checkedAt: Timestamp

    public init(subscriptionURI: String, expertID: String?, state: String, checkedAt: Timestamp) {
        self.subscriptionURI = subscriptionURI
        self.expertID = expertID
        self.state = state
        self.checkedAt = checkedAt
    }
}

/// The organization token's subscriptions and the last check of every subscription: kept
/// beside the log, not in it. What they describe is Calendly's state, not availd's, and a
/// rebuild or a digest never looks at them.
/// Subscriptions availd created must survive a power cut, or nothing would watch them: every
/// write is a `durableWrite`.
public struct SubscriptionRecords: SubscriptionStore {
    let database: AvailDatabase

    public init(database: AvailDatabase) {
        self.database = database
    }

    /// Every organization-token subscription, oldest first.
    public func organizationSubscriptions() async throws -> [OrganizationSubscription] {
        try await database.read { db in
            try Row.fetchAll(db, sql: "SELECT * FROM organization_subscriptions ORDER BY created_at, subscription_uri").map(Self.subscription)
        }
    }

    /// Records `subscription` (created or adopted); one already known keeps its row.
    public func add(_ subscription: OrganizationSubscription) async throws {
        let arguments = try Self.arguments(subscription)
        try await database.durableWrite { db in
            try db.execute(sql: Self.insert + " ON CONFLICT (subscription_uri) DO NOTHING", arguments: arguments)
        }
    }

    /// Puts `new` in the place of `old` (its replacement), in one transaction: the old one's row
    /// and last check go, the new one's check says what Calendly answered when creating it.
    public func replace(_ old: String, with new: OrganizationSubscription, state: String, at time: Timestamp) async throws {
        let arguments = try Self.arguments(new)
        try await database.durableWrite { db in
            try db.execute(sql: "DELETE FROM organization_subscriptions WHERE subscription_uri = ?", arguments: [old])
            try db.execute(sql: "DELETE FROM subscription_checks WHERE subscription_uri = ?", arguments: [old])
            try db.execute(sql: Self.insert + " ON CONFLICT (subscription_uri) DO NOTHING", arguments: arguments)
            try Self.upsert(SubscriptionCheck(subscriptionURI: new.uri, expertID: nil, state: state, checkedAt: time), db)
        }
    }

    /// Records what a check found, replacing the subscription's previous check.
    public func record(_ check: SubscriptionCheck) async throws {
        try await database.write { db in try Self.upsert(check, db) }
    }

    /// The last check of every subscription, by its URI.
    public func checks() async throws -> [String: SubscriptionCheck] {
        try await database.read { db in
            var checks: [String: SubscriptionCheck] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT * FROM subscription_checks") {
                let check = SubscriptionCheck(
                    subscriptionURI: row["subscription_uri"], expertID: row["expert_id"], state: row["state"],
                    checkedAt: Timestamp(rfc3339: row["checked_at"]) ?? Timestamp(microseconds: 0))
                checks[check.subscriptionURI] = check
            }
            return checks
        }
    }

    private static let insert = """
        INSERT INTO organization_subscriptions (subscription_uri, callback_url, scope, organization, user_uri, events, created_at)
        VALUES (?, ?, ?, ?, ?, ?, ?)
        """

    private static func arguments(_ subscription: OrganizationSubscription) throws -> StatementArguments {
        let events = String(decoding: try JSONEncoder().encode(subscription.events), as: UTF8.self)
        return [
            subscription.uri, subscription.callbackURL, subscription.scope.rawValue, subscription.organization,
            subscription.scope == .user ? subscription.user : nil, events, subscription.createdAt.description,
        ]
    }

    private static func upsert(_ check: SubscriptionCheck, _ db: Database) throws {
        try db.execute(
            sql: """
                INSERT INTO subscription_checks (subscription_uri, expert_id, state, checked_at) VALUES (?, ?, ?, ?)
                ON CONFLICT (subscription_uri) DO UPDATE SET expert_id = excluded.expert_id, state = excluded.state,
                    checked_at = excluded.checked_at
                """,
            arguments: [check.subscriptionURI, check.expertID, check.state, check.checkedAt.description])
    }

    private static func subscription(_ row: Row) throws -> OrganizationSubscription {
        let events = try JSONDecoder().decode([String].self, from: Data((row["events"] as String).utf8))
        return OrganizationSubscription(
            uri: row["subscription_uri"], callbackURL: row["callback_url"],
            scope: OrganizationSubscription.Scope(rawValue: row["scope"]) ?? .organization, organization: row["organization"],
            user: row["user_uri"], events: events, createdAt: Timestamp(rfc3339: row["created_at"]) ?? Timestamp(microseconds: 0))
    }
}
