import AvailCore
import AvailStore
import Hummingbird

/// Resolves the bearer token to a principal, or answers 401 `unauthorized`.
///
/// The admin token is compared in constant time; an expert token is looked up by its id and
/// its secret's hash compared in constant time, so neither leaks through timing.
struct AuthenticationMiddleware: RouterMiddleware {
    typealias Context = AvailRequestContext
    let adminToken: String
    let tokens: any ExpertTokenStore

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        var context = context
        if let bearer = request.bearerToken {
            context.principal = try await principal(for: bearer)
        } else if let session = request.cookies[WebSession.sessionCookie]?.value, !session.isEmpty {
            // The settings page's own calls: signed in by cookie, so a change needs the CSRF token.
            if !request.method.isSafe { try WebSession.checkCSRF(request, presented: request.headers[WebSession.csrfHeader]) }
            context.principal = try await principal(for: session)
        } else {
            throw Problem.unauthorized()
        }
        return try await next(request, context)
    }

    func principal(for bearer: String?) async throws -> Principal {
        guard let bearer else { throw Problem.unauthorized() }
        if Secret.constantTimeEquals(bearer, adminToken) { return .admin }
        guard let token = ExpertToken(bearer: bearer), let expert = try await tokens.expert(for: token) else {
            throw Problem.unauthorized()
        }
        return .expert(expert)
    }
}
