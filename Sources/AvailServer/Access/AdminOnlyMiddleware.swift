import Hummingbird

/// Admin-only routes: an expert token gets 403 `forbidden`.
struct AdminOnlyMiddleware: RouterMiddleware {
    typealias Context = AvailRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        try context.principal.requireAdmin()
        return try await next(request, context)
    }
}
