import Foundation
import NIOHTTP1

/// A webhook subscription as Calendly answers it.
public struct CalendlyWebhookSubscription: Codable, Sendable, Equatable {
    public var uri: String
    public var callbackURL: String
    /// `active` or `disabled` (after 24 hours of failed retries; never re-enabled).
    public var state: String
    public var events: [String]
    public var scope: String
    public var organization: String?
    public var user: String?
    public var retryStartedAt: String?
    public var createdAt: String?

    enum CodingKeys: String, CodingKey {
        case uri, state, events, scope, organization, user
        case callbackURL = "callback_url", retryStartedAt = "retry_started_at", createdAt = "created_at"
    }
}

extension CalendlyClient {
    /// The events availd subscribes to: invitees and no-shows.
    public static let subscribedEvents = ["invitee.created", "invitee.canceled", "invitee_no_show.created", "invitee_no_show.deleted"]

    /// `POST /webhook_subscriptions`, user-scoped, created with that user's token. Calendly's
    /// 409 "Already Exists" (one subscription per URL) is `.refused(status: 409, …)`.
    public func createWebhookSubscription(
        url: String, organization: String, user: String, events: [String] = subscribedEvents
    ) async throws(CalendlyError) -> CalendlyWebhookSubscription {
        try await createWebhookSubscription(url: url, organization: organization, scope: "user", user: user, events: events)
    }

    /// `POST /webhook_subscriptions` of any scope: `user` (with that user's own token) or
    /// `organization` (an owner's or admin's token). With a personal access token Calendly signs
    /// the deliveries with `signingKey`; for an OAuth app, with the app's key whatever is passed.
    public func createWebhookSubscription(
        url: String, organization: String, scope: String, user: String?, signingKey: String? = nil,
        events: [String] = subscribedEvents
    ) async throws(CalendlyError) -> CalendlyWebhookSubscription {
        var fields: [String: Any] = ["url": url, "events": events, "organization": organization, "scope": scope]
        if let user { fields["user"] = user }
        if let signingKey { fields["signing_key"] = signingKey }
        let body = try Self.json(fields)
        let (status, answer) = try await send(method: .POST, url: baseURL + "/webhook_subscriptions", body: body, idempotent: false)
        guard status == 201 || status == 200 else { throw Self.refusal(status, answer) }
        do {
            return try JSONDecoder().decode(CalendlyResource<CalendlyWebhookSubscription>.self, from: answer).resource
        } catch {
            throw .unexpected("the created subscription does not decode: \(error)")
        }
    }

    /// `GET /webhook_subscriptions?organization=&scope=user&user=`, every page.
    public func webhookSubscriptions(organization: String, user: String) async throws(CalendlyError) -> [CalendlyWebhookSubscription] {
        try await webhookSubscriptions(organization: organization, scope: "user", user: user)
    }

    /// `GET /webhook_subscriptions?organization=&scope=[&user=]`, every page.
    public func webhookSubscriptions(organization: String, scope: String, user: String?) async throws(CalendlyError)
        -> [CalendlyWebhookSubscription]
    {
        var query = ["organization": organization, "scope": scope, "count": "100"]
        if let user { query["user"] = user }
        var all: [CalendlyWebhookSubscription] = []
        for _ in 0..<100 {
            let page = try await get("/webhook_subscriptions", query: query, as: CalendlyPage<CalendlyWebhookSubscription>.self)
            all += page.collection
            guard let token = page.pagination?.nextPageToken, !token.isEmpty else { return all }
            query["page_token"] = token
        }
        throw .unexpected("webhook subscription pagination did not end")
    }

    /// `DELETE /webhook_subscriptions/{uuid}`; one already gone counts as deleted.
    public func deleteWebhookSubscription(uri: String) async throws(CalendlyError) {
        let path = try CalendlyURI.path(of: uri, shapes: [[.literal("webhook_subscriptions"), .id]])
        let (status, answer) = try await send(method: .DELETE, url: baseURL + path, body: nil)
        guard status == 204 || status == 200 || status == 404 else { throw Self.refusal(status, answer) }
    }

    /// Creates the user's subscription to `url`, or adopts the one Calendly already has for it.
    public func ensureWebhookSubscription(url: String, organization: String, user: String) async throws(CalendlyError)
        -> (subscription: CalendlyWebhookSubscription, adopted: Bool)
    {
        try await ensureWebhookSubscription(url: url, organization: organization, scope: "user", user: user)
    }

    /// Creates the subscription of `scope` to `url`, or adopts the one Calendly already has for
    /// it (its 409 "Already Exists"; an adopted one keeps the signing key it was created with).
    public func ensureWebhookSubscription(
        url: String, organization: String, scope: String, user: String?, signingKey: String? = nil
    ) async throws(CalendlyError) -> (subscription: CalendlyWebhookSubscription, adopted: Bool) {
        do {
            let created = try await createWebhookSubscription(
                url: url, organization: organization, scope: scope, user: user, signingKey: signingKey)
            return (created, false)
        } catch .refused(status: 409, let message) {
            let existing = try await webhookSubscriptions(organization: organization, scope: scope, user: user)
            guard let found = existing.first(where: { $0.callbackURL == url }) else {
                throw .unexpected("Calendly said a subscription to \(url) exists (\(message)) but lists none")
            }
            return (found, true)
        }
    }
}
