import AvailClient
import Foundation
import HTTPTypes
import Hummingbird
import Synchronization

/// Calendly's rate limits, per user in fixed one-minute
/// windows: every API request, `POST /invitees` apart and tighter, `POST /oauth/token` apart.
final class StandInRateLimits: Sendable {
    struct Limits: Sendable {
        var perMinute: Int
        var inviteesPerMinute: Int
        var tokenPerMinute: Int
    }

    /// One window's verdict, and the headers that tell it.
    struct Verdict: Sendable {
        var allowed: Bool
        var limit: Int
        var remaining: Int
        var reset: Int

        var headers: HTTPFields {
            [
                HTTPField.Name("X-RateLimit-Limit")!: String(limit), HTTPField.Name("X-RateLimit-Remaining")!: String(remaining),
                HTTPField.Name("X-RateLimit-Reset")!: String(reset),
            ]
        }
    }

    enum Bucket: String, Sendable {
        case api, invitees, token
    }

    private struct Window {
        var started: ContinuousClock.Instant
        var count: Int
    }

    private struct State {
        var limits: Limits
        var windows: [String: Window] = [:]
    }

    private let state: Mutex<State>

    init(_ limits: Limits) {
        state = Mutex(State(limits: limits))
    }

    /// New limits, and new windows for everyone.
    func set(perMinute: Int?, inviteesPerMinute: Int?, tokenPerMinute: Int?) {
        state.withLock { state in
            if let perMinute { state.limits.perMinute = perMinute }
            if let inviteesPerMinute { state.limits.inviteesPerMinute = inviteesPerMinute }
            if let tokenPerMinute { state.limits.tokenPerMinute = tokenPerMinute }
            state.windows = [:]
        }
    }

    /// Counts one request of `key` against `bucket`'s limit.
    func take(_ bucket: Bucket, _ key: String) -> Verdict {
        state.withLock { state in
            let limit: Int
            switch bucket {
            case .api: limit = state.limits.perMinute
            case .invitees: limit = state.limits.inviteesPerMinute
            case .token: limit = state.limits.tokenPerMinute
            }
            let now = ContinuousClock.now, id = "\(bucket.rawValue) \(key)"
            var window = state.windows[id].flatMap { now - $0.started < .seconds(60) ? $0 : nil } ?? Window(started: now, count: 0)
            window.count += 1
            state.windows[id] = window
            let left = Duration.seconds(60) - (now - window.started)
            let reset = Int((Double(left.components.seconds) + Double(left.components.attoseconds) / 1e18).rounded(.up))
            return Verdict(allowed: window.count <= limit, limit: limit, remaining: Swift.max(0, limit - window.count), reset: Swift.max(1, reset))
        }
    }
}

/// Counts API requests (not `/_sim`, not `/oauth`) against their user's limits and sends the
/// `X-RateLimit-*` headers with every answer; past a limit, 429 Too Many Requests. A request
/// without a valid token has no user to count against: it is answered 401 without the headers.
struct RateLimitMiddleware<Context: RequestContext>: RouterMiddleware {
    let state: StandInState

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        let header = request.headers[.authorization] ?? ""
        guard !path.hasPrefix("/_sim"), !path.hasPrefix("/oauth/"), header.hasPrefix("Bearer "),
            case .member(let me) = state.authenticate(token: String(header.dropFirst(7)))
        else { return try await next(request, context) }
        var verdict = state.rateLimits.take(.api, me.user.uri)
        if verdict.allowed, request.method == .post, path == "/invitees" {
            verdict = state.rateLimits.take(.invitees, me.user.uri)
        }
        guard verdict.allowed else {
            throw CalendlyProblem(
                .tooManyRequests, "Too Many Requests", "You have exceeded the rate limit. Try again in \(verdict.reset) seconds.",
                headers: verdict.headers)
        }
        do {
            var response = try await next(request, context)
            response.headers.append(contentsOf: verdict.headers)
            return response
        } catch var problem as CalendlyProblem {
            problem.headers.append(contentsOf: verdict.headers)
            throw problem
        }
    }
}
