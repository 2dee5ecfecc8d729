import HTTPTypes
import Hummingbird

extension HTTPField.Name {
    static let logPosition = Self("Log-Position")!
}

/// Read your writes (the README, "Read your writes"): every response, problems included, says how far the read
/// models are; a request with `?min_position=P` first waits (up to a bound) until they
/// include P, else answers 504 `projection_lag`.
struct LogPositionMiddleware<Context: RequestContext>: RouterMiddleware {
    let progress: ProjectionProgress
    let waitTimeout: Duration

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var response: Response
        do {
            try await waitForMinimumPosition(request)
            response = try await next(request, context)
        } catch let error as any HTTPResponseError {
            response = try error.response(from: request, context: context)
        }
        response.headers[.logPosition] = String(progress.position)
        return response
    }

    private func waitForMinimumPosition(_ request: Request) async throws {
        guard let text = request.uri.queryParameters["min_position"] else { return }
        guard let target = Int64(text), target >= 0 else {
            throw Problem.invalidParameter("min_position", "must be a non-negative integer")
        }
        guard await progress.wait(for: target, timeout: waitTimeout) else { throw Problem.projectionLag(target) }
    }
}
