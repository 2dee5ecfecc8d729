import AvailCore
import AvailStore
import Foundation
import Hummingbird
import Logging
import NIOCore

/// Who is asking: resolved from `Authorization: Bearer …` on every authenticated route.
enum Principal: Sendable, Equatable {
    /// No token checked (public routes).
    case anonymous
    /// The admin token: everything.
    case admin
    /// An expert token: that expert and its appointments, nothing else.
    case expert(String)

    /// Refuses all but the admin: 403, because the route itself is no secret.
    func requireAdmin() throws {
        switch self {
        case .admin: return
        case .expert: throw Problem(.forbidden, code: "forbidden", detail: "this needs the admin token")
        case .anonymous: throw Problem.unauthorized()
        }
    }

    /// Refuses access to another expert's resources with the 404 an unknown id gets, so ids
    /// cannot be probed with a token. (Only authenticated routes ask, so `.anonymous` never
    /// gets this far.)
    func requireAccess(toExpert id: String) throws {
        guard mayAccess(expert: id) else { throw Problem.notFound("no expert \(id)") }
    }

    func mayAccess(expert id: String?) -> Bool {
        switch self {
        case .admin: true
        case .expert(let own): own == id
        case .anonymous: false
        }
    }

    /// As `requireAccess(toExpert:)` for an appointment; unassigned ones are the admin's.
    func requireAccess(to appointment: Appointment) throws {
        guard mayAccess(expert: appointment.expertID) else { throw Problem.notFound("no appointment \(appointment.id)") }
    }
}

/// availd's request context: Hummingbird's core storage and the principal.
struct AvailRequestContext: RequestContext {
    var coreContext: CoreRequestContextStorage
    var principal: Principal = .anonymous

    init(source: ApplicationRequestContextSource) {
        self.coreContext = .init(source: source)
    }
}

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

/// Admin-only routes: an expert token gets 403 `forbidden`.
struct AdminOnlyMiddleware: RouterMiddleware {
    typealias Context = AvailRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        try context.principal.requireAdmin()
        return try await next(request, context)
    }
}

extension Request {
    var bearerToken: String? {
        guard let value = headers[.authorization] else { return nil }
        let parts = value.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        let token = parts[1].trimmingCharacters(in: .whitespaces)
        return token.isEmpty ? nil : token
    }
}
