import Hummingbird
import Synchronization

/// Past `limit` requests in flight, answers 503 `overloaded` with `Retry-After` at once rather
/// than queueing without end. Health, readiness and metrics are always answered: they are
/// how an operator sees the overload; so are the settings page's event streams, which last as
/// long as the page is open.
struct LoadSheddingMiddleware<Context: RequestContext>: RouterMiddleware {
    let limit: Int
    let retryAfterSeconds: Int
    private let inFlight = InFlight()

    init(limit: Int, retryAfterSeconds: Int) {
        self.limit = limit
        self.retryAfterSeconds = retryAfterSeconds
    }

    final class InFlight: Sendable {
        let count = Atomic<Int>(0)
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        switch request.uri.path {
        case "/healthz", "/readyz", "/metrics":
            return try await next(request, context)
        case let path where path.hasSuffix("/availability-settings/stream"):
            // Event streams stay open as long as their page: the connection bound limits them.
            return try await next(request, context)
        default:
            break
        }
        defer { inFlight.count.wrappingSubtract(1, ordering: .relaxed) }
        guard inFlight.count.wrappingAdd(1, ordering: .relaxed).newValue <= limit else {
            throw Problem(.serviceUnavailable, code: .overloaded,
                          detail: "availd is answering \(limit) requests already; retry later",
                          headers: [.retryAfter: "\(retryAfterSeconds)"])
        }
        return try await next(request, context)
    }
}
