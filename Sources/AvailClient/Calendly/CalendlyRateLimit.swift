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
