import Hummingbird

/// Counts every answer and how long it took, by method, route template (`/experts/{id}`, never
/// the path itself, so an expert id or an email in a path makes no series) and status:
/// `availd_http_requests_total`, `availd_http_request_errors_total` (refusals, 4xx and 5xx),
/// `availd_http_request_duration_seconds`. A route that matched nothing is `unmatched`.
/// Outside the load shedding, so its 503s count too.
struct HTTPMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: AvailMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        var status = 500
        defer {
            metrics.httpRequest(method: request.method.rawValue, route: route(context), status: status, took: ContinuousClock.now - start)
        }
        do {
            let response = try await next(request, context)
            status = response.status.code
            return response
        } catch let error as any HTTPResponseError {
            status = error.status.code
            throw error
        }
    }

    /// The matched route's template; Hummingbird names a request that matched none `NotFound`.
    private func route(_ context: Context) -> String {
        context.endpointPath.flatMap { $0.hasPrefix("/") ? $0 : nil } ?? "unmatched"
    }
}
