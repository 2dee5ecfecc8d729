import AvailClient
import AvailCore
import Foundation
import Logging
import ServiceLifecycle
import Synchronization

/// Sends the stand-in's webhooks as Calendly does: each after a random delay (so the two
/// halves of a reschedule arrive in either order), some of them twice. Without a delay they
/// are sent at once, before the API call that caused them answers.
final class WebhookDispatcher: Service, Sendable {
    struct Settings: Codable, Sendable {
        var url: String
        var signingKey: String
        /// Each delivery waits a random 0…this many milliseconds.
        var maxDelayMilliseconds: Int?
        /// Every n-th delivery is sent a second time (0 or absent: never).
        var duplicateEvery: Int?

        enum CodingKeys: String, CodingKey {
            case url
            case signingKey = "signing_key", maxDelayMilliseconds = "max_delay_ms", duplicateEvery = "duplicate_every"
        }
    }

    private struct Pending {
        var body: Data
        var due: ContinuousClock.Instant
    }

    private struct State {
        var settings: Settings?
        var pending: [Pending] = []
        var sent = 0
        var inFlight = 0
    }

    private let state = Mutex(State())
    private let logger: Logger

    init(logger: Logger) {
        self.logger = logger
    }

    func configure(_ settings: Settings) {
        state.withLock { $0.settings = settings }
    }

    /// Deliveries queued or being sent.
    var outstanding: Int { state.withLock { $0.pending.count + $0.inFlight } }

    /// Sends now (no delay configured) or queues `body`.
    func deliver(_ body: Data) async {
        let (settings, copies): (Settings?, Int) = state.withLock { state in
            state.sent += 1
            let every = state.settings?.duplicateEvery ?? 0
            return (state.settings, every > 0 && state.sent % every == 0 ? 2 : 1)
        }
        guard let settings else { return }
        guard let maxDelay = settings.maxDelayMilliseconds, maxDelay > 0 else {
            for _ in 0..<copies { await send(body, settings) }
            return
        }
        state.withLock { state in
            for _ in 0..<copies {
                state.pending.append(Pending(body: body, due: .now + .milliseconds(Int.random(in: 0...maxDelay))))
            }
        }
    }

    func run() async throws {
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            let (due, settings): ([Pending], Settings?) = state.withLock { state in
                let now = ContinuousClock.now
                let due = state.pending.filter { $0.due <= now }
                state.pending.removeAll { $0.due <= now }
                state.inFlight += due.count
                return (due, state.settings)
            }
            for item in due {
                if let settings { await send(item.body, settings) }
                state.withLock { $0.inFlight -= 1 }
            }
            try? await Task.sleep(for: .milliseconds(5))
        }
    }

    private func send(_ body: Data, _ settings: Settings) async {
        var base = settings.url
        if base.hasSuffix("/webhooks/calendly") { base.removeLast("/webhooks/calendly".count) }
        do {
            let answer = try await WebhookSender(baseURL: base, signingKey: settings.signingKey, timeout: .seconds(10)).send(body)
            logger.debug("webhook delivered", metadata: ["webhook.status": "\(answer.status)"])
        } catch {
            // Calendly retries for a day; the stand-in only says so.
            logger.warning("webhook not delivered", metadata: ["error": "\(error)"])
        }
    }
}
