import AvailClient
import AvailCore
import AvailStore
import Foundation
import Logging
import ServiceLifecycle

/// Whose appointments a recreated subscription may have missed, for reconciliation.
public enum ReconcileScope: Sendable, Hashable {
    /// The expert whose own Calendly account's subscription was replaced.
    case expert(String)
    /// Everyone connected through the organization token (`--calendly-token`), whose events an
    /// organization-token subscription (`availd calendly subscribe`) delivers: every expert
    /// with a Calendly integration but no own account connected.
    case organizationToken
}

/// Checks every webhook subscription availd knows every `interval` (the README, "Staying in
/// sync with Calendly"): each connected account's, with its own token, and the organization
/// token's (`OrganizationSubscriptions`), with that token. Calendly disables a subscription
/// after 24 hours of failed retries, and deletes one that answered 410, and tells nobody.
///
/// A `disabled` subscription is replaced: the new one first (on a new URL, since a disabled
/// one may still hold its URL; `/webhooks/calendly/{suffix}` is the same endpoint), then the
/// old one deleted, so there is never a moment with none. A missing one is recreated. Each
/// replacement of an account's is an `expert.calendly_subscription_set` event naming what it
/// replaces and since when Calendly was retrying; an organization-token one takes its old
/// one's place in `SubscriptionRecords`. `onReplaced` hears of either (reconciliation of the
/// gap). Every check that got Calendly's answer is kept as the subscription's last check.
final class SubscriptionMonitor: Service, Sendable {
    let subscriptions: CalendlySubscriptions
    let organization: OrganizationSubscriptions
    let readModels: any ReadModelQueries
    /// A key the daemon accepts (`--signing-key`, else the `<database>.signing-key` file's),
    /// for a replacement of an organization-token subscription: the old one's key is nowhere
    /// availd could read it back from.
    let signingKey: String
    let interval: Duration
    let metrics: AvailMetrics
    let logger: Logger
    let onReplaced: @Sendable (_ scope: ReconcileScope, _ since: Timestamp?) async -> Void

    init(
        subscriptions: CalendlySubscriptions, organization: OrganizationSubscriptions, readModels: any ReadModelQueries, signingKey: String,
        interval: Duration, metrics: AvailMetrics, logger: Logger,
        onReplaced: @escaping @Sendable (_ scope: ReconcileScope, _ since: Timestamp?) async -> Void = { _, _ in }
    ) {
        self.subscriptions = subscriptions
        self.organization = organization
        self.readModels = readModels
        self.signingKey = signingKey
        self.interval = interval
        self.metrics = metrics
        self.logger = logger
        self.onReplaced = onReplaced
    }

    var records: any SubscriptionStore { organization.records }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await self.checkAll()
                try? await Task.sleep(for: self.interval)
            }
        }
    }

    /// One pass over every connected account and every organization-token subscription; the
    /// gauge counts what it found (`unknown`: Calendly could not be asked).
    func checkAll() async {
        var counts = ["active": 0, "disabled": 0, "missing": 0, "unknown": 0]
        let experts: [ExpertProfile]
        let organizationOnes: [OrganizationSubscription]
        do {
            experts = try await readModels.experts().values.filter { $0.calendlyAccount?.status == .connected }.sorted { $0.id < $1.id }
            organizationOnes = try await records.organizationSubscriptions()
        } catch {
            logger.warning("calendly subscription check could not read what to check", metadata: ["error": "\(error)"])
            return
        }
        for expert in experts where !Task.isCancelled {
            counts[await check(expert), default: 0] += 1
        }
        for subscription in organizationOnes where !Task.isCancelled {
            counts[await check(subscription), default: 0] += 1
        }
        metrics.calendlySubscriptions(counts)
    }

    /// Checks one expert's subscription, replacing it if it must; the state it was found in.
    func check(_ expert: ExpertProfile) async -> String {
        guard let account = expert.calendlyAccount, let organization = account.organizationURI else { return "missing" }
        guard let known = account.subscription else {
            await subscriptions.ensure(for: expert.id)
            return "missing"
        }
        let listed: [CalendlyWebhookSubscription]
        do {
            listed = try await subscriptions.connections.perform(for: expert) { client throws(CalendlyError) in
                try await client.webhookSubscriptions(organization: organization, user: account.userURI)
            }
        } catch {
            logger.warning("calendly subscription check failed", metadata: ["expert": "\(expert.id)", "error": "\(error)"])
            return known.state
        }
        let found = listed.first { $0.uri == known.uri }
        let state = found == nil ? "missing" : found?.state == "active" ? "active" : "disabled"
        await keep(SubscriptionCheck(subscriptionURI: known.uri, expertID: expert.id, state: state, checkedAt: .now()))
        if state == "active" { return state }
        logger.warning(
            "calendly subscription \(state); replacing it",
            metadata: ["expert": "\(expert.id)", "subscription": "\(known.uri)", "retry_started_at": "\(found?.retryStartedAt ?? "-")"])
        let since = found?.retryStartedAt.flatMap(Timestamp.init(rfc3339:))
        if let new = await subscriptions.replace(for: expert, old: known.uri, reason: state, retryStartedAt: since, deleteOld: found != nil) {
            await keep(SubscriptionCheck(subscriptionURI: new.uri, expertID: expert.id, state: new.state, checkedAt: .now()))
            await onReplaced(.expert(expert.id), since)
        }
        return state
    }

    /// Checks one organization-token subscription with that token, replacing it if it must;
    /// the state it was found in.
    func check(_ subscription: OrganizationSubscription) async -> String {
        let listed: [CalendlyWebhookSubscription]
        do {
            listed = try await organization.listed(like: subscription)
        } catch {
            logger.warning(
                "calendly organization subscription check failed", metadata: ["subscription": "\(subscription.uri)", "error": "\(error)"])
            return "unknown"
        }
        let found = listed.first { $0.uri == subscription.uri }
        let state = found == nil ? "missing" : found?.state == "active" ? "active" : "disabled"
        await keep(SubscriptionCheck(subscriptionURI: subscription.uri, expertID: nil, state: state, checkedAt: .now()))
        if state == "active" { return state }
        logger.warning(
            "calendly organization subscription \(state); replacing it",
            metadata: ["subscription": "\(subscription.uri)", "retry_started_at": "\(found?.retryStartedAt ?? "-")"])
        let replaced = await organization.replace(
            subscription, reason: state, signingKey: signingKey, fallbackBase: subscriptions.connections.publicURL.value,
            deleteOld: found != nil)
        if replaced != nil {
            await onReplaced(.organizationToken, found?.retryStartedAt.flatMap(Timestamp.init(rfc3339:)))
        }
        return state
    }

    /// Keeps a check's result; one that cannot be kept is only logged (the next check tries again).
    private func keep(_ check: SubscriptionCheck) async {
        do {
            try await records.record(check)
        } catch {
            logger.warning("calendly subscription check could not be recorded", metadata: ["subscription": "\(check.subscriptionURI)", "error": "\(error)"])
        }
    }
}
