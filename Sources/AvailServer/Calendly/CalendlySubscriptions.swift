import AvailClient
import AvailCore
import AvailStore
import Logging

/// The webhook subscription of each expert's own Calendly account: created (or adopted) when
/// the account is connected, deleted when it is disconnected. Without one, Calendly sends
/// availd nothing about that account.
///
/// A user-scoped subscription is created with that user's token, to
/// `{public-url}/webhooks/calendly`, for the invitee and no-show events. Calendly allows one
/// subscription per URL: its 409 "Already Exists" means the one in its list is adopted. For an
/// OAuth app, Calendly signs deliveries with the app's webhook signing key (give it to `serve`
/// as a `--signing-key`), not one passed here.
struct CalendlySubscriptions: Sendable {
    let connections: CalendlyConnections
    let readModels: any ReadModelQueries
    let commands: Commands
    let logger: Logger

    /// The URL availd registers for deliveries.
    var callbackURL: String { connections.publicURL.value + "/webhooks/calendly" }

    /// Creates or adopts the subscription of `expertID`'s account and records it. A failure is
    /// logged and leaves the connection standing without one (the page shows none).
    func ensure(for expertID: String) async {
        do {
            guard let expert = try await readModels.expert(id: expertID), let account = expert.calendlyAccount,
                let organization = account.organizationURI
            else { return }
            let url = callbackURL
            let (subscription, adopted) = try await connections.perform(for: expert) { client throws(CalendlyError) in
                try await client.ensureWebhookSubscription(url: url, organization: organization, user: account.userURI)
            }
            try await commands.record(.subscriptionSet(CalendlySubscriptionSet(
                expertID: expertID, userURI: account.userURI, subscriptionURI: subscription.uri, callbackURL: subscription.callbackURL,
                state: subscription.state, adopted: adopted, at: .now())))
            logger.info(
                "calendly subscription \(adopted ? "adopted" : "created")",
                metadata: ["expert": "\(expertID)", "subscription": "\(subscription.uri)"])
        } catch {
            logger.warning("calendly subscription could not be created", metadata: ["expert": "\(expertID)", "error": "\(error)"])
        }
    }

    /// Replaces the subscription `old`: a new one on a new URL first, recorded, then the old one
    /// deleted (when it still exists). The new one, once recorded; nil when it could not be made.
    func replace(
        for expert: ExpertProfile, old: String, reason: String, retryStartedAt: Timestamp?, deleteOld: Bool
    ) async -> CalendlyWebhookSubscription? {
        guard let account = expert.calendlyAccount, let organization = account.organizationURI else { return nil }
        // `/webhooks/calendly/{suffix}`: a suffix of 9 URL-safe characters.
        let url = callbackURL + "/r" + Secret.generate(byteCount: 6)
        let created: CalendlyWebhookSubscription
        do {
            created = try await connections.perform(for: expert) { client throws(CalendlyError) in
                try await client.createWebhookSubscription(url: url, organization: organization, user: account.userURI)
            }
            try await commands.record(.subscriptionSet(CalendlySubscriptionSet(
                expertID: expert.id, userURI: account.userURI, subscriptionURI: created.uri, callbackURL: created.callbackURL,
                state: created.state, adopted: false, replaces: old, reason: reason, retryStartedAt: retryStartedAt, at: .now())))
            logger.warning(
                "calendly subscription replaced",
                metadata: ["expert": "\(expert.id)", "old": "\(old)", "new": "\(created.uri)", "reason": "\(reason)"])
        } catch {
            logger.error("calendly subscription could not be replaced", metadata: ["expert": "\(expert.id)", "error": "\(error)"])
            return nil
        }
        if deleteOld {
            do {
                try await connections.perform(for: expert) { client throws(CalendlyError) in try await client.deleteWebhookSubscription(uri: old) }
            } catch {
                logger.warning("the replaced calendly subscription could not be deleted", metadata: ["expert": "\(expert.id)", "error": "\(error)"])
            }
        }
        return created
    }

    /// Deletes the subscription of `expert`'s account at Calendly (before its token is revoked).
    func remove(for expert: ExpertProfile) async {
        guard let subscription = expert.calendlyAccount?.subscription else { return }
        do {
            try await connections.perform(for: expert) { client throws(CalendlyError) in
                try await client.deleteWebhookSubscription(uri: subscription.uri)
            }
        } catch {
            logger.warning(
                "calendly subscription could not be deleted", metadata: ["expert": "\(expert.id)", "error": "\(error)"])
        }
    }
}
