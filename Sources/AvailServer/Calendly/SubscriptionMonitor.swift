import AvailClient
import AvailCore
import AvailStore
import Foundation
import Logging
import ServiceLifecycle

/// Checks every connected account's webhook subscription every `interval` (CONTRACT.md,
/// "Staying in sync with Calendly"): Calendly disables a subscription after 24 hours of
/// failed retries, and deletes one that answered 410, and tells nobody.
///
/// A `disabled` subscription is replaced: the new one first (on a new URL, since a disabled
/// one may still hold its URL; `/webhooks/calendly/{suffix}` is the same endpoint), then the
/// old one deleted, so there is never a moment with none. A missing one is recreated. Each
/// replacement is an `expert.calendly_subscription_set` event naming what it replaces and
/// since when Calendly was retrying; `onReplaced` hears of it (reconciliation of the gap).
final class SubscriptionMonitor: Service, Sendable {
    let subscriptions: CalendlySubscriptions
    let readModels: ReadModels
    let interval: Duration
    let metrics: AvailMetrics
    let logger: Logger
    let onReplaced: @Sendable (_ expertID: String, _ since: Timestamp?) async -> Void

    init(
        subscriptions: CalendlySubscriptions, readModels: ReadModels, interval: Duration, metrics: AvailMetrics, logger: Logger,
        onReplaced: @escaping @Sendable (_ expertID: String, _ since: Timestamp?) async -> Void = { _, _ in }
    ) {
        self.subscriptions = subscriptions
        self.readModels = readModels
        self.interval = interval
        self.metrics = metrics
        self.logger = logger
        self.onReplaced = onReplaced
    }

    func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                await self.checkAll()
                try? await Task.sleep(for: self.interval)
            }
        }
    }

    /// One pass over every connected account; the gauge counts what it found.
    func checkAll() async {
        var counts = ["active": 0, "disabled": 0, "missing": 0]
        let experts: [ExpertProfile]
        do {
            experts = try await readModels.experts().values.filter { $0.calendlyAccount?.status == .connected }.sorted { $0.id < $1.id }
        } catch {
            logger.warning("calendly subscription check could not read the experts", metadata: ["error": "\(error)"])
            return
        }
        for expert in experts where !Task.isCancelled {
            counts[await check(expert), default: 0] += 1
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
        if let found, found.state == "active" { return "active" }
        let reason = found == nil ? "missing" : "disabled"
        logger.warning(
            "calendly subscription \(reason); replacing it",
            metadata: ["expert": "\(expert.id)", "subscription": "\(known.uri)", "retry_started_at": "\(found?.retryStartedAt ?? "-")"])
        let since = found?.retryStartedAt.flatMap(Timestamp.init(rfc3339:))
        if await subscriptions.replace(for: expert, old: known.uri, reason: reason, retryStartedAt: since, deleteOld: found != nil) {
            await onReplaced(expert.id, since)
        }
        return reason
    }
}
