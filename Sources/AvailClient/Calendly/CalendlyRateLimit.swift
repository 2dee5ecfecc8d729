import Synchronization

extension CalendlyClient {
    /// How long a 429 asks to wait: `X-RateLimit-Reset` seconds, at most `maximum` (and an
    /// hour). A reset that is missing or no sane number of seconds (`inf`, `nan`, negative,
    /// text) waits one second: Calendly never sends one, and converting it must not trap.
    static func rateLimitWait(reset header: String?, maximum: Duration) -> Duration {
        let asked = header.flatMap(Double.init).flatMap { $0.isFinite && $0 >= 0 ? $0 : nil } ?? 1
        let bound = Double(maximum.components.seconds) + Double(maximum.components.attoseconds) / 1e18
        return .milliseconds(Int64(max(0, min(asked, bound, 3600)) * 1000))
    }
}

/// Paces the calls made with one Calendly user's token by the `X-RateLimit-*` headers of the
/// answers: once fewer than `reserveFraction` of the window's limit is left, the next call
/// waits for the window to reset. Background work (reconciliation) uses one, so the requests
/// an expert's page or a booking makes with the same token are not the ones refused.
public final class CalendlyRateLimitPacer: Sendable {
    public let reserveFraction: Double
    private struct State {
        var limit: Int?
        var remaining: Int?
        var resetAt: ContinuousClock.Instant?
        var waited: Duration = .zero
    }
    private let state = Mutex(State())

    public init(reserveFraction: Double) {
        self.reserveFraction = min(max(reserveFraction, 0), 0.9)
    }

    /// How long this pacer has made calls wait, in all.
    public var totalWait: Duration { state.withLock { $0.waited } }

    /// Waits, if the last answer said the window is (nearly) spent, until it resets.
    public func beforeRequest() async {
        let wait: Duration? = state.withLock { state in
            guard let remaining = state.remaining, let resetAt = state.resetAt else { return nil }
            let reserve = max(1, Int(Double(state.limit ?? 0) * reserveFraction))
            let now = ContinuousClock.now
            guard remaining < reserve, resetAt > now else { return nil }
            state.remaining = nil
            state.waited += resetAt - now
            return resetAt - now
        }
        guard let wait else { return }
        try? await Task.sleep(for: wait)
    }

    /// What an answer's headers said.
    public func record(limit: String?, remaining: String?, reset: String?, maximum: Duration) {
        guard let remaining = remaining.flatMap(Int.init) else { return }
        let wait = CalendlyClient.rateLimitWait(reset: reset, maximum: maximum)
        state.withLock { state in
            state.limit = limit.flatMap(Int.init) ?? state.limit
            state.remaining = remaining
            state.resetAt = ContinuousClock.now + wait
        }
    }
}
