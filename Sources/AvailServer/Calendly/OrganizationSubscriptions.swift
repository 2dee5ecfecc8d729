import AvailClient
import AvailCore
import AvailStore
import Foundation
import Logging

/// Webhook subscriptions made with the organization token (`--calendly-token`), for a
/// marketplace whose experts sit in its own Calendly organization (the README, "Staying in
/// sync with Calendly"): `availd calendly subscribe` creates one, the daemon's
/// `SubscriptionMonitor` watches it.
///
/// No event of the log says such a subscription exists (it is nobody's connection), so it is
/// kept in `SubscriptionRecords`; its signing key is not (it stays in the secret file or the
/// flag, where `serve` reads it). A personal access token's subscription is signed with the
/// `signing_key` it was created with: a replacement is created with one of the keys the daemon
/// accepts.
public struct OrganizationSubscriptions: Sendable {
    /// Speaks with the organization token; nil without one (nothing can be asked or created).
    let client: CalendlyClient?
    public let records: any SubscriptionStore
    let logger: Logger

    init(client: CalendlyClient?, records: any SubscriptionStore, logger: Logger) {
        self.client = client
        self.records = records
        self.logger = logger
    }

    /// For `availd calendly …`: the organization token's client on `api`.
    public init(api: String, token: String?, records: any SubscriptionStore, logger: Logger) {
        self.init(client: token.map { CalendlyClient(baseURL: api, token: $0) }, records: records, logger: logger)
    }

    /// Why a subscription cannot be made.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// What `subscribe` did.
    public struct Outcome: Sendable {
        public var subscription: OrganizationSubscription
        /// `active` or `disabled`, as Calendly answered.
        public var state: String
        /// Calendly already had one for the URL (its 409): adopted, with whatever signing key it
        /// was created with.
        public var adopted: Bool
    }

    /// Creates (or adopts) the subscription of the token's organization (`scope`
    /// `organization`) or of the token's own user (`user`) to `url`, for the invitee and
    /// no-show events, signed with `signingKey`, and records it so the daemon watches it.
    public func subscribe(url: String, scope: OrganizationSubscription.Scope, signingKey: String) async throws -> Outcome {
        guard let client else { throw Failure(description: "no organization token (--calendly-token) to subscribe with") }
        let me = try await client.me()
        guard let organization = me.currentOrganization else {
            throw Failure(description: "Calendly names no current organization for the token's user \(me.uri)")
        }
        let user = scope == .user ? me.uri : nil
        let (created, adopted) = try await client.ensureWebhookSubscription(
            url: url, organization: organization, scope: scope.rawValue, user: user, signingKey: signingKey)
        let subscription = Self.record(created, scope: scope, organization: organization, user: user)
        try await records.add(subscription)
        try await records.record(SubscriptionCheck(subscriptionURI: created.uri, expertID: nil, state: created.state, checkedAt: .now()))
        return Outcome(subscription: subscription, state: created.state, adopted: adopted)
    }

    /// What Calendly lists for `subscription`'s organization, scope and user, with the
    /// organization token.
    func listed(like subscription: OrganizationSubscription) async throws(CalendlyError) -> [CalendlyWebhookSubscription] {
        guard let client else { throw .unauthorized("no organization token (--calendly-token) is configured") }
        return try await client.webhookSubscriptions(
            organization: subscription.organization, scope: subscription.scope.rawValue, user: subscription.user)
    }

    /// Replaces `old`: a new subscription of the same scope on a new URL of the same endpoint,
    /// signed with `signingKey`, recorded in the old one's place; then the old one deleted at
    /// Calendly (when it still exists). The new one, once recorded; nil when it could not be made.
    func replace(
        _ old: OrganizationSubscription, reason: String, signingKey: String, fallbackBase: String, deleteOld: Bool
    ) async -> OrganizationSubscription? {
        guard let client else { return nil }
        let url = Self.replacementURL(for: old.callbackURL, fallbackBase: fallbackBase)
        let new: OrganizationSubscription
        do {
            let created = try await client.createWebhookSubscription(
                url: url, organization: old.organization, scope: old.scope.rawValue, user: old.user, signingKey: signingKey,
                events: old.events.isEmpty ? CalendlyClient.subscribedEvents : old.events)
            new = Self.record(created, scope: old.scope, organization: old.organization, user: old.user)
            try await records.replace(old.uri, with: new, state: created.state, at: .now())
            logger.warning(
                "calendly organization subscription replaced",
                metadata: ["old": "\(old.uri)", "new": "\(new.uri)", "reason": "\(reason)", "scope": "\(old.scope.rawValue)"])
        } catch {
            logger.error("calendly organization subscription could not be replaced", metadata: ["subscription": "\(old.uri)", "error": "\(error)"])
            return nil
        }
        if deleteOld {
            do {
                try await client.deleteWebhookSubscription(uri: old.uri)
            } catch {
                logger.warning(
                    "the replaced calendly organization subscription could not be deleted",
                    metadata: ["subscription": "\(old.uri)", "error": "\(error)"])
            }
        }
        return new
    }

    /// The same endpoint on a new suffix: `…/webhooks/calendly` and `…/webhooks/calendly/{suffix}`
    /// become `…/webhooks/calendly/r{new suffix}`. A URL that is not availd's webhook path (a proxy's
    /// own) gets one on `fallbackBase` (the daemon's public URL), the only one availd knows it serves.
    static func replacementURL(for old: String, fallbackBase: String) -> String {
        let suffix = "r" + Secret.generate(byteCount: 6)
        let endpoint = "/webhooks/calendly"
        guard var components = URLComponents(string: old) else { return fallbackBase + endpoint + "/" + suffix }
        var path = components.path
        if !path.hasSuffix(endpoint), let slash = path.lastIndex(of: "/"), path[..<slash].hasSuffix(endpoint) {
            path = String(path[..<slash])
        }
        guard path.hasSuffix(endpoint) else { return fallbackBase + endpoint + "/" + suffix }
        components.path = path + "/" + suffix
        return components.string ?? fallbackBase + endpoint + "/" + suffix
    }

    static func record(
        _ created: CalendlyWebhookSubscription, scope: OrganizationSubscription.Scope, organization: String, user: String?
    ) -> OrganizationSubscription {
        OrganizationSubscription(
            uri: created.uri, callbackURL: created.callbackURL, scope: scope, organization: created.organization ?? organization,
            user: scope == .user ? (created.user ?? user) : nil, events: created.events,
            createdAt: created.createdAt.flatMap(Timestamp.init(rfc3339:)) ?? .now())
    }
}
