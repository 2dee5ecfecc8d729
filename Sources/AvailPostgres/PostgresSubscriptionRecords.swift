import AvailCore
import AvailStore
import Foundation
import PostgresNIO

/// The organization token's subscriptions and every subscription's last check, in PostgreSQL
/// (`SubscriptionStore`). Every write durable.
public struct PostgresSubscriptionRecords: SubscriptionStore {
    let database: AvailPostgresDatabase

    public init(database: AvailPostgresDatabase) {
        self.database = database
    }

    public func organizationSubscriptions() async throws -> [OrganizationSubscription] {
        try await database.query("""
            SELECT subscription_uri, callback_url, scope, organization, user_uri, events, created_at
            FROM organization_subscriptions ORDER BY created_at, subscription_uri
            """).map { row in
            let (uri, callbackURL, scope, organization, user, events, createdAt) =
                try row.decode((String, String, String, String, String?, String, String).self)
            return OrganizationSubscription(
                uri: uri, callbackURL: callbackURL, scope: OrganizationSubscription.Scope(rawValue: scope) ?? .organization,
                organization: organization, user: user, events: try JSONDecoder().decode([String].self, from: Data(events.utf8)),
                createdAt: Timestamp(rfc3339: createdAt) ?? Timestamp(microseconds: 0))
        }
    }

    public func add(_ subscription: OrganizationSubscription) async throws {
        try await database.durableQuery(try Self.insert(subscription))
    }

    public func replace(_ old: String, with new: OrganizationSubscription, state: String, at time: Timestamp) async throws {
        let insert = try Self.insert(new)
        let logger = database.logger
        try await database.durableTransaction { connection in
            try await connection.query("DELETE FROM organization_subscriptions WHERE subscription_uri = \(old)", logger: logger)
            try await connection.query("DELETE FROM subscription_checks WHERE subscription_uri = \(old)", logger: logger)
            try await connection.query(insert, logger: logger)
            try await connection.query(
                Self.upsert(SubscriptionCheck(subscriptionURI: new.uri, expertID: nil, state: state, checkedAt: time)), logger: logger)
        }
    }

    public func record(_ check: SubscriptionCheck) async throws {
        try await database.durableQuery(Self.upsert(check))
    }

    public func checks() async throws -> [String: SubscriptionCheck] {
        var checks: [String: SubscriptionCheck] = [:]
        for row in try await database.query("SELECT subscription_uri, expert_id, state, checked_at FROM subscription_checks") {
            let (uri, expertID, state, checkedAt) = try row.decode((String, String?, String, String).self)
            checks[uri] = SubscriptionCheck(
                subscriptionURI: uri, expertID: expertID, state: state, checkedAt: Timestamp(rfc3339: checkedAt) ?? Timestamp(microseconds: 0))
        }
        return checks
    }

    private static func insert(_ subscription: OrganizationSubscription) throws -> PostgresQuery {
        let events = String(decoding: try JSONEncoder().encode(subscription.events), as: UTF8.self)
        let user = subscription.scope == .user ? subscription.user : nil
        return """
            INSERT INTO organization_subscriptions (subscription_uri, callback_url, scope, organization, user_uri, events, created_at)
            VALUES (\(subscription.uri), \(subscription.callbackURL), \(subscription.scope.rawValue), \(subscription.organization),
                    \(user), \(events), \(subscription.createdAt.description))
            ON CONFLICT (subscription_uri) DO NOTHING
            """
    }

    private static func upsert(_ check: SubscriptionCheck) -> PostgresQuery {
        """
        INSERT INTO subscription_checks (subscription_uri, expert_id, state, checked_at)
        VALUES (\(check.subscriptionURI), \(check.expertID), \(check.state), \(check.checkedAt.description))
        ON CONFLICT (subscription_uri) DO UPDATE SET expert_id = excluded.expert_id, state = excluded.state,
            checked_at = excluded.checked_at
        """
    }
}
