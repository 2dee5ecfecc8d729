import AsyncHTTPClient
import AvailClient
import AvailCore
import AvailWorkload
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import Synchronization

/// A webhook subscription as Calendly keeps it. The signing key is never answered.
struct StandInSubscription: Sendable {
    var uuid: String
    var callbackURL: String
    var createdAt: String
    var updatedAt: String
    var retryStartedAt: String?
    var state: String
    var events: [String]
    var scope: String
    var organization: String
    var user: String?
    var group: String?
    var creator: String
    var signingKey: String
    /// Failed deliveries since the last good one.
    var failures = 0

    var uri: String { "https://api.calendly.com/webhook_subscriptions/\(uuid)" }
    var isActive: Bool { state == "active" }
}

/// The subscriptions, and their deliveries with the `/_sim/webhooks/fail` and `/drop` switches.
/// Deliveries to subscriptions are sent one after the other before the API call that caused
/// them answers (as `WebhookDispatcher` does without a delay), so tests see them at once.
final class StandInWebhooks: Sendable {
    /// The event names Calendly's webhooks documentation lists; any other is refused at creation.
    static let eventNames: Set<String> = [
        "invitee.created", "invitee.canceled", "invitee_no_show.created", "invitee_no_show.deleted",
        "event_type.created", "event_type.updated", "event_type.deleted", "routing_form_submission.created",
        "meeting_recap.created", "meeting_recap.updated", "meeting_recap.deleted",
        "contact.created", "contact.updated", "contact.deleted",
    ]
    /// Real (not switched) failures in a row before a subscription is disabled: the stand-in's
    /// "24 hours of retries".
    static let defaultFailuresBeforeDisable = 5

    struct Counts: Sendable {
        var sent = 0
        var failed = 0
        var dropped = 0
    }

    /// One change to a subscription, in the order they happened (`GET /_sim/webhooks/history`):
    /// lets a test see that a replacement was created before the old one was deleted.
    struct Change: Sendable {
        /// `created`, `disabled` or `deleted`.
        var action: String
        var uri: String
        var callbackURL: String
    }

    private struct State {
        var subscriptions: [StandInSubscription] = []
        /// URL → failed deliveries after which its subscriptions are disabled.
        var failing: [String: Int] = [:]
        var dropFraction = 0.0
        /// Only deliveries to this URL are dropped; nil: to any.
        var dropURL: String?
        var random = SplitMix64(seed: 0)
        var counts: [String: Counts] = [:]
        var history: [Change] = []
    }

    private let state = Mutex(State())
    private let logger: Logger
    /// No redirect is followed: Calendly counts one as a failure.
    private static let client = HTTPClient(
        eventLoopGroup: HTTPClient.defaultEventLoopGroup,
        configuration: .init(redirectConfiguration: .disallow, timeout: .init(connect: .seconds(10), read: .seconds(15))))

    init(logger: Logger) {
        self.logger = logger
    }

    /// Adds `subscription`, or nil when one for the same URL and the same user or organization
    /// scope exists, in any state: whether a disabled one still blocks its URL is not
    /// documented, and the stricter answer is that it does.
    func add(_ subscription: StandInSubscription) -> StandInSubscription? {
        state.withLock { state in
            let clash = state.subscriptions.contains {
                $0.callbackURL == subscription.callbackURL && $0.scope == subscription.scope && $0.organization == subscription.organization
                    && $0.user == subscription.user && $0.group == subscription.group
            }
            guard !clash else { return nil }
            state.subscriptions.append(subscription)
            state.history.append(Change(action: "created", uri: subscription.uri, callbackURL: subscription.callbackURL))
            return subscription
        }
    }

    var all: [StandInSubscription] { state.withLock { $0.subscriptions } }

    func subscription(uuid: String) -> StandInSubscription? {
        state.withLock { $0.subscriptions.first { $0.uuid == uuid } }
    }

    func remove(uuid: String) {
        state.withLock { state in
            for removed in state.subscriptions where removed.uuid == uuid {
                state.history.append(Change(action: "deleted", uri: removed.uri, callbackURL: removed.callbackURL))
            }
            state.subscriptions.removeAll { $0.uuid == uuid }
        }
    }

    var history: [Change] { state.withLock { $0.history } }

    func fail(url: String, after: Int) {
        state.withLock { $0.failing[url] = max(1, after) }
    }

    func drop(fraction: Double, seed: UInt64, url: String? = nil) {
        state.withLock {
            $0.dropFraction = min(1, max(0, fraction))
            $0.dropURL = url
            $0.random = SplitMix64(seed: seed)
        }
    }

    var counts: [String: Counts] { state.withLock { $0.counts } }

    private enum Plan {
        case send(StandInSubscription)
        case fail(StandInSubscription)
    }

    /// Sends `event` about `booking` to every active subscription whose scope covers the event
    /// type's owner (in `ownerOrganization`) and whose events include it.
    func deliver(_ event: String, _ booking: StandInBooking, ownerOrganization: String?) async {
        let plans: [Plan] = state.withLock { state in
            var plans: [Plan] = []
            for subscription in state.subscriptions where subscription.isActive && subscription.events.contains(event) {
                let covers: Bool
                switch subscription.scope {
                case "user": covers = subscription.user == booking.host.uri
                case "organization": covers = ownerOrganization != nil && subscription.organization == ownerOrganization
                // The seed has no groups: no event type is ever a group's.
                default: covers = false
                }
                guard covers else { continue }
                if state.failing[subscription.callbackURL] != nil {
                    plans.append(.fail(subscription))
                } else if state.dropFraction > 0, state.dropURL.map({ $0 == subscription.callbackURL }) ?? true,
                    Double(state.random.next() >> 11) / Double(1 << 53) < state.dropFraction {
                    state.counts[subscription.callbackURL, default: Counts()].dropped += 1
                } else {
                    plans.append(.send(subscription))
                }
            }
            return plans
        }
        for plan in plans {
            switch plan {
            case .fail(let subscription):
                record(subscription, status: 500)
            case .send(let subscription):
                let status = await send(event, booking, to: subscription)
                record(subscription, status: status)
            }
        }
    }

    /// Counts the outcome; a 410 deletes the subscription, enough failures disable it.
    private func record(_ subscription: StandInSubscription, status: Int?) {
        let now = "\(Timestamp.now())"
        state.withLock { state in
            let url = subscription.callbackURL
            if let status, (200..<300).contains(status) {
                state.counts[url, default: Counts()].sent += 1
                if let index = state.subscriptions.firstIndex(where: { $0.uuid == subscription.uuid }) {
                    state.subscriptions[index].failures = 0
                    state.subscriptions[index].retryStartedAt = nil
                }
                return
            }
            state.counts[url, default: Counts()].failed += 1
            guard let index = state.subscriptions.firstIndex(where: { $0.uuid == subscription.uuid }) else { return }
            if status == 410 {
                let removed = state.subscriptions.remove(at: index)
                state.history.append(Change(action: "deleted", uri: removed.uri, callbackURL: removed.callbackURL))
                return
            }
            var found = state.subscriptions[index]
            found.failures += 1
            if found.retryStartedAt == nil { found.retryStartedAt = now }
            if found.isActive, found.failures >= state.failing[url] ?? Self.defaultFailuresBeforeDisable {
                found.state = "disabled"
                found.updatedAt = now
                state.history.append(Change(action: "disabled", uri: found.uri, callbackURL: found.callbackURL))
            }
            state.subscriptions[index] = found
        }
    }

    /// The receiver's status; nil when it did not answer in time.
    private func send(_ event: String, _ booking: StandInBooking, to subscription: StandInSubscription) async -> Int? {
        do {
            let body = try StandInShapes.data([
                "event": event, "created_at": "\(Timestamp.now())", "created_by": subscription.creator,
                "payload": StandInShapes.webhookPayload(booking),
            ])
            let header = WebhookSignature.sign(body, key: subscription.signingKey, timestamp: Timestamp.now().unixSeconds)
            var request = HTTPClientRequest(url: subscription.callbackURL)
            request.method = .POST
            request.headers.add(name: "Content-Type", value: "application/json")
            request.headers.add(name: "Calendly-Webhook-Signature", value: header.headerValue)
            request.body = .bytes(ByteBuffer(bytes: body))
            let response = try await Self.client.execute(request, timeout: .seconds(15))
            _ = try? await response.body.collect(upTo: 1 << 20)
            return Int(response.status.code)
        } catch {
            logger.warning("subscription delivery failed", metadata: ["url": "\(subscription.callbackURL)", "error": "\(error)"])
            return nil
        }
    }
}
